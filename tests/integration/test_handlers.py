"""The real handlers with the event shapes AWS delivers (events/), on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import sign_unsubscribe
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer
from tests.builders import campaign_doc, customer_doc, email_content
from tests.events import load_event

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
CAMPAIGN = campaign_doc(
    "bday-2027",
    name="Birthday",
    content=email_content("Happy birthday!", "Hi {{ first_name }}"),
)


def _stored(customer_id: str) -> dict[str, Any]:
    customer = get_customer(customer_id)
    assert customer is not None
    return customer


def handler(aws: Any, logical_id: str) -> Any:
    return load_handler(aws.functions[logical_id])


def ctx(name: str) -> FakeLambdaContext:
    return FakeLambdaContext(function_name=name)


@pytest.fixture
def world(aws, clock):
    import_campaigns(json.dumps([CAMPAIGN]), "campaigns.json", T0)
    customers = [
        customer_doc(cid, birthday="1990-03-14", timezone="UTC") for cid in ("c-001", "c-002")
    ]
    import_customers([json.dumps(c) for c in customers], "customers.jsonl", T0)
    return aws


def test_given_scheduled_events_when_planner_and_dispatcher_run_then_queue_holds_due_ids(
    world, clock
):
    clock.set(T0)
    report = handler(world, "PlannerFunction")(load_event("planner/scheduled.json"), ctx("planner"))
    assert report["created"] == {"queued": 2}
    clock.set(datetime(2027, 3, 14, 9, 0, tzinfo=UTC))
    dispatched = handler(world, "DispatcherFunction")(
        load_event("dispatcher/scheduled.json"), ctx("dispatcher")
    )
    assert dispatched["enqueued"] == 2


def test_given_sqs_batch_fixture_when_sender_runs_twice_then_two_messages_only(world, clock):
    clock.set(T0)
    handler(world, "PlannerFunction")(load_event("planner/scheduled.json"), ctx("planner"))
    clock.set(datetime(2027, 3, 14, 9, 2, tzinfo=UTC))
    event = load_event("sender/sqs_batch.json")
    send = handler(world, "SenderFunction")
    assert send(event, ctx("sender")) == {"batchItemFailures": []}
    assert send(event, ctx("sender")) == {"batchItemFailures": []}
    from moto.ses.models import ses_backends

    assert len(ses_backends["123456789012"]["us-east-1"].sent_messages) == 2
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None and item.status == "sent"


def test_given_malformed_sqs_body_when_sender_runs_then_only_that_record_fails(world, clock):
    event = load_event("sender/sqs_batch.json")
    event["Records"][1]["body"] = "not json"
    result = handler(world, "SenderFunction")(event, ctx("sender"))
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def _unsubscribe_event(name: str, token: str) -> dict[str, Any]:
    event = load_event(f"unsubscribe/{name}")
    event["path"] = f"/u/{token}"
    event["pathParameters"] = {"token": token}
    return event


def _token(now: datetime, ttl_days: int = 90) -> str:
    key = signing_keys(get_settings())
    return sign_unsubscribe(
        key,
        customer_id="c-001",
        channel="email",
        campaign_id="bday-2027",
        now=now,
        ttl_days=ttl_days,
    )


def test_given_valid_token_when_get_then_confirmation_page_and_nothing_changes(world, clock):
    clock.set(T0)
    response = handler(world, "UnsubscribeFunction")(
        _unsubscribe_event("get.json", _token(T0)), ctx("unsubscribe")
    )
    assert response["statusCode"] == 200
    assert '<form method="post"' in response["body"]
    assert _stored("c-001")["consent"]["email"] is True


def test_given_valid_token_when_one_click_post_then_unsubscribed_once(world, clock):
    clock.set(T0)
    token = _token(T0)
    unsubscribe = handler(world, "UnsubscribeFunction")
    first = unsubscribe(_unsubscribe_event("post_one_click.json", token), ctx("unsubscribe"))
    assert first["statusCode"] == 200
    customer = _stored("c-001")
    assert customer["consent"]["email"] is False
    assert customer["unsubscribed"] == {"email": "2027-03-13T00:00:00Z"}
    clock.set(T0 + timedelta(hours=1))
    again = unsubscribe(_unsubscribe_event("post_one_click.json", token), ctx("unsubscribe"))
    assert again["statusCode"] == 200
    assert _stored("c-001")["unsubscribed"] == {"email": "2027-03-13T00:00:00Z"}
    assert _stored("c-002")["consent"]["email"] is True


@pytest.mark.parametrize(
    ("make_token", "status"),
    [
        (lambda: _token(T0)[:-3] + "abc", 403),
        (lambda: "garbage", 400),
        (lambda: _token(T0 - timedelta(days=100), ttl_days=90), 410),
    ],
    ids=["forged", "malformed", "expired"],
)
@pytest.mark.parametrize("method", ["get.json", "post_one_click.json"])
def test_given_bad_token_when_called_then_4xx_and_nothing_changed(
    world, clock, make_token, status, method
):
    clock.set(T0)
    response = handler(world, "UnsubscribeFunction")(
        _unsubscribe_event(method, make_token()), ctx("unsubscribe")
    )
    assert response["statusCode"] == status
    assert _stored("c-001")["consent"]["email"] is True


def test_given_s3_event_when_importer_runs_then_report_written(world):
    import boto3

    s3 = boto3.client("s3")
    bucket = world.physical["ImportBucket"]
    event = load_event("importer/s3_put_customers.json")
    key = event["Records"][0]["s3"]["object"]["key"]
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    body = '{"customer_id": "c-9", "email": "x@example.com"}\n{"customer_id": "bad id"}\n'
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    result = handler(world, "ImporterFunction")(event, ctx("importer"))
    assert result["results"][0]["imported"] == 1
    assert result["results"][0]["rejected"][0]["line"] == 2
    stored = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read())
    # The kept report names the field, not the value, and no id the importer refused.
    assert (stored["rejected"][0]["reason"], stored["rejected"][0]["id"]) == ("customer_id", None)
    assert result["results"][0]["rejected"][0]["reason"].startswith("customer_id:")
