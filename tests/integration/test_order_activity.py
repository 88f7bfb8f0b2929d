"""Orders are activity: a placed or delivered order moves the customer's last activity forward
(orders stream fixture events/orders_stream/delivered.json), duplicates change nothing, and a
"we miss you" planned before the order is cancelled at send time."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.campaigns.model import parse_campaign
from lifecycle.campaigns.repository import save_campaign
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_customers
from lifecycle.occasions.inactivity import ACTIVE_AGAIN, order_activity
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.rules.orders import Order
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer
from tests.builders import campaign_doc, customer_doc, email_content
from tests.events import load_event

T0 = datetime(2027, 2, 1, tzinfo=UTC)
NOW = datetime(2027, 3, 3, 15, 1, tzinfo=UTC)


def stream(aws: Any) -> Any:
    handler = load_handler(aws.functions["OrdersStreamFunction"])
    return lambda event: handler(event, FakeLambdaContext("OrdersStreamFunction"))


def given_customer(last_active_at: str) -> None:
    line = json.dumps(
        customer_doc("c-001", timezone="Europe/Berlin", last_active_at=last_active_at)
    )
    assert import_customers([line], "customers.jsonl", NOW).imported == 1


def order(status: str, **extra: Any) -> Order:
    fields: dict[str, Any] = {
        "order_id": "o-1",
        "customer_id": "c-001",
        "status": status,
        "created_at": "2027-03-01T10:00:00Z",
        "delivered_at": None,
        "items": [],
    }
    fields.update(extra)
    return Order(**fields)


def test_given_order_changes_when_read_then_placed_and_delivered_are_activity_and_others_not():
    placed = order("placed")
    delivered = order("delivered", delivered_at="2027-03-03T15:00:00Z")
    shipped = order("shipped")
    assert order_activity(None, placed, NOW) == datetime(2027, 3, 1, 10, tzinfo=UTC)
    assert order_activity(shipped, delivered, NOW) == datetime(2027, 3, 3, 15, tzinfo=UTC)
    assert order_activity(placed, shipped, NOW) is None
    assert order_activity(delivered, order("returned"), NOW) is None
    assert order_activity(delivered, None, NOW) is None  # REMOVE
    # An instant in the future never counts beyond now; an unreadable one is not activity.
    future = order("placed", created_at="2027-05-01T00:00:00Z")
    assert order_activity(None, future, NOW) == NOW
    assert order_activity(None, order("placed", created_at="yesterday"), NOW) is None


def test_given_placed_and_delivered_records_when_streamed_twice_then_last_activity_moves_once(
    aws, clock
):
    given_customer("2027-01-15T08:00:00Z")
    clock.set(NOW)
    event = load_event("orders_stream/delivered.json")
    assert stream(aws)(event) == {"batchItemFailures": []}
    customer = get_customer("c-001")
    assert customer is not None
    assert customer["last_active_at"] == "2027-03-03T15:00:00Z"  # the delivery, the later one
    assert stream(aws)(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert get_customer("c-001")["last_active_at"] == "2027-03-03T15:00:00Z"  # type: ignore[index]


def test_given_older_order_record_when_streamed_late_then_activity_never_moves_back(aws, clock):
    given_customer("2027-03-02T20:00:00Z")
    clock.set(NOW)
    event = load_event("orders_stream/delivered.json")
    event["Records"] = [r for r in event["Records"] if r["eventName"] == "INSERT"]
    assert stream(aws)(event) == {"batchItemFailures": []}
    assert get_customer("c-001")["last_active_at"] == "2027-03-02T20:00:00Z"  # type: ignore[index]


def test_given_we_miss_you_planned_when_customer_orders_before_it_then_cancelled_at_send(
    aws, clock
):
    given_customer("2027-02-01T08:00:00Z")
    save_campaign(
        parse_campaign(
            campaign_doc(
                "miss",
                occasion={"type": "inactivity", "days": 30},
                send_at_local="18:00",
                content=email_content("We miss you", "Hi"),
            )
        ),
        T0,
    )
    send_at = datetime(2027, 3, 3, 17, 0, tzinfo=UTC)
    planned = ledger.PlannedDelivery(
        campaign_id="miss",
        customer_id="c-001",
        occurrence="2027-02-01",
        occasion="inactivity",
        channel="email",
        deliver_at=send_at,
        local_send_time=send_at,
        timezone="Europe/Berlin",
        context={
            "type": "inactivity",
            "date": "2027-03-03",
            "days": 30,
            "last_active_at": "2027-02-01T08:00:00Z",
            "last_active_date": "2027-02-01",
        },
    )
    assert ledger.create(planned, T0, shards=1, ttl_days=400)
    clock.set(NOW)
    assert stream(aws)(load_event("orders_stream/delivered.json")) == {"batchItemFailures": []}
    deps = SendDependencies(settings=get_settings(), key=b"k", sesv2=None)
    outcome = process_delivery(planned.delivery_id, send_at + timedelta(seconds=5), deps)
    assert outcome == f"skipped:{ACTIVE_AGAIN}"
