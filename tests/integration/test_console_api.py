"""The console's reads (timeline, survey detail, segments) and who may change what, through
the real CampaignApiFunction with API Gateway event fixtures (IAM and Cognito callers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.api.access import changes_state, console_groups, may, parse_groups
from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.features.results import rfm_grid
from lifecycle.pipeline.planner import PlanSettings, plan_dated
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.store.customers import store_rfm
from lifecycle.store.models import SurveyResponseModel
from tests.builders import birthday_campaign, campaign_doc, customer_doc
from tests.events import load_event

KEY = b"integration-test-signing-key"
T0 = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
SETTINGS = PlanSettings(shards=4, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15))


@pytest.fixture
def call(aws: Any, clock: Any):
    handler = load_handler(aws.functions["CampaignApiFunction"])

    def invoke(name: str, **changes: Any) -> tuple[int, Any]:
        event = load_event(name)
        event.update(changes)
        response = handler(event, FakeLambdaContext("CampaignApiFunction"))
        return response["statusCode"], json.loads(response["body"])

    return invoke


def _seed_sends(clock: Any) -> None:
    import_campaigns(json.dumps([birthday_campaign("bday-2027")]), "campaigns.json", T0)
    lines = [json.dumps(customer_doc(f"c-{n}", birthday="1990-03-02")) for n in range(3)]
    lines.append(json.dumps(customer_doc("c-no", birthday="1990-03-02", consent={})))
    lines.append(json.dumps(customer_doc("c-later", birthday="1990-03-20")))
    import_customers(lines, "customers.jsonl", T0)
    plan_dated(T0, KEY, SETTINGS)
    deps = SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))
    at = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    for n in range(3):
        assert process_delivery(f"bday-2027#c-{n}#2027#email", at, deps) == "sent"
    later = datetime(2027, 3, 19, 0, 0, tzinfo=UTC)
    plan_dated(later, KEY, SETTINGS)
    clock.set(datetime(2027, 3, 5, 12, 0, tzinfo=UTC))


def test_given_sends_when_timeline_read_then_per_day_counts_and_next_send(call, clock):
    _seed_sends(clock)
    status, body = call("campaign_api/timeline.json")
    assert status == 200
    assert len(body["days"]) == 14
    assert body["days"][-1]["date"] == "2027-03-05"
    day = next(d for d in body["days"] if d["date"] == "2027-03-02")
    assert (day["planned"], day["sent"], day["skipped"]) == (4, 3, 1)
    assert day["skipped_by_reason"] == {"no_consent": 1}
    assert body["last_7_days"]["sent"] == 3
    assert body["next_send"] == "2027-03-20T09:00:00Z"
    assert sum(d["planned"] for d in body["days"]) == 4  # the Mar 20 item is not in the past


@pytest.mark.parametrize("days", ["0", "401", "x", "-3"])
def test_given_bad_days_when_timeline_read_then_422(call, days):
    import_campaigns(json.dumps([birthday_campaign("bday-2027")]), "campaigns.json", T0)
    status, body = call(
        "campaign_api/timeline.json",
        queryStringParameters={"days": days},
        multiValueQueryStringParameters={"days": [days]},
    )
    assert status == 422
    assert body["errors"][0]["field"] == "days"


def test_given_unknown_campaign_when_timeline_read_then_404(call):
    status, body = call("campaign_api/timeline.json")
    assert (status, body["error"]) == (404, "not_found")


def _answer(customer: str, score: int, comment: str | None, at: str, kind: str = "nps") -> None:
    SurveyResponseModel(
        survey_id=f"nps-2027#{customer}#o-1#email",
        campaign_id="nps-2027",
        customer_id=customer,
        kind=kind,
        score=score,
        comment=comment,
        answered_at=at,
        first_answered_at=at,
    ).save()


def test_given_answers_when_survey_read_then_distribution_trend_and_detractor_comments(call):
    survey = campaign_doc(
        "nps-2027",
        occasion={"type": "post_purchase_survey", "delay_days": 3, "kind": "nps"},
        content={"email": {"en": {"subject": "How was it?", "text": "{{ survey_url }}"}}},
    )
    import_campaigns(json.dumps([survey]), "campaigns.json", T0)
    _answer("c-1", 10, "great", "2027-03-01T10:00:00Z")  # Monday
    _answer("c-2", 3, "late delivery", "2027-03-02T10:00:00Z")
    _answer("c-3", 6, None, "2027-03-03T10:00:00Z")  # detractor without a comment
    _answer("c-4", 9, "ok", "2027-03-08T10:00:00Z")  # next week
    _answer("c-5", 0, "broken <b>box</b>", "2027-03-09T10:00:00Z")
    status, body = call("campaign_api/survey_results.json")
    assert status == 200
    nps = body["kinds"]["nps"]
    assert nps["responses"] == 5
    assert nps["score"] == -20.0  # promoters 10 and 9, detractors 3, 6 and 0: (2 - 3) / 5
    assert nps["distribution"]["10"] == 1 and nps["distribution"]["0"] == 1
    assert sorted(nps["distribution"]) == sorted(str(n) for n in range(11))
    assert [(w["week"], w["responses"]) for w in nps["trend"]] == [
        ("2027-03-01", 3),
        ("2027-03-08", 2),
    ]
    assert [c["comment"] for c in nps["detractor_comments"]] == [
        "broken <b>box</b>",
        "late delivery",
    ]


def test_given_rfm_documents_when_segments_read_then_grid_and_segment_sizes(call):
    lines = [json.dumps(customer_doc(f"c-{n}")) for n in range(5)]
    import_customers(lines, "customers.jsonl", T0)
    store_rfm("c-0", {"r": 5, "f": 5, "m": 5, "segment": "champions"})
    store_rfm("c-1", {"r": 5, "f": 5, "m": 1, "segment": "champions"})
    store_rfm("c-2", {"r": 1, "f": 2, "m": 1, "segment": "hibernating"})
    status, body = call("campaign_api/segments.json")
    assert status == 200
    assert body["recency_by_frequency"][4][4] == 2
    assert body["recency_by_frequency"][0][1] == 1
    assert body["segments"]["champions"] == 2 and body["segments"]["hibernating"] == 1
    assert (body["scored"], body["unscored"]) == (3, 2)


@pytest.mark.parametrize(
    "rfm",
    [{"r": 0, "f": 1}, {"r": 6, "f": 1}, {"r": "5", "f": 5}, {"f": 3}, None, {"r": True, "f": 2}],
)
def test_given_malformed_rfm_when_grid_built_then_counted_unscored(rfm):
    assert rfm_grid([("c-1", rfm)])["unscored"] == 1


# ---------------------------------------------------------------- access


def test_given_viewer_when_creating_a_campaign_then_403_and_nothing_written(call):
    status, body = call("console_api/create_as_viewer.json")
    assert (status, body["error"]) == (403, "forbidden")
    status, _ = call("console_api/list_as_viewer.json")
    assert status == 200
    from lifecycle.campaigns.repository import get_stored

    assert get_stored("console-new") is None


def test_given_marketer_when_creating_through_the_console_api_then_created(call):
    status, body = call("console_api/create_as_marketer.json")
    assert status == 201, body
    assert body["campaign"]["campaign_id"] == "console-new"


def test_given_viewer_when_dry_running_then_allowed(call):
    status, body = call("console_api/dry_run_as_viewer.json")
    assert status == 200, body
    assert body["messages"] == []


def test_given_iam_caller_when_creating_then_allowed_as_before(call):
    event = load_event("console_api/create_as_marketer.json")
    assert console_groups(load_event("campaign_api/create.json")) is None
    assert console_groups(event) == frozenset({"marketers"})


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("marketers", {"marketers"}),
        ("viewers,marketers", {"viewers", "marketers"}),
        ("[viewers marketers]", {"viewers", "marketers"}),
        (["marketers"], {"marketers"}),
        ("", set()),
        (None, set()),
        (7, set()),
    ],
)
def test_given_group_claim_shapes_when_parsed_then_groups(claim, groups):
    assert parse_groups(claim) == frozenset(groups)


@pytest.mark.parametrize(
    ("method", "path", "writes"),
    [
        ("GET", "/campaigns", False),
        ("POST", "/campaigns", True),
        ("PUT", "/campaigns/<campaign_id>", True),
        ("DELETE", "/customers/<customer_id>", True),
        ("POST", "/campaigns/<campaign_id>/status", True),
        ("POST", "/campaigns/<campaign_id>/test-send", True),
        ("POST", "/campaigns/<campaign_id>/preview", False),
        ("POST", "/dry-run", False),
        ("PUT", "/policy", True),
    ],
)
def test_given_routes_when_classified_then_writes_need_a_marketer(method, path, writes):
    assert changes_state(method, path) is writes
    assert may(frozenset({"viewers"}), method, path) is not writes
    assert may(frozenset({"marketers"}), method, path)
    assert may(frozenset(), method, path) is not writes  # signed in, no group: read only
    assert may(None, method, path)  # IAM


# ---------------------------------------------------------------- drafts


def _customer(clock: Any) -> None:
    lines = [json.dumps(customer_doc("c-001", first_name="Ana", birthday="1990-03-02"))]
    import_customers(lines, "customers.jsonl", T0)


def test_given_unsaved_campaign_when_previewed_then_rendered_for_the_customer(call, clock):
    _customer(clock)
    status, body = call("campaign_api/draft_preview.json")
    assert status == 200, body
    assert (body["channel"], body["subject"]) == ("email", "Happy birthday, Ana!")
    from lifecycle.campaigns.repository import get_stored

    assert get_stored("draft-1") is None  # nothing saved


def test_given_invalid_draft_when_previewed_then_422_next_to_the_field(call, clock):
    _customer(clock)
    event = load_event("campaign_api/draft_preview.json")
    body = json.loads(event["body"])
    body["campaign"]["content"]["email"]["en"]["subject"] = "{{ first_name "
    body["campaign"]["send_at_local"] = "25:00"
    status, answer = call("campaign_api/draft_preview.json", body=json.dumps(body))
    assert status == 422
    fields = {error["field"] for error in answer["errors"]}
    assert "send_at_local" in fields


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"customer_id": "nobody"}, "customer_id"), ({"channel": "sms"}, "channel")],
)
def test_given_bad_customer_or_channel_when_previewed_then_422(call, clock, changes, field):
    _customer(clock)
    body = json.loads(load_event("campaign_api/draft_preview.json")["body"])
    body.update(changes)
    status, answer = call("campaign_api/draft_preview.json", body=json.dumps(body))
    assert status == 422
    assert [error["field"] for error in answer["errors"]] == [field]


def test_given_unsaved_campaign_when_estimated_then_reach_counted(call, clock):
    _customer(clock)
    status, body = call("campaign_api/draft_estimate.json")
    assert status == 200, body
    assert (body["customers"], body["in_audience"], body["reachable"]) == (1, 1, {"email": 1})


def test_given_viewer_when_previewing_a_draft_then_allowed(call, clock):
    _customer(clock)
    status, body = call("console_api/draft_preview_as_viewer.json")
    assert status == 200, body


# ---------------------------------------------------------------- customer lookup


def _people() -> None:
    lines = [
        json.dumps(customer_doc("c-001", email="Ana@Example.com", first_name="Ana")),
        json.dumps(customer_doc("c-002", email="ana@example.com", consent={"email": False})),
        json.dumps(customer_doc("c-003", email="bo@example.com")),
    ]
    assert import_customers(lines, "customers.jsonl", T0).imported == 3


def test_given_customer_when_profile_read_then_contact_and_consent(call):
    _people()
    status, body = call("campaign_api/customer_get.json")
    assert status == 200, body
    assert body["erased"] is False
    assert body["profile"]["first_name"] == "Ana"
    assert body["consent"] == {"email": True, "sms": False}
    assert "email_key" not in body["profile"]


def test_given_unknown_customer_when_profile_read_then_404(call):
    status, body = call(
        "campaign_api/customer_get.json",
        path="/customers/nobody",
        pathParameters={"customer_id": "nobody"},
    )
    assert (status, body["error"]) == (404, "not_found")


def test_given_erased_customer_when_profile_read_then_only_erased(call, clock):
    _people()
    from lifecycle.features.erasure import erase_customer

    erase_customer("c-001", T0)
    status, body = call("campaign_api/customer_get.json")
    assert status == 200
    assert (body["erased"], body["profile"], body["consent"]) == (True, {}, {})
    status, found = call("campaign_api/customer_find.json")
    assert found["customer_ids"] == ["c-002"]  # the tombstone keeps no address


def test_given_address_in_any_case_when_searched_then_every_customer_with_it(call):
    _people()
    status, body = call("campaign_api/customer_find.json")
    assert status == 200, body
    assert body["customer_ids"] == ["c-001", "c-002"]


@pytest.mark.parametrize("email", ["", "not-an-address", "a@@b.c", "x" * 400])
def test_given_bad_address_when_searched_then_422(call, email):
    status, body = call(
        "campaign_api/customer_find.json",
        queryStringParameters={"email": email},
        multiValueQueryStringParameters={"email": [email]},
    )
    assert status == 422
    assert body["errors"][0]["field"] == "email"
