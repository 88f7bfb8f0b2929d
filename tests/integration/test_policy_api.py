"""GET/PUT /policy and the quiet-hours check on campaign saves, through the real API handler."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import campaign_doc, email_content
from tests.integration.test_campaign_api import api_fixture, raw_api_fixture  # noqa: F401
from tests.unit.test_policy_rules import ISSUE_EXAMPLE

# The issue's example policy, as the rules' unit tests use it (a fresh copy).
ISSUE_POLICY: dict[str, Any] = json.loads(json.dumps(ISSUE_EXAMPLE))


def put_policy(api: Any, body: Any, version: str | None = '"0"') -> tuple[int, Any]:
    headers = {"If-Match": version} if version is not None else {"If-Match": ""}
    return api("put_policy", body=body, headers=headers)


def test_given_no_policy_when_read_then_null_at_version_0(api):
    status, body = api("get_policy")
    assert status == 200
    assert body == {"policy": None, "version": 0, "updated_at": None}


def test_given_issue_policy_when_put_then_stored_as_written_at_version_1(api, raw_api):
    status, body = put_policy(api, ISSUE_POLICY)
    assert status == 200, body
    assert body["version"] == 1 and body["policy"] == ISSUE_POLICY
    response = raw_api("get_policy")
    assert response["multiValueHeaders"]["ETag"] == ['"1"']
    assert json.loads(response["body"])["policy"] == ISSUE_POLICY


def test_given_stale_version_when_put_then_409_with_current_version(api):
    assert put_policy(api, ISSUE_POLICY)[0] == 200
    status, body = put_policy(api, {"daily_limit": 2}, '"0"')
    assert status == 409
    assert body["error"] == "version_conflict" and body["current_version"] == 1
    status, body = put_policy(api, {"daily_limit": 2, "version": 1}, None)
    assert status == 200 and body["version"] == 2 and body["policy"]["daily_limit"] == 2


def test_given_no_version_when_put_then_428(api):
    status, body = put_policy(api, ISSUE_POLICY, None)
    assert status == 428 and body["error"] == "version_required"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"quiet_hours": {"email": {"from": "21:00"}}},
            [("quiet_hours.email.to", "Field required")],
        ),
        ({"daily_limit": "1"}, [("daily_limit", "Input should be a valid integer")]),
        ({"priority": ["birthday", "flash_sale"]}, [("priority[1]", "unknown occasion type")]),
        ({"extra": 1}, [("extra", "unknown field")]),
        ({"version": True}, [("version", "must be an integer, 0 or more")]),
    ],
)
def test_given_bad_policy_when_put_then_422_by_field_and_nothing_stored(api, document, expected):
    status, body = put_policy(api, document)
    assert status == 422, body
    found = [(e["field"], e["message"]) for e in body["errors"]]
    assert [f for f, _ in found] == [f for f, _ in expected]
    for (_, message), (_, start) in zip(found, expected, strict=True):
        assert message.startswith(start)
    assert api("get_policy")[1]["version"] == 0


def test_given_policy_when_campaign_saved_inside_quiet_hours_then_422_on_send_at_local(api):
    assert put_policy(api, ISSUE_POLICY)[0] == 200
    late = campaign_doc("late", send_at_local="21:30", status="draft")
    status, body = api("create", body=late)
    assert status == 422
    assert body["errors"] == [
        {
            "field": "send_at_local",
            "message": "21:30 is inside the email quiet hours (21:00-08:00 local)",
        }
    ]
    early_sms = campaign_doc(
        "sms",
        status="draft",
        channels=["email", "sms"],
        send_at_local="08:30",
        content={**email_content("Hi", "Hello"), "sms": {"en": {"text": "Hi"}}},
    )
    status, body = api("create", body=early_sms)
    assert status == 422
    assert [e["message"] for e in body["errors"]] == [
        "08:30 is inside the sms quiet hours (20:00-09:00 local)"
    ]


def test_given_no_policy_when_sms_campaign_at_0730_then_refused_by_the_default_window(api):
    sms = campaign_doc(
        "sms-early",
        status="draft",
        channels=["sms"],
        send_at_local="07:30",
        content={"sms": {"en": {"text": "Hi"}}},
    )
    status, body = api("create", body=sms)
    assert status == 422
    assert body["errors"][0]["field"] == "send_at_local"
    assert api("create", body={**sms, "send_at_local": "08:00"})[0] == 201


def test_given_active_campaign_when_stricter_policy_put_then_422_naming_it(api):
    assert (
        api("create", body=campaign_doc("evening", send_at_local="21:30", status="draft"))[0] == 201
    )
    status, _ = api("status", body={"status": "active", "version": 1}, campaign_id="evening")
    assert status == 200
    status, body = put_policy(api, ISSUE_POLICY)
    assert status == 422
    assert body["errors"] == [
        {
            "field": "quiet_hours.email",
            "message": "active campaign evening sends at 21:30 local on email; "
            "move its send_at_local or pause it first",
        }
    ]
    assert api("status", body={"status": "paused", "version": 2}, campaign_id="evening")[0] == 200
    assert put_policy(api, ISSUE_POLICY)[0] == 200
    # Reactivating it now would contradict the policy: refused on send_at_local.
    status, body = api("status", body={"status": "active", "version": 3}, campaign_id="evening")
    assert status == 422 and body["errors"][0]["field"] == "send_at_local"


def test_given_policy_when_campaign_file_imported_then_quiet_send_time_rejected_with_reason(api):
    from datetime import UTC, datetime

    from lifecycle.features.importer import import_campaigns

    assert put_policy(api, ISSUE_POLICY)[0] == 200
    ok = campaign_doc("morning", send_at_local="08:00")
    late = campaign_doc("late", send_at_local="21:30")
    result = import_campaigns(
        "[\n" + ",\n".join(json.dumps(c) for c in (ok, late)) + "\n]",
        "campaigns.json",
        datetime(2027, 3, 1, tzinfo=UTC),
    )
    assert result.imported_ids == ["morning"]
    assert [(r.line, r.id, r.reason) for r in result.rejected] == [
        (3, "late", "send_at_local: 21:30 is inside the email quiet hours (21:00-08:00 local)")
    ]
    assert api("get", campaign_id="late")[0] == 404


def test_given_policy_when_validated_or_tried_as_draft_then_same_quiet_hours_error(api):
    assert put_policy(api, ISSUE_POLICY)[0] == 200
    late = campaign_doc("late", send_at_local="21:30", status="draft")
    message = "21:30 is inside the email quiet hours (21:00-08:00 local)"
    status, body = api("validate", body=late)
    assert status == 200
    assert (body["valid"], body["errors"]) == (
        False,
        [{"field": "send_at_local", "message": message}],
    )
    status, body = api("draft_estimate", body={"campaign": late})
    assert status == 422
    assert body["errors"] == [{"field": "send_at_local", "message": message}]
