"""Marketer API through the real handler with API Gateway event fixtures (events/campaign_api)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from tests.events import load_event

COMMITTED_OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
Api = Callable[..., tuple[int, Any]]
RawApi = Callable[..., dict[str, Any]]


def api_event(
    name: str,
    body: Any = ...,
    headers: dict[str, str] | None = None,
    campaign_id: str | None = None,
    customer_id: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``events/campaign_api/<name>.json`` changed as asked, still shaped as API Gateway sends
    it: a header or query value appears in the single- and the multi-value maps alike."""
    event = load_event(f"campaign_api/{name}.json")
    if body is not ...:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if campaign_id is not None:
        event["pathParameters"] = {"campaign_id": campaign_id}
        event["path"] = event["path"].replace("bday-2027", campaign_id)
    if customer_id is not None:
        event["pathParameters"] = {"customer_id": customer_id}
        event["path"] = event["path"].replace("c-001", customer_id)
    for key, value in (headers or {}).items():
        event["headers"][key] = value
        event["multiValueHeaders"][key] = [value]
    if query is not None:
        event["queryStringParameters"] = dict(query) or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return event


@pytest.fixture(name="raw_api")
def raw_api_fixture(aws: Any, clock: Any) -> RawApi:
    """``raw_api(fixture_name, body=..., headers=..., query=...)`` -> the proxy response."""
    handler = load_handler(aws.functions["CampaignApiFunction"])

    def call(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = handler(
            api_event(name, *args, **kwargs), FakeLambdaContext("CampaignApiFunction")
        )
        return response

    return call


@pytest.fixture(name="api")
def api_fixture(raw_api: RawApi) -> Api:
    """``api(fixture_name, body=..., headers=..., query=..., campaign_id=...)`` -> status, JSON."""

    def call(name: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        response = raw_api(name, *args, **kwargs)
        text = response["body"]
        return response["statusCode"], json.loads(text) if text else None

    return call


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event(f"campaign_api/{name}.json")["body"])
    return body


def test_given_new_campaign_when_created_then_draft_version_1_and_readable(api):
    status, body = api("create")
    assert status == 201
    assert (body["campaign"]["status"], body["version"]) == ("draft", 1)
    status, body = api("get")
    assert status == 200 and body["campaign"]["name"] == "Birthday 20% off"
    status, listed = api("list")
    assert [c["campaign_id"] for c in listed["items"]] == ["bday-2027"]
    assert listed["next_token"] is None
    assert api("create")[0] == 409  # same id again


def test_given_invalid_body_when_created_then_field_errors(api):
    bad = fixture_body("create")
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
    active = dict(fixture_body("create"), status="active")
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
    event_body = fixture_body("update")
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
    assert body == json.loads(COMMITTED_OPENAPI.read_text(encoding="utf-8"))  # docs/openapi.json
    assert {
        "/campaigns",
        "/campaigns/{campaign_id}",
        "/campaigns/{campaign_id}/status",
        "/campaigns/validate",
    } <= set(body["paths"])


def test_given_jsonl_and_csv_when_imported_through_api_then_good_rows_in_bad_rows_listed(api):
    status, body = api("customers_import_jsonl")
    assert status == 200 and body["imported"] == 2
    assert [(r["line"], r["id"], r["reason"].split(":")[0]) for r in body["rejected"]] == [
        (3, "c-003", "email")
    ]
    status, body = api("customers_import_csv")
    assert status == 200 and body["imported"] == 2
    assert [(r["line"], r["reason"].split(":")[0]) for r in body["rejected"]] == [(4, "email")]
    from lifecycle.store.customers import get_customer

    lena = get_customer("c-101")
    assert lena is not None
    assert (lena["consent"], lena["attributes"]) == (
        {"email": True, "sms": False},
        {"tier": "gold"},
    )
    assert api("customers_import_csv", "email,name\nx@example.com,X\n")[0] == 400
    assert api("customers_import_jsonl", "")[0] == 400


def _send_birthdays(clock: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from lifecycle.core.aws import client
    from lifecycle.core.secrets import signing_keys
    from lifecycle.core.settings import get_settings
    from lifecycle.pipeline.planner import PlanSettings, plan_dated
    from lifecycle.pipeline.sender import SendDependencies, process_delivery

    settings = get_settings()
    key = signing_keys(settings)
    start = datetime(2027, 3, 13, tzinfo=UTC)
    clock.set(start)
    plan_dated(
        start,
        key,
        PlanSettings(shards=1, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15)),
    )
    deps = SendDependencies(settings=settings, key=key, sesv2=client("sesv2"))
    process_delivery("bday-2027#c-001#2027#email", datetime(2027, 3, 14, 8, 0, tzinfo=UTC), deps)


def test_given_sent_campaign_when_stats_and_history_read_then_why_is_answered(api, clock):
    api("create")
    api("status")  # active
    api("customers_import_jsonl")
    _send_birthdays(clock)
    status, stats = api("stats")
    assert status == 200
    assert (stats["planned"], stats["sent"], stats["pending"]) == (1, 1, 0)
    assert (stats["skipped"], stats["failed"]) == ({}, {})
    status, history = api("customer_history")
    assert status == 200
    [entry] = history["deliveries"]
    assert (entry["status"], entry["local_send_time"]) == ("sent", "2027-03-14T09:00:00+01:00")
    assert [h["status"] for h in entry["history"]] == ["queued", "sent"]
    status, other = api("customer_history", customer_id="c-002")
    # c-002 (CN) is outside the campaign's audience (ES, US) and has no occurrence yet.
    assert other["deliveries"] == []
    assert other["not_planned_because"] == ["not_in_audience"]


def test_given_customer_erased_when_reimported_then_pii_gone_and_still_suppressed(api, clock):
    api("create")
    api("status")
    api("customers_import_jsonl")
    _send_birthdays(clock)
    from lifecycle.store.models import SurveyResponseModel

    SurveyResponseModel(
        survey_id="nps#c-001#o-1",
        campaign_id="nps",
        customer_id="c-001",
        order_id="o-1",
        kind="nps",
        score=3,
        comment="Call me at +34 600 000 000",
        answered_at="2027-03-15T10:00:00Z",
        first_answered_at="2027-03-15T10:00:00Z",
    ).save()
    status, report = api("customer_erase")
    assert status == 200
    assert report == {
        "customer_found": True,
        "deliveries_redacted": 1,
        "deliveries_cancelled": 0,
        "responses_redacted": 1,
        "dates_removed": 0,
        "consent_events_removed": 1,  # the import gave e-mail consent: one record
    }
    response = SurveyResponseModel.get("nps#c-001#o-1")
    kept = response.attribute_values
    assert ("comment" in kept, "order_id" in kept, int(response.score)) == (False, False, 3)
    from lifecycle.store import ledger
    from lifecycle.store.customers import get_customer

    erased = get_customer("c-001")
    assert erased is not None
    assert erased["email"] is None and erased["first_name"] is None and erased["birthday"] is None
    assert set(erased["unsubscribed"]) == {"email", "sms"}
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None and item.status == "sent" and item.context is None
    api("customers_import_jsonl")  # the same person comes back in a file
    from lifecycle.rules.consent import consent_block

    again = get_customer("c-001")
    assert again is not None and consent_block(again, "email") == "unsubscribed"


def test_given_customer_when_previewed_then_rendered_in_their_language(api):
    api("create")
    api("customers_import_jsonl")
    status, body = api("preview")
    assert status == 200
    assert body["locale"] == "en"  # c-001 is es-ES; the campaign only has English
    assert body["subject"] == "Happy birthday, Ana!"
    assert "SAMPLE-CODE" in body["text"]
    assert api("preview", {"customer_id": "nobody"})[0] == 422
    assert api("preview", {"customer_id": "c-001", "channel": "sms"})[0] == 422


def test_given_audience_when_estimated_then_counts_reachable(api):
    api("create")
    api("customers_import_jsonl")  # c-001 ES (consent), c-002 CN: audience is ES/US
    status, body = api("estimate")
    assert status == 200
    assert body == {"customers": 2, "in_audience": 1, "reachable": {"email": 1}, "holdout": {}}


def test_given_test_address_when_test_sent_then_marked_test_and_not_in_stats(api):
    api("create")
    api("customers_import_jsonl")
    status, body = api("test_send")
    assert status == 200 and body["subject"] == "Happy birthday, Ana!"
    from moto.ses.models import ses_backends

    [message] = ses_backends["123456789012"]["us-east-1"].sent_messages
    assert "qa@example.com" in message.destinations
    assert "[TEST] Happy birthday, Ana!" in message.raw_data
    status, stats = api("stats")
    assert (stats["planned"], stats["sent"], stats["test_sends"]) == (0, 0, 1)
    assert api("test_send", {"channel": "email", "to": "not-an-address"})[0] == 422


def test_given_draft_when_dry_run_then_who_when_and_why_not_without_writes(api, clock):
    api("create")
    api("customers_import_jsonl")
    status, body = api("dry_run_campaign")
    assert status == 200
    [message] = body["messages"]
    assert (message["customer_id"], message["sent_at"], message["local_time"]) == (
        "c-001",
        "2027-03-14T08:00:00Z",
        "2027-03-14T09:00:00+01:00",
    )
    assert message["subject"] == "Happy birthday, Ana!"
    assert body["excluded"] == []
    status, stats = api("stats")
    assert stats["planned"] == 0  # nothing was written
    bad = {"from": "2027-03-16", "to": "2027-03-13"}
    assert api("dry_run_campaign", bad)[0] == 422
    assert api("dry_run_campaign", {"from": "tomorrow"})[0] == 422


def test_given_marketer_when_using_only_the_api_then_campaign_runs_and_results_are_readable(
    aws, api, clock
):
    """Import -> create -> validate -> dry run -> activate -> (pipeline runs) -> results."""
    from datetime import UTC, datetime

    assert api("customers_import_csv")[1]["imported"] == 2  # c-101 DE gold, c-102 US
    campaign = fixture_body("create")
    campaign["audience"] = {
        "all": [{"attr": "country", "in": ["DE", "US"]}, {"attr": "attributes.tier", "eq": "gold"}]
    }
    assert api("validate", campaign)[1]["valid"] is True
    assert api("create", campaign)[0] == 201
    _, dry = api("dry_run_campaign")
    assert [m["customer_id"] for m in dry["messages"]] == ["c-101"]
    assert dry["excluded"] == [
        {
            "customer_id": "c-102",
            "campaign_id": "bday-2027",
            "reason": "not_in_audience",
            "sent_at": "2027-03-14T13:00:00Z",  # when it would have been sent
        }
    ]
    assert api("status")[1]["campaign"]["status"] == "active"
    handlers = {
        name: load_handler(aws.functions[name])
        for name in ("PlannerFunction", "DispatcherFunction", "SenderFunction")
    }
    clock.set(datetime(2027, 3, 13, 0, 0, tzinfo=UTC))
    handlers["PlannerFunction"](load_event("planner/scheduled.json"), FakeLambdaContext())
    clock.set(datetime(2027, 3, 14, 8, 0, tzinfo=UTC))  # 09:00 in Berlin
    handlers["DispatcherFunction"](load_event("dispatcher/scheduled.json"), FakeLambdaContext())
    sqs_event = load_event("sender/sqs_batch.json")
    sqs_event["Records"] = sqs_event["Records"][:1]
    sqs_event["Records"][0]["body"] = json.dumps({"delivery_id": "bday-2027#c-101#2027#email"})
    assert handlers["SenderFunction"](sqs_event, FakeLambdaContext()) == {"batchItemFailures": []}
    _, stats = api("stats")
    assert (stats["planned"], stats["sent"], stats["skipped"]) == (2, 1, {"not_in_audience": 1})
    _, why = api("customer_history", customer_id="c-102")
    assert [(d["status"], d["reason"]) for d in why["deliveries"]] == [
        ("skipped", "not_in_audience")
    ]
