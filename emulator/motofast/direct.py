"""The direct path: a DynamoDB data call handed to moto's handler in this process, without
botocore's and moto's HTTP layers; and one cache of botocore's data files per search path.

Part of :mod:`emulator.motofast` (its docstring says why each exists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.environment import DYNAMODB_ITEM_OPERATIONS
from emulator.motofast.serialize import _FallbackError, _parsed

# The data-plane operations the direct path answers; every other call goes the generic way.
DIRECT_OPERATIONS = DYNAMODB_ITEM_OPERATIONS


def _wire_copy(value: Any) -> Any:
    """A copy of request parameters as moto's request parser hands them to its handler: the
    JSON types as they are, tuples as lists, blobs as bytes (the base64 of the wire decoded
    again); anything JSON cannot carry is refused as ``json.dumps`` refuses it."""
    kind = type(value)
    if kind is dict:
        return {key: _wire_copy(member) for key, member in value.items()}
    if kind is list or kind is tuple:
        return [_wire_copy(member) for member in value]
    if value is None or kind in (str, int, float, bool):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


class _Requests:
    """Request ids for the direct path's answers (moto's are random as well)."""

    def __init__(self) -> None:
        self.count = 0

    def next_id(self) -> str:
        self.count += 1
        return f"LCMDIRECT{self.count:023d}"


_REQUESTS = _Requests()


def _moto_handler(operation: str, params: dict[str, Any], region: str) -> Any:
    from moto.dynamodb.responses import DynamoHandler

    handler = DynamoHandler()
    handler.region = region
    handler.headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
    }
    handler.querystring = {}
    handler.current_account = handler.get_current_account()
    handler.response_headers = {}
    handler.uri_match = {}
    handler.params = params
    handler.body = params
    return handler


def _http_answer(client: Any, operation_model: Any, status: int, headers: Any, body: Any) -> Any:
    """What botocore makes of moto's (status, headers, body): the generic way, exactly."""
    from botocore.awsrequest import AWSResponse
    from botocore.endpoint import convert_to_response_dict
    from moto.core.botocore_stubber import MockRawResponse

    http = AWSResponse(client.meta.endpoint_url, status, headers, MockRawResponse(body))
    response = convert_to_response_dict(http, operation_model)
    protocol = client.meta.service_model.metadata["protocol"]
    parser = client._endpoint._response_parser_factory.create_parser(protocol)
    parsed = parser.parse(response, operation_model.output_shape)
    if http.status_code >= 300:
        client._endpoint._add_modeled_error_fields(response, parsed, operation_model, parser)
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    return http, parsed


def _direct_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    """One DynamoDB data call answered by moto's DynamoDB handler in this process.

    What botocore and moto do around the handler is skipped: endpoint resolution, request
    serialization, signing, moto's URL routing, request parsing and response serialization,
    botocore's response parsing. What a caller can observe is kept: the client's
    ``provide-client-params``, ``before-parameter-build`` and ``after-call`` events run (boto3's
    DynamoDB resource converts values in them), the request reaches moto as its request
    parser would hand it over (a copy, blobs as bytes: :func:`_wire_copy`), the answer is what
    botocore's parser returns for moto's answer (:func:`_parsed`; anything it does not know,
    and every error, goes through moto's serializer and botocore's parser), errors are raised
    as botocore raises them.
    """
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.core.utils import camelcase_to_underscores
    from werkzeug.exceptions import HTTPException

    operation_model = client._service_model.operation_model(operation_name)
    request_context = {
        "client_region": client.meta.region_name,
        "client_config": client.meta.config,
        "has_streaming_input": False,
        "auth_type": operation_model.resolved_auth_type,
        "unsigned_payload": operation_model.unsigned_payload,
        "auth_options": client._service_model.metadata.get("auth"),
    }
    api_params = client._emit_api_params(
        api_params=api_params, operation_model=operation_model, context=request_context
    )
    params = _wire_copy(api_params)
    handler = _moto_handler(operation_name, params, client.meta.region_name)
    method = getattr(handler, camelcase_to_underscores(operation_name))
    parsed: Any = None
    try:
        result = method()
    except ServiceException as error:
        status, headers, body = handler.serialized(ActionResult(error))
        http, parsed = _http_answer(client, operation_model, status, headers, body)
    except HTTPException as error:
        headers = dict(error.get_headers() or [])
        http, parsed = _http_answer(
            client, operation_model, error.code or 500, headers, error.description
        )
    else:
        request_id = _REQUESTS.next_id()
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": request_id}
        try:
            parsed = _parsed(operation_model.output_shape, result.result)
        except _FallbackError:
            status, headers, body = handler.serialized(result)
            http, parsed = _http_answer(client, operation_model, status, headers, body)
        else:
            http = AWSResponse(client.meta.endpoint_url, 200, headers, MockRawResponse(b""))
            parsed["ResponseMetadata"] = {
                "RequestId": request_id,
                "HTTPStatusCode": 200,
                "HTTPHeaders": headers,
                "RetryAttempts": 0,
            }
    service_id = client._service_model.service_id.hyphenize()
    client.meta.events.emit(
        f"after-call.{service_id}.{operation_name}",
        http_response=http,
        parsed=parsed,
        model=operation_model,
        context=request_context,
    )
    if http.status_code >= 300:
        code = parsed.get("Error", {}).get("Code")
        raise client.exceptions.from_code(code)(parsed, operation_name)
    return parsed


def _fast_api_call(generic: Callable[..., Any]) -> Callable[..., Any]:
    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        from moto.core.models import botocore_stubber

        if (
            operation_name in DIRECT_OPERATIONS
            and botocore_stubber.enabled
            and self.meta.service_model.service_name == "dynamodb"
        ):
            return _direct_call(self, operation_name, api_params)
        return generic(self, operation_name, api_params)

    return _make_api_call


# One cache of loaded botocore data (service models, endpoint rules, partitions) per search
# path list, shared by every Loader.
_LOADED: dict[tuple[str, ...], dict[Any, Any]] = {}


def _shared_loader_cache(generic: Callable[..., None]) -> Callable[..., None]:
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        generic(self, *args, **kwargs)
        self._cache = _LOADED.setdefault(tuple(self.search_paths), {})

    return init
