"""The OpenAPI document of the marketer API, as served at ``/openapi.json`` and committed as
``docs/openapi.json`` (``scripts/export_openapi.py`` writes it; a test compares them).

Powertools builds the paths and schemas from the routes; this module adds what the routes
cannot say: the stage URL, SigV4 authentication (API Gateway ``AWS_IAM``) on every operation,
the tags, and drops Powertools' ``{"detail": [...]}`` validation schemas, which this API
never answers (see :mod:`lifecycle.api.common`).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import (
    APIKey,
    Server,
    ServerVariable,
    Tag,
)

TITLE = "Lifecycle messaging - marketer API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Campaigns (validation, lifecycle, optimistic concurrency, dry runs and previews) and "
    "customers (import, history, erasure).\n\n"
    "Every request is signed with AWS Signature Version 4 (service `execute-api`) by an IAM "
    "principal allowed to `execute-api:Invoke` the API.\n\n"
    'Errors: `{"errors": [{"field", "message"}]}` when fields are invalid (400: the body '
    'is not a JSON object; 422: field values), else `{"error": code, "message": text}`.'
)
SERVER = Server(
    url="https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
    description="The API Gateway stage (stack output `CampaignApiUrl`).",
    variables={
        "restApiId": ServerVariable(default="restApiId", description="The REST API id."),
        "region": ServerVariable(default="us-east-1", description="The stack's region."),
        "stage": ServerVariable(default="v1", enum=["v1"], description="The stage name."),
    },
)
SECURITY_SCHEME = "sigv4"
SIGV4 = APIKey.model_validate(
    {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "AWS Signature Version 4 (IAM), service `execute-api`.",
        "openapi_extensions": {"x-amazon-apigateway-authtype": "awsSigv4"},
    }
)
TAGS = [
    Tag(name="campaigns", description="Create, read, change and retire campaigns."),
    Tag(
        name="trying campaigns out",
        description="Preview, dry run, estimate and test send: nothing is planned.",
    ),
    Tag(name="customers", description="Import, explain and erase customers."),
]
_SCHEMAS = "#/components/schemas/"
_POWERTOOLS_422 = _SCHEMAS + "HTTPValidationError"


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The OpenAPI document of ``app`` as a JSON-ready dict."""
    schema = app.get_openapi_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[SERVER],
        tags=list(TAGS),
        security_schemes={SECURITY_SCHEME: SIGV4},
        security=[{SECURITY_SCHEME: []}],
    )
    document: dict[str, Any] = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    for operations in document["paths"].values():
        for operation in operations.values():
            _drop_powertools_422(operation["responses"])
            operation["responses"].get("204", {}).pop("content", None)  # no body
            operation.setdefault("security", [{SECURITY_SCHEME: []}])
    _drop_unused_schemas(document)
    return document


def openapi_json(app: APIGatewayRestResolver) -> str:
    """The document as committed: indented, keys sorted, one trailing newline."""
    return json.dumps(openapi_document(app), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    """Keep the component schemas the operations reach (Powertools adds its error models)."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    used: set[str] = set()
    pending = _refs(document["paths"])
    while pending:
        name = pending.pop()
        if name not in used and name in schemas:
            used.add(name)
            pending |= _refs(schemas[name])
    for name in set(schemas) - used:
        del schemas[name]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {
            str(v).removeprefix(_SCHEMAS)
            for k, v in node.items()
            if k == "$ref" and str(v).startswith(_SCHEMAS)
        }
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def _drop_powertools_422(responses: dict[str, Any]) -> None:
    """Powertools adds 422 ``HTTPValidationError`` to every operation; ours says ``Errors``."""
    answer = responses.get("422", {})
    if answer.get("content", {}).get("application/json", {}).get("schema") == {
        "$ref": _POWERTOOLS_422
    }:
        del responses["422"]
