"""The marketer API's OpenAPI document says what the API really accepts and answers.

``docs/openapi.json`` is the committed copy of what ``GET /openapi.json`` serves; regenerate it
with ``python scripts/export_openapi.py`` after changing a route or a model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from emulator.template import load_template
from lifecycle.api.app import app
from lifecycle.api.openapi import openapi_document, openapi_json

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
DOCUMENT = openapi_document(app)
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
OPERATIONS = [
    (path, method, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
]
SIGV4: dict[str, list[str]] = {"sigv4": []}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _schema_ref(response: dict[str, Any]) -> str | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return ref if isinstance(ref, str) else None


def test_given_routes_when_document_generated_then_committed_copy_is_current():
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != openapi_json(app):
        pytest.fail(
            "docs/openapi.json differs from what the API generates; regenerate it with\n"
            "    .venv/bin/python scripts/export_openapi.py\nand commit the result."
        )


def test_given_template_events_when_compared_then_every_api_route_is_documented():
    events = load_template(ROOT / "template.yaml")["Resources"]["CampaignApiFunction"][
        "Properties"
    ]["Events"]
    routed = {
        (event["Properties"]["Path"], event["Properties"]["Method"].lower())
        for event in events.values()
        if event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "CampaignApi"}
    }
    # The console's API serves the same routes under /api (one proxy route, Cognito).
    console = [
        event["Properties"]
        for event in events.values()
        if event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "ConsoleApi"}
    ]
    assert [(e["Path"], e["Method"]) for e in console] == [("/api/{proxy+}", "ANY")]
    documented = {(path, method) for path, method, _ in OPERATIONS}
    assert documented == routed - {("/openapi.json", "get")}


@pytest.mark.parametrize(
    ("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS]
)
def test_given_operation_when_documented_then_described_typed_and_signed(
    path: str, method: str, operation: dict[str, Any]
):
    assert operation["summary"] and operation["summary"] != f"{method.upper()} {path}"
    assert len(operation.get("description", "")) > 20
    assert re.fullmatch(r"[a-z][A-Za-z]+", operation["operationId"])
    assert operation["tags"]
    assert operation["security"] == [SIGV4]
    if method in ("post", "put"):
        content = operation["requestBody"]["content"]
        assert all(media.get("schema") for media in content.values())
    successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
    [(code, success)] = successes.items()
    if code == "204":
        assert "content" not in success
    else:
        schema = success["content"]["application/json"]["schema"]
        assert schema.get("$ref") or schema.get("oneOf"), schema  # never a bare string
    for code, response in operation["responses"].items():
        if code.startswith(("4", "5")):
            assert _schema_ref(response) in (
                "#/components/schemas/Errors",
                "#/components/schemas/Problem",
            ), (code, response)
    if "422" in operation["responses"]:
        assert _schema_ref(operation["responses"]["422"]) == "#/components/schemas/Errors"
    for code in ("404", "409", "428"):
        if code in operation["responses"]:
            assert _schema_ref(operation["responses"][code]) == "#/components/schemas/Problem"


def test_given_error_shapes_when_documented_then_errors_and_problem_as_answered():
    assert SCHEMAS["Errors"]["required"] == ["errors"]
    assert SCHEMAS["Errors"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/FieldProblem"
    }
    assert sorted(SCHEMAS["FieldProblem"]["required"]) == ["field", "message"]
    assert sorted(SCHEMAS["Problem"]["required"]) == ["error", "message"]
    assert "current_version" in SCHEMAS["Problem"]["properties"]
    text = openapi_json(app)
    assert "HTTPValidationError" not in text and '"detail"' not in text


def test_given_document_when_read_then_sigv4_scheme_and_stage_server():
    assert DOCUMENT["components"]["securitySchemes"] == {
        "sigv4": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
            "description": "AWS Signature Version 4 (IAM), service `execute-api`.",
        }
    }
    assert DOCUMENT["security"] == [SIGV4]
    [server] = DOCUMENT["servers"]
    assert server["url"] == "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}"
    assert set(server["variables"]) == {"restApiId", "region", "stage"}
    assert server["variables"]["stage"]["default"] == "v1"  # template.yaml StageName


def test_given_every_reference_when_followed_then_it_resolves():
    prefix = "#/components/schemas/"
    refs = _refs(DOCUMENT)
    assert refs and all(ref.startswith(prefix) for ref in refs)
    assert {ref.removeprefix(prefix) for ref in refs} == set(SCHEMAS)  # none missing or unused


def test_given_campaign_bodies_when_documented_then_the_campaign_schema():
    create = DOCUMENT["paths"]["/campaigns"]["post"]["requestBody"]["content"]
    assert create["application/json"]["schema"]["allOf"] == [
        {"$ref": "#/components/schemas/Campaign"}
    ]
    assert {"campaign_id", "occasion", "channels", "content"} <= set(
        SCHEMAS["Campaign"]["required"]
    )


def test_given_list_operation_when_documented_then_filter_and_cursor_parameters():
    parameters = {
        p["name"]: p["schema"] for p in DOCUMENT["paths"]["/campaigns"]["get"]["parameters"]
    }
    assert set(parameters) == {"status", "limit", "next_token"}
    assert parameters["status"]["anyOf"][0]["enum"] == ["draft", "active", "paused", "archived"]
    limit = parameters["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 50)
    page = SCHEMAS["CampaignPage"]["properties"]
    assert set(page) == {"items", "next_token"}
