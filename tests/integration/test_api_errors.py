"""Marketer API, bad input: every refusal has an exact status and one of two shapes.

``{"errors": [{field, message}]}`` for invalid fields (400 when the body is not a JSON
object, 422 for values), ``{"error", "message"}`` for everything else. Never Powertools'
``{"detail": [...]}``. Requests are the API Gateway REST events of ``events/campaign_api``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.integration.test_campaign_api import (  # noqa: F401 - fixtures
    Api,
    RawApi,
    api_fixture,
    fixture_body,
    raw_api_fixture,
)

NOT_AN_INTEGER = "Input should be a valid integer, unable to parse string as an integer"
STATUSES = "Input should be 'draft', 'active', 'paused' or 'archived'"
JSON_BODY_ROUTES = [
    "create",
    "validate",
    "update",
    "status",
    "preview",
    "test_send",
    "dry_run_campaign",
    "dry_run",
]


def errors(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message} for field, message in pairs]}


def problem(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "message": message, **extra}


def token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("name", JSON_BODY_ROUTES)
def test_given_malformed_json_when_sent_to_any_json_route_then_400_on_body(api: Api, name: str):
    assert api(name, "{not json") == (
        400,
        errors(("body", "not valid JSON (Expecting property name enclosed in double quotes)")),
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than 64"),
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
    ],
    ids=["deep", "nan", "infinity"],
)
@pytest.mark.parametrize("name", ["create", "validate", "dry_run"])
def test_given_hostile_json_when_sent_then_400_on_body_not_a_crash(
    api: Api, name: str, body: str, reason: str
):
    status, answer = api(name, body)
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == ["body"]
    assert reason in answer["errors"][0]["message"]


@pytest.mark.parametrize("name", JSON_BODY_ROUTES)
def test_given_body_that_is_not_an_object_when_sent_then_400_on_body(api: Api, name: str):
    for body in ("[1, 2]", "null", '"text"', "42", ""):
        assert api(name, body) == (400, errors(("body", "must be a JSON object"))), body


def test_given_wrong_types_in_typed_bodies_when_sent_then_422_naming_each_field(api: Api):
    api("create")
    assert api("status", {"status": 5, "version": 1}) == (422, errors(("status", STATUSES)))
    assert api("status", {"status": "running", "version": 1}) == (
        422,
        errors(("status", STATUSES)),
    )
    assert api("status", {"status": "active", "version": "one"}) == (
        422,
        errors(
            ("version", "Input should be a valid integer, unable to parse string as an integer")
        ),
    )
    assert api("preview", {"customer_id": 7}) == (
        422,
        errors(("customer_id", "Input should be a valid string")),
    )
    assert api("preview", {}) == (422, errors(("customer_id", "Field required")))
    assert api("test_send", {"channel": "fax", "to": "qa@example.com"}) == (
        422,
        errors(("channel", "Input should be 'email' or 'sms'")),
    )
    assert api("dry_run_campaign", {"from": "tomorrow"}) == (
        422,
        errors(
            ("from", "Input should be a valid date or datetime, input is too short"),
            ("to", "Field required"),
        ),
    )
    assert api("dry_run", {"from": "2027-03-16", "to": "2027-03-13"}) == (
        422,
        errors(("to", "must be after from, at most 92 days")),
    )
    assert api("dry_run", {"from": "2027-01-01", "to": "2027-06-01"}) == (
        422,
        errors(("to", "must be after from, at most 92 days")),
    )


def test_given_invalid_campaign_document_when_created_then_field_errors_from_the_model(api: Api):
    bad = fixture_body("create")
    bad["name"] = ""
    bad["channels"] = ["email", "email"]
    del bad["content"]
    status, body = api("create", bad)
    assert status == 422
    assert body == errors(
        ("name", "String should have at least 1 character"),
        ("channels", "lists a channel twice"),
        ("content", "Field required"),
    )
    assert api("validate", bad) == (
        200,
        {"valid": False, "errors": body["errors"], "warnings": []},
    )


def test_given_bad_list_parameters_when_listing_then_422_on_the_parameter(api: Api):
    cases = [
        ({"status": "running"}, errors(("status", STATUSES))),
        ({"limit": "0"}, errors(("limit", "Input should be greater than or equal to 1"))),
        ({"limit": "101"}, errors(("limit", "Input should be less than or equal to 100"))),
        (
            {"limit": "ten"},
            errors(
                ("limit", "Input should be a valid integer, unable to parse string as an integer")
            ),
        ),
    ]
    forged = [
        "!!!",  # not base64
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not UTF-8
        token(["bday-2027"]),  # not an object
        token({"before": "bday-2027"}),  # not our key
        token({"after": "bday 2027; DROP"}),  # not a campaign id
        token({"after": 7}),
    ]
    not_ours = errors(("next_token", "is not a token this API returned"))
    cases += [({"next_token": t}, not_ours) for t in forged]
    for query, expected in cases:
        assert api("list", query=query) == (422, expected), query


def test_given_change_without_version_when_sent_then_428_version_required(api: Api):
    api("create")
    required = problem("version_required", "send the version you read (body 'version' or If-Match)")
    assert api("update", fixture_body("update"), headers={"If-Match": ""}) == (428, required)
    assert api("status", {"status": "active"}) == (428, required)
    assert api("delete", headers={"If-Match": " "}) == (428, required)
    assert api("get")[1]["version"] == 1  # nothing changed


def test_given_unreadable_if_match_when_sent_then_422_on_if_match(api: Api):
    api("create")
    assert api("delete", headers={"If-Match": '"one"'}) == (
        422,
        errors(("If-Match", 'must be a version, e.g. "3"')),
    )
    assert api("update", dict(fixture_body("update"), version="two")) == (
        422,
        errors(("version", "must be an integer")),
    )


def test_given_stale_version_when_changing_then_409_with_current_version(api: Api):
    api("create")
    assert api("status")[0] == 200  # version 1 -> 2
    stale = problem("version_conflict", "the campaign changed since you read it", current_version=2)
    assert api("update") == (409, stale)  # If-Match: "1"
    assert api("update", dict(fixture_body("update"), version=1)) == (409, stale)
    assert api("status", {"status": "paused", "version": 1}) == (409, stale)
    assert api("status", {"status": "paused"}, headers={"If-Match": 'W/"2"'})[0] == 200


def test_given_stale_version_when_deleting_draft_then_409_and_kept(api: Api):
    api("create")
    assert api("delete", headers={"If-Match": '"7"'}) == (
        409,
        problem("version_conflict", "the campaign changed since you read it", current_version=1),
    )
    assert api("get")[0] == 200


def test_given_unknown_campaign_when_addressed_then_404_not_found(api: Api):
    missing = (404, problem("not_found", "no campaign nope"))
    assert api("get", campaign_id="nope") == missing
    assert api("update", campaign_id="nope") == missing  # If-Match: "1"
    assert api("status", campaign_id="nope") == missing
    assert api("delete", campaign_id="nope") == missing
    assert api("stats", campaign_id="nope") == missing
    assert api("estimate", campaign_id="nope") == missing
    assert api("preview", campaign_id="nope") == missing
    assert api("test_send", campaign_id="nope") == missing
    assert api("dry_run_campaign", campaign_id="nope") == missing


def test_given_unknown_customer_when_history_read_then_404_and_bad_id_400(api: Api):
    assert api("customer_history", customer_id="nobody") == (
        404,
        problem("not_found", "no customer nobody"),
    )
    assert api("customer_history", customer_id="no body") == (
        400,
        problem("bad_customer_id", "not a customer id"),
    )


def test_given_state_rules_when_broken_then_409_with_their_code(api: Api):
    assert api("create")[0] == 201
    assert api("create") == (409, problem("already_exists", "campaign bday-2027 exists"))
    api("status", {"status": "archived", "version": 1})
    assert api("update", headers={"If-Match": '"2"'}) == (
        409,
        problem("archived", "archived campaigns cannot change"),
    )
    assert api("status", {"status": "active", "version": 2}) == (
        409,
        problem("invalid_transition", "cannot go from archived to active (allowed: none)"),
    )
    assert api("delete", headers={"If-Match": '"2"'}) == (
        409,
        problem(
            "invalid_transition", "only draft campaigns can be deleted; archive this archived one"
        ),
    )


def test_given_replace_that_changes_id_or_status_when_sent_then_422(api: Api):
    api("create")
    renamed = dict(fixture_body("update"), campaign_id="other")
    assert api("update", renamed) == (422, errors(("campaign_id", "does not match the URL")))
    activated = dict(fixture_body("update"), status="active")
    assert api("update", activated) == (
        422,
        errors(("status", "change the status with POST /campaigns/{id}/status")),
    )
    assert api("create", dict(fixture_body("create"), campaign_id="x", status="active")) == (
        422,
        errors(
            ("status", "new campaigns start as draft; activate with POST /campaigns/{id}/status")
        ),
    )


def test_given_non_json_content_type_when_posting_json_route_then_415(api: Api):
    assert api("create", headers={"Content-Type": "text/plain"}) == (
        415,
        problem("unsupported_media_type", "send application/json"),
    )


def test_given_unknown_route_when_called_then_404_problem(api: Api):
    assert api("get", campaign_id="a/b/c") == (404, problem("not_found", "no such resource"))


def test_given_good_requests_when_answered_then_etag_is_the_version(raw_api: RawApi):
    def etag(response: dict[str, Any]) -> list[str]:
        etags: list[str] = response["multiValueHeaders"]["ETag"]
        return etags

    created = raw_api("create")
    assert (created["statusCode"], etag(created)) == (201, ['"1"'])
    assert json.loads(created["body"])["version"] == 1
    moved = raw_api("status")
    assert (moved["statusCode"], etag(moved)) == (200, ['"2"'])
    assert etag(raw_api("get")) == ['"2"']
    deleted = raw_api("delete", headers={"If-Match": '"2"'})
    assert deleted["statusCode"] == 409  # active now: archive instead


def test_given_any_refusal_when_answered_then_never_the_powertools_detail_shape(api: Api):
    refusals = [
        api("create", "{"),
        api("status", {"status": []}),
        api("list", query={"limit": "x", "status": "y"}),
        api("dry_run", {}),
    ]
    for status, body in refusals:
        assert status in (400, 422) and set(body) == {"errors"}, body
