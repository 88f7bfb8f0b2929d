"""Usage events, the Orders stream, surveys, holiday fan-out and SMS on moto."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.aws import client
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.features.surveys import submit_answer, survey_stats
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer
from lifecycle.store.models import SurveyResponseModel
from tests.events import load_event

T0 = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)


def _handler(aws: Any, logical_id: str) -> Any:
    return load_handler(aws.functions[logical_id])


def _ctx() -> FakeLambdaContext:
    return FakeLambdaContext()


def _campaign(
    cid: str,
    occasion: dict[str, Any],
    channels: list[str] | None = None,
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "campaign_id": cid,
        "name": cid,
        "status": "active",
        "occasion": occasion,
        "channels": channels or ["email"],
        "send_at_local": "09:00",
        "default_timezone": "UTC",
        "content": content or {"email": {"en": {"subject": "Hi", "text": "Hello"}}},
    }


def _customers(*records: dict[str, Any]) -> None:
    base = {"email": None, "timezone": "UTC", "consent": {"email": True, "sms": True}}
    lines = [json.dumps({**base, "email": f"{r['customer_id']}@example.com", **r}) for r in records]
    result = import_customers(lines, "customers.jsonl", T0)
    assert not result.rejected, result.rejected


def _deps() -> SendDependencies:
    settings = get_settings()
    return SendDependencies(
        settings=settings, key=signing_keys(settings), sesv2=client("sesv2"), sns=client("sns")
    )


# ---------------------------------------------------------------- usage events
def test_given_usage_events_when_ingested_then_last_activity_only_moves_forward(aws, clock):
    clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))  # the fixture event's time
    _customers({"customer_id": "c-001", "last_active_at": "2027-03-01T00:00:00Z"})
    usage = _handler(aws, "UsageFunction")
    event = load_event("usage/usage_recorded.json")
    assert usage(event, _ctx()) == {"status": "updated"}
    assert usage(event, _ctx()) == {"status": "stale"}  # duplicate delivery
    older = json.loads(json.dumps(event))
    older["detail"]["at"] = "2027-03-10T00:00:00Z"
    assert usage(older, _ctx()) == {"status": "stale"}  # out of order: never backwards
    customer = get_customer("c-001")
    assert customer is not None and customer["last_active_at"] == "2027-03-20T08:14:59Z"
    unknown = json.loads(json.dumps(event))
    unknown["detail"]["customer_id"] = "nobody"
    assert usage(unknown, _ctx()) == {"status": "unknown_customer"}
    broken = json.loads(json.dumps(event))
    del broken["detail"]["at"]
    assert usage(broken, _ctx())["status"] == "invalid"


# ---------------------------------------------------------------- orders stream
@pytest.fixture
def shop(aws, clock):
    import_campaigns(
        json.dumps(
            [
                _campaign(
                    "restock",
                    {"type": "replenishment", "days_after_purchase": 30, "skus": ["COFFEE-1KG"]},
                    content={
                        "email": {
                            "en": {
                                "subject": "Restock {{ product.name }}",
                                "text": "{{ order.order_id }}",
                            }
                        }
                    },
                ),
                _campaign(
                    "nps",
                    {"type": "post_purchase_survey", "delay_days": 3, "kind": "nps"},
                    content={
                        "email": {
                            "en": {"subject": "How did we do?", "text": "Answer: {{ survey_url }}"}
                        }
                    },
                ),
            ]
        ),
        "campaigns.json",
        T0,
    )
    _customers({"customer_id": "c-001", "timezone": "Europe/Berlin", "locale": "de-DE"})
    orders = client("dynamodb")
    item = load_event("orders_stream/delivered.json")["Records"][0]["dynamodb"]["NewImage"]
    orders.put_item(TableName=get_settings().orders_table, Item=item)
    return aws


def test_given_order_delivered_record_when_stream_redelivered_then_items_created_once(shop, clock):
    clock.set(datetime(2027, 3, 3, 15, 1, tzinfo=UTC))
    stream = _handler(shop, "OrdersStreamFunction")
    event = load_event("orders_stream/delivered.json")
    assert stream(event, _ctx()) == {"batchItemFailures": []}
    assert stream(event, _ctx()) == {"batchItemFailures": []}
    restock = ledger.get("restock#c-001#o-1001#email")
    survey = ledger.get("nps#c-001#o-1001#email")
    assert restock is not None and restock.deliver_at == "2027-04-02T07:00:00Z"  # 09:00 CEST
    assert survey is not None and survey.deliver_at == "2027-03-06T08:00:00Z"  # 09:00 CET
    assert ledger.get("restock#c-001#o-1002#email") is None  # INSERT of a placed order


def test_given_survey_sent_when_answered_then_one_response_updated_and_detractor_once(shop, clock):
    clock.set(datetime(2027, 3, 3, 15, 1, tzinfo=UTC))
    _handler(shop, "OrdersStreamFunction")(load_event("orders_stream/delivered.json"), _ctx())
    now = datetime(2027, 3, 6, 8, 0, tzinfo=UTC)
    assert process_delivery("nps#c-001#o-1001#email", now, _deps()) == "sent"
    from moto.ses.models import ses_backends

    raw = ses_backends["123456789012"]["us-east-1"].sent_messages[0].raw_data
    match = re.search(
        r"/s/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", raw.replace("=\r\n", "").replace("=\n", "")
    )
    assert match is not None
    token = match.group(1)
    page_event = load_event("survey/get.json")
    page_event["pathParameters"] = {"token": token}
    page_event["path"] = f"/s/{token}"
    survey = _handler(shop, "SurveyFunction")
    page = survey(page_event, _ctx())
    assert page["statusCode"] == 200
    assert page["body"].count('type="radio"') == 11 and "<script" not in page["body"]
    assert 'lang="de-DE"' in page["body"]

    class Recorder:
        def __init__(self) -> None:
            self.entries: list[dict[str, Any]] = []

        def put_events(self, Entries: list[dict[str, Any]]) -> None:  # noqa: N803
            self.entries += Entries

    events = Recorder()
    key = signing_keys(get_settings())
    assert submit_answer(token, "score=3&comment=late", key, now, events).status == 200
    assert submit_answer(token, "score=4", key, now + timedelta(hours=1), events).status == 200
    assert submit_answer(token, "score=11", key, now, events).status == 400
    stored = list(SurveyResponseModel.scan())
    assert len(stored) == 1
    assert (int(stored[0].score), int(stored[0].revisions)) == (4, 2)
    assert stored[0].first_answered_at == "2027-03-06T08:00:00Z"
    assert [json.loads(e["Detail"])["score"] for e in events.entries] == [3]
    assert events.entries[0]["DetailType"] == "survey.detractor"
    assert survey_stats("nps") == {
        "responses": 1,
        "nps": -100.0,
        "csat": None,
        "promoters": 0,
        "passives": 0,
        "detractors": 1,
    }
    post = load_event("survey/post_answer.json")
    forged = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    post["pathParameters"] = {"token": forged}
    post["path"] = f"/s/{forged}"
    assert survey(post, _ctx())["statusCode"] == 403


# ---------------------------------------------------------------- holiday fan-out
def _ids_in_shard(shard: int, count: int) -> list[str]:
    ids: list[str] = []
    n = 0
    while len(ids) < count:
        n += 1
        if zlib.crc32(f"de-{n}".encode()) % 16 == shard:
            ids.append(f"de-{n}")
    return ids


def test_given_plan_task_fixture_when_worker_runs_twice_then_one_greeting_each(aws, clock):
    import_campaigns(
        json.dumps(
            [
                _campaign(
                    "xmas-2027",
                    {"type": "holiday", "countries": ["DE", "US"], "holidays": ["Christmas Day"]},
                )
            ]
        ),
        "campaigns.json",
        T0,
    )
    in_shard = _ids_in_shard(3, 2)
    other = _ids_in_shard(4, 1)
    _customers(
        *[
            {"customer_id": cid, "country": "DE", "timezone": "Europe/Berlin"}
            for cid in in_shard + other
        ]
    )
    clock.set(datetime(2027, 12, 24, 0, 0, tzinfo=UTC))
    worker = _handler(aws, "PlanWorkerFunction")
    event = load_event("plan_worker/sqs_task.json")
    assert worker(event, _ctx()) == {"batchItemFailures": []}
    assert worker(event, _ctx()) == {"batchItemFailures": []}
    for cid in in_shard:
        item = ledger.get(f"xmas-2027#{cid}#2027-12-25#email")
        assert item is not None and item.deliver_at == "2027-12-25T08:00:00Z"
    assert ledger.get(f"xmas-2027#{other[0]}#2027-12-25#email") is None  # another shard's task


def test_given_malformed_plan_task_when_worker_runs_then_reported_as_failure(aws, clock):
    event = load_event("plan_worker/sqs_task.json")
    event["Records"][0]["body"] = '{"campaign_id": "x"}'
    # Every record failed: Powertools raises so that Lambda retries, then the DLQ keeps it.
    with pytest.raises(BatchProcessingError, match="All records failed"):
        _handler(aws, "PlanWorkerFunction")(event, _ctx())


# ---------------------------------------------------------------- SMS
def test_given_sms_campaign_when_sent_then_sns_gets_text_and_opted_out_numbers_are_recorded(
    aws, clock
):
    from lifecycle.pipeline.planner import PlanSettings, plan_dated

    import_campaigns(
        json.dumps(
            [
                _campaign(
                    "bday-sms",
                    {"type": "birthday"},
                    ["sms"],
                    {"sms": {"en": {"text": "Happy birthday {{ first_name }}!"}}},
                )
            ]
        ),
        "campaigns.json",
        T0,
    )
    _customers(
        {
            "customer_id": "c-ok",
            "first_name": "Kim",
            "phone": "+12025550143",
            "birthday": "1990-03-01",
        },
        {
            "customer_id": "c-stop",
            "first_name": "Lee",
            "phone": "+12025550199",
            "birthday": "1990-03-01",
        },
        {"customer_id": "c-nophone", "birthday": "1990-03-01"},
        {
            "customer_id": "c-noconsent",
            "phone": "+12025550144",
            "birthday": "1990-03-01",
            "consent": {"email": True, "sms": False},
        },
    )
    report = plan_dated(
        T0,
        signing_keys(get_settings()),
        PlanSettings(shards=1, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15)),
    )
    assert report.created == {"queued": 2, "no_address": 1, "no_consent": 1}
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert process_delivery("bday-sms#c-ok#2027#sms", now, _deps()) == "sent"
    assert process_delivery("bday-sms#c-stop#2027#sms", now, _deps()) == "skipped:unsubscribed"
    from moto.sns.models import sns_backends

    sent = list(sns_backends["123456789012"]["us-east-1"].sms_messages.values())
    assert [(s[0], s[1]) for s in sent] == [
        ("+12025550143", "Happy birthday Kim! Reply STOP to opt out.")
    ]
    stopped = get_customer("c-stop")
    assert stopped is not None and "sms" in stopped["unsubscribed"]
