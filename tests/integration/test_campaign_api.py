"""Marketer API through the real handler with API Gateway event fixtures (events/campaign_api)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from tests.events import load_event


@pytest.fixture
def api(aws, clock):
    handler = load_handler(aws.functions["CampaignApiFunction"])

    def call(
        name: str,
        body: Any = ...,
        headers: dict[str, str] | None = None,
        campaign_id: str | None = None,
    ) -> tuple[int, Any]:
        event = load_event(f"campaign_api/{name}.json")
        if body is not ...:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
        if campaign_id is not None:
            event["pathParameters"] = {"campaign_id": campaign_id}
            event["path"] = event["path"].replace("bday-2027", campaign_id)
        event["headers"].update(headers or {})
        response = handler(event, FakeLambdaContext("CampaignApiFunction"))
        text = response["body"]
        return response["statusCode"], json.loads(text) if text else None

    return call


def _fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event(f"campaign_api/{name}.json")["body"])
    return body


def test_given_new_campaign_when_created_then_draft_version_1_and_readable(api):
    status, body = api("create")
    assert status == 201
    assert (body["campaign"]["status"], body["version"]) == ("draft", 1)
    status, body = api("get")
    assert status == 200 and body["campaign"]["name"] == "Birthday 20% off"
    status, listed = api("list")
    assert [c["campaign_id"] for c in listed["campaigns"]] == ["bday-2027"]
    assert api("create")[0] == 409  # same id again


def test_given_invalid_body_when_created_then_field_errors(api):
    bad = _fixture_body("create")
    bad["send_at_local"] = "25:00"
    bad["content"]["email"]["en"]["text"] = "{{ coupon }}"
    status, body = api("create", bad)
    assert status == 422
    # Structure first; templates are checked once the document's shape is valid.
    assert {e["field"] for e in body["errors"]} == {"send_at_local"}
    bad["send_at_local"] = "09:00"
    status, body = api("create", bad)
    assert (status, [e["field"] for e in body["errors"]]) == (422, ["content.email.en.text"])
    assert api("create", "{not json")[0] == 400
    assert api("create", "[1, 2]")[0] == 400
    active = dict(_fixture_body("create"), status="active")
    status, body = api("create", active)
    assert status == 422 and body["errors"][0]["field"] == "status"


def test_given_validate_endpoint_when_called_then_reports_without_saving(api):
    status, body = api("validate")
    assert status == 200 and body["valid"] is False
    assert body["errors"][0]["field"] == "send_at_local"
    assert api("get")[0] == 404


def test_given_versions_when_updating_then_optimistic_concurrency(api):
    api("create")
    status, body = api("update")  # If-Match: "1"
    assert status == 200 and body["version"] == 2
    assert body["campaign"]["offer"]["percent_off"] == 25
    status, body = api("update")  # still "1": stale
    assert status == 409 and body == {
        "error": "version_conflict",
        "message": "the campaign changed since you read it",
        "current_version": 2,
    }
    event_body = _fixture_body("update")
    status, _ = api("update", event_body, headers={"If-Match": ""})
    assert status == 428
    renamed = dict(event_body, campaign_id="other")
    assert api("update", renamed, headers={"If-Match": '"2"'})[0] == 422


def test_given_lifecycle_when_status_changes_then_only_allowed_transitions(api):
    api("create")
    status, body = api("status")  # draft -> active, version 1
    assert status == 200 and body["campaign"]["status"] == "active" and body["version"] == 2
    assert api("status", {"status": "draft", "version": 2})[0] == 409
    assert api("status", {"status": "paused", "version": 2})[1]["campaign"]["status"] == "paused"
    assert api("status", {"status": "running", "version": 3})[0] == 422
    assert api("status", {"status": "archived", "version": 3})[0] == 200
    status, body = api("status", {"status": "active", "version": 4})
    assert status == 409 and body["error"] == "invalid_transition"
    assert api("delete", headers={"If-Match": '"4"'})[0] == 409  # archived, not a draft


def test_given_draft_when_deleted_then_gone_and_missing_campaign_404(api):
    api("create")
    assert api("delete", headers={"If-Match": '"7"'})[0] == 409  # stale version
    assert api("delete")[0] == 204
    assert api("get")[0] == 404
    assert api("delete")[0] == 404
    assert api("status", {"status": "active", "version": 1}, campaign_id="nope")[0] == 404


def test_given_openapi_route_when_called_then_document_lists_campaign_paths(api):
    status, body = api("openapi")
    assert status == 200
    assert body["openapi"].startswith("3.")
    assert {
        "/campaigns",
        "/campaigns/{campaign_id}",
        "/campaigns/{campaign_id}/status",
        "/campaigns/validate",
    } <= set(body["paths"])
