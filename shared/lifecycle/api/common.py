"""What every route shares: error answers, the caller's version, list cursors.

Routes raise exceptions; :func:`register_error_handlers` maps each type to its answer, once.
Two body shapes: ``Errors`` ``{"errors": [{field, message}]}`` and ``Problem``
``{"error": code, "message": text}``.

* 400 ``Errors`` (field ``body``): the body is not JSON or not an object, is flagged base64
  but is not, or is not UTF-8 (:class:`UnreadableBodyError`).
* 400 ``Problem``: :class:`BadRequestError` (``empty_body``, ``bad_customer_id``) and
  ``ImportFileError`` (``unreadable_file``).
* 404 ``Problem`` ``not_found``: ``CampaignNotFoundError``, :class:`CustomerNotFoundError`,
  no such route.
* 409 ``Problem``: ``already_exists`` (``CampaignExistsError``), ``version_conflict`` with
  ``current_version`` (``CampaignConflictError``), ``invalid_transition`` / ``archived``
  (``CampaignStateError``).
* 415 ``Problem`` ``unsupported_media_type``: a JSON route got another Content-Type (forms
  too; media types compare case-insensitively, see :class:`JsonBodyValidation`).
* 422 ``Errors``: Powertools' ``RequestValidationError`` (query, header and typed body
  fields), ``CampaignError``, :class:`InvalidFieldsError`, ``RenderError``.
* 428 ``Problem`` ``version_required``: :class:`VersionRequiredError`.
* 502 ``Problem`` ``provider_error``: ``ProviderError`` (test sends).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from lifecycle.api.models import CampaignView, Errors, Problem
from lifecycle.campaigns.model import CampaignError, FieldError
from lifecycle.campaigns.repository import (
    CampaignArchivedError,
    CampaignConflictError,
    CampaignExistsError,
    CampaignNotFoundError,
    CampaignStateError,
    StoredCampaign,
)
from lifecycle.core import jsonsafe
from lifecycle.core.observability import logger
from lifecycle.features.importer import ImportFileError
from lifecycle.messages.channels.email import ProviderError
from lifecycle.rules.records import CUSTOMER_ID_RE
from lifecycle.rules.templates import RenderError
from lifecycle.store.customers import get_customer

JSON = content_types.APPLICATION_JSON
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
_UNREADABLE_BODY = frozenset(
    {"json_invalid", "dict_type", "model_type", "model_attributes_type", "missing"}
)


class BadRequestError(ValueError):
    """The request cannot be read at all (e.g. an empty import); ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidFieldsError(ValueError):
    """Fields of a readable request are invalid (422, listed by field)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = list(errors)

    @classmethod
    def one(cls, field: str, message: str) -> InvalidFieldsError:
        return cls([FieldError(field, message)])


class UnreadableBodyError(ValueError):
    """The body is not text: flagged base64 but is not, or not UTF-8 (400 on ``body``)."""


class VersionRequiredError(ValueError):
    """A change was sent without the version it is based on."""


class CustomerNotFoundError(KeyError):
    """No customer with this id."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(customer_id)
        self.customer_id = customer_id


# ---------------------------------------------------------------- answers


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(status_code=status, content_type=JSON, body=body, headers=headers)


def errors_response(status: int, errors: Iterable[FieldError]) -> Response[Any]:
    """``{"errors": [{field, message}]}``."""
    return _json(status, {"errors": [{"field": e.field, "message": e.message} for e in errors]})


def problem_response(status: int, error: str, message: str, **extra: Any) -> Response[Any]:
    """``{"error": code, "message": text, ...}``."""
    return _json(status, {"error": error, "message": message, **extra})


def campaign_response(stored: StoredCampaign, status: int = 200) -> Response[CampaignView]:
    """A campaign with its version, also as the ``ETag`` header."""
    view = CampaignView(
        campaign=stored.campaign, version=stored.version, updated_at=stored.updated_at
    )
    return Response(
        status_code=status,
        content_type=JSON,
        body=view,
        headers={"ETag": f'"{stored.version}"'},
    )


def _field(loc: Sequence[str | int]) -> str:
    parts = list(loc)
    where = parts.pop(0) if parts and parts[0] in _LOCATIONS else None
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or str(where or "request")


def _message(error: dict[str, Any]) -> str:
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


def _validation_errors(exc: RequestValidationError) -> Response[Any]:
    """Powertools' own request validation, answered like every other field error."""
    errors = list(exc.errors())
    if any(tuple(e["loc"][:1]) == ("response",) for e in errors):
        # The route built an answer that does not match its own model: our bug, not theirs.
        logger.error("response does not match its model", extra={"errors": str(errors)})
        return problem_response(500, "internal_error", "the answer failed its own validation")
    unreadable = [e for e in errors if e["loc"][:1] == ("body",) and e["type"] in _UNREADABLE_BODY]
    for error in unreadable:
        if error["type"] == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "JSON decode error")
            return errors_response(400, [FieldError("body", f"not valid JSON ({reason})")])
        if len(error["loc"]) == 1:
            return errors_response(400, [FieldError("body", "must be a JSON object")])
    return errors_response(422, [FieldError(_field(e["loc"]), _message(e)) for e in errors])


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every exception the routes raise to its answer (one handler per type)."""

    @app.exception_handler(RequestValidationError)
    def _request_invalid(exc: RequestValidationError) -> Response[Any]:
        return _validation_errors(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[Any]:
        return problem_response(415, "unsupported_media_type", "send application/json")

    @app.exception_handler(CampaignError)
    def _campaign_invalid(exc: CampaignError) -> Response[Any]:
        return errors_response(422, exc.errors)

    @app.exception_handler(InvalidFieldsError)
    def _fields_invalid(exc: InvalidFieldsError) -> Response[Any]:
        return errors_response(422, exc.errors)

    @app.exception_handler(RenderError)
    def _render_failed(exc: RenderError) -> Response[Any]:
        return errors_response(422, [FieldError(exc.field, exc.message)])

    @app.exception_handler(UnreadableBodyError)
    def _unreadable_body(exc: UnreadableBodyError) -> Response[Any]:
        return errors_response(400, [FieldError("body", str(exc))])

    @app.exception_handler(BadRequestError)
    def _bad_request(exc: BadRequestError) -> Response[Any]:
        return problem_response(400, exc.code, str(exc))

    @app.exception_handler(ImportFileError)
    def _unreadable_file(exc: ImportFileError) -> Response[Any]:
        return problem_response(400, "unreadable_file", str(exc))

    @app.exception_handler(CampaignNotFoundError)
    def _campaign_missing(exc: CampaignNotFoundError) -> Response[Any]:
        return problem_response(404, "not_found", f"no campaign {exc.campaign_id}")

    @app.exception_handler(CustomerNotFoundError)
    def _customer_missing(exc: CustomerNotFoundError) -> Response[Any]:
        return problem_response(404, "not_found", f"no customer {exc.customer_id}")

    @app.not_found
    def _no_route(exc: NotFoundError) -> Response[Any]:
        return problem_response(404, "not_found", "no such resource")

    @app.exception_handler(CampaignExistsError)
    def _exists(exc: CampaignExistsError) -> Response[Any]:
        return problem_response(409, "already_exists", f"campaign {exc.campaign_id} exists")

    @app.exception_handler(CampaignConflictError)
    def _stale(exc: CampaignConflictError) -> Response[Any]:
        return problem_response(
            409,
            "version_conflict",
            "the campaign changed since you read it",
            current_version=exc.current_version,
        )

    @app.exception_handler(CampaignStateError)
    def _wrong_state(exc: CampaignStateError) -> Response[Any]:
        code = "archived" if isinstance(exc, CampaignArchivedError) else "invalid_transition"
        return problem_response(409, code, str(exc))

    @app.exception_handler(VersionRequiredError)
    def _version_missing(exc: VersionRequiredError) -> Response[Any]:
        return problem_response(428, "version_required", str(exc))

    @app.exception_handler(ProviderError)
    def _provider_failed(exc: ProviderError) -> Response[Any]:
        return problem_response(502, "provider_error", str(exc))


# ---------------------------------------------------------------- reading bodies


def raw_body(event: BaseProxyEvent) -> str | bytes:
    """The body as sent: bytes when API Gateway base64-encoded it, else the text."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise UnreadableBodyError("flagged as base64 but is not valid base64") from None


def body_text(event: BaseProxyEvent) -> str:
    """The body as text; :class:`UnreadableBodyError` if it is not (UTF-8) text."""
    body = raw_body(event)
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBodyError(f"not UTF-8 text (byte {exc.start + 1})") from None


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading typed bodies as JSON only.

    Powertools compares the Content-Type case-sensitively and parses forms into fields; here
    the media type is compared case-insensitively, anything but ``application/json`` (forms
    too) is 415, and a body that is not text is 400 before Powertools decodes it.
    """

    def _get_body(self, app: EventHandlerInstance) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type") or ""
        media_type = content_type.split(";")[0].strip().lower()
        if media_type and media_type != JSON:
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[
                    {
                        "type": "unsupported_content_type",
                        "loc": ("body",),
                        "msg": f"Unsupported content type: {content_type}",
                        "input": {},
                        "ctx": {},
                    }
                ],
            )
        body_text(app.current_event)
        return self._parse_json_data(app)


def use_json_body_validation(app: APIGatewayRestResolver) -> None:
    """Validate requests with :class:`JsonBodyValidation` (call before the first request).

    Powertools creates its own validation middlewares on first use only when the resolver
    has none, so both are set here (the response one exactly as Powertools builds it).
    """
    app._request_validation_middleware = JsonBodyValidation()
    app._response_validation_middleware = OpenAPIResponseValidationMiddleware(
        validation_serializer=app._serializer,
        has_response_validation_error=app._has_response_validation_error,
    )


# ---------------------------------------------------------------- OpenAPI answers

_ERROR_DESCRIPTIONS: dict[int, tuple[str, type[Errors] | type[Problem]]] = {
    400: ("The body is not JSON or not a JSON object (field `body`).", Errors),
    404: ("No such campaign or customer.", Problem),
    409: ("Stale version (`current_version`), or not allowed in this state.", Problem),
    415: ("The body is not `application/json`.", Problem),
    422: ("Invalid fields, each with a message.", Errors),
    428: ("Send the version you read: body `version` or `If-Match`.", Problem),
    502: ("The e-mail or SMS provider refused the message.", Problem),
}


def responses(
    ok: str,
    *errors: int,
    status: int = 200,
    etag: bool = False,
    bad_request: str | None = None,
) -> dict[int, OpenAPIResponse]:
    """The documented answers of an operation: ``ok`` under ``status``, then ``errors``.

    ``bad_request`` documents a 400 ``Problem`` (with this description) instead of the
    400 ``Errors`` of an unreadable JSON body.
    """
    success: OpenAPIResponse = {"description": ok}
    if etag:
        success["headers"] = {
            "ETag": {
                "description": 'The version, quoted (`"3"`): send it back as If-Match.',
                "schema": {"type": "string"},
            }
        }
    documented: dict[int, OpenAPIResponse] = {status: success}
    for code in errors:
        description, model = _ERROR_DESCRIPTIONS[code]
        if code == 400 and bad_request:
            description, model = bad_request, Problem
        documented[code] = {"description": description, "content": {JSON: {"model": model}}}
    return documented


# ---------------------------------------------------------------- versions and lookups


def expected_version(body_version: int | None, if_match: str | None) -> int:
    """The version a change is based on: body ``version`` first, else ``If-Match``."""
    if body_version is not None:
        return body_version
    if not if_match or not if_match.strip():
        raise VersionRequiredError("send the version you read (body 'version' or If-Match)")
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise InvalidFieldsError.one("If-Match", 'must be a version, e.g. "3"') from None


def require_customer(customer_id: str) -> dict[str, Any]:
    """The customer, or :class:`CustomerNotFoundError`."""
    customer = get_customer(customer_id)
    if customer is None:
        raise CustomerNotFoundError(customer_id)
    return customer


# ---------------------------------------------------------------- list cursors


def encode_cursor(last_id: str) -> str:
    """An opaque ``next_token``: where the next page starts (not a secret, not signed)."""
    raw = json.dumps({"after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> str:
    """The id a ``next_token`` continues after; 422 on ``next_token`` if we did not make it."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = jsonsafe.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        data = None
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, str) or not CUSTOMER_ID_RE.match(after):
        raise InvalidFieldsError.one("next_token", "is not a token this API returned")
    return after


__all__ = [
    "JSON",
    "BadRequestError",
    "CustomerNotFoundError",
    "InvalidFieldsError",
    "JsonBodyValidation",
    "UnreadableBodyError",
    "VersionRequiredError",
    "body_text",
    "campaign_response",
    "decode_cursor",
    "encode_cursor",
    "expected_version",
    "raw_body",
    "register_error_handlers",
    "require_customer",
    "responses",
    "use_json_body_validation",
]
