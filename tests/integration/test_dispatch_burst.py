"""A burst is drained as fast as the send rate allows, and what it cannot carry is known when
it is planned (the send rate scaled down so 1,000 deliveries show it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.campaigns.repository import change_status, create_campaign
from lifecycle.core import settings as settings_module
from lifecycle.pipeline.dispatcher import DispatchReport, dispatch_due, over_capacity
from lifecycle.rules.records import parse_customer
from lifecycle.store import ledger
from lifecycle.store.customers import upsert_customer
from tests.builders import campaign_doc, customer_doc, planned_delivery
from tests.events import load_event

T = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)  # MAX_SEND_DELAY_MINUTES' default
INTERVAL = 300
SHARDS = 4


class RecordingSqs:
    """Accepts every batch and keeps (firing, entry) pairs."""

    def __init__(self) -> None:
        self.entries: list[tuple[datetime, dict[str, Any]]] = []
        self.firing = T

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.entries.extend((self.firing, e) for e in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _burst(count: int) -> None:
    for n in range(count):
        planned = planned_delivery(f"c-{n:04d}", T, context={"type": "birthday"})
        assert ledger.create(planned, T - timedelta(days=1), shards=SHARDS, ttl_days=30)


@pytest.mark.parametrize(("rate", "late"), [(2, 0), (1, 99)])
def test_given_1000_due_at_one_instant_when_dispatched_then_late_ones_as_planned(aws, rate, late):
    # Given 1,000 deliveries due at 09:00 in 4 shards, and the plan-time check of them
    _burst(1000)
    predicted = over_capacity({T: 1000}, rate=rate, interval_seconds=INTERVAL, window=WINDOW)
    sqs = RecordingSqs()
    # When the dispatcher fires every 5 minutes (4 threads) until nothing is due
    firing, reports = T, list[DispatchReport]()
    while not reports or reports[-1].deferred:
        sqs.firing = firing
        reports.append(
            dispatch_due(
                firing,
                sqs=sqs,
                queue_url="q",
                shards=SHARDS,
                rate=rate,
                interval_seconds=INTERVAL,
                threads=4,
            )
        )
        firing += timedelta(seconds=INTERVAL)
    # Then every delivery was handed over once, at most `rate` a second per firing ...
    ids = [json.loads(e["MessageBody"])["delivery_id"] for _, e in sqs.entries]
    assert len(ids) == len(set(ids)) == 1000
    assert sum(r.enqueued for r in reports) == 1000
    assert all(
        r.enqueued == min(rate * INTERVAL, 1000 - i * rate * INTERVAL)
        for i, r in enumerate(reports)
    )
    # ... and exactly the ones the planner's check predicted reach the sender too late
    reach = [f + timedelta(seconds=e.get("DelaySeconds", 0)) for f, e in sqs.entries]
    assert sum(1 for at in reach if at - T > WINDOW) == predicted.over_capacity == late


def test_given_a_dispatch_without_threads_then_the_same_order_and_delays(aws):
    # The local runner dispatches from one thread; the outcome is the same as with a pool.
    _burst(30)
    serial, pooled = RecordingSqs(), RecordingSqs()
    assert dispatch_due(T, sqs=serial, queue_url="q", shards=SHARDS, rate=14, threads=1)
    got = sorted((e.get("DelaySeconds", 0), e["MessageBody"]) for _, e in serial.entries)
    assert len(got) == 30 and max(d for d, _ in got) == 2
    assert (
        dispatch_due(T, sqs=pooled, queue_url="q", shards=SHARDS, rate=14, threads=8).enqueued == 0
    )


def _birthday_shop(count: int) -> None:
    version = create_campaign(campaign_doc("bday", status="draft"), T - timedelta(days=2)).version
    change_status("bday", "active", T - timedelta(days=2), version)
    for n in range(count):
        doc = customer_doc(f"c-{n:03d}", birthday="1990-03-14", timezone="UTC")
        upsert_customer(parse_customer(doc, T), T - timedelta(days=2))


@pytest.mark.parametrize(("rate", "over"), [(1, 9), (14, 0)])
def test_given_more_due_than_the_rate_carries_when_planned_then_warned_at_plan_time(
    aws, clock, monkeypatch, capsys, rate, over
):
    # Given 70 birthdays at 09:00 and a send rate of 1/s with 1-minute firings and window:
    # 60 go in the first firing, 1 on time in the second, 9 cannot make it
    monkeypatch.setenv("MAX_SEND_RATE", str(rate))
    monkeypatch.setenv("DISPATCH_INTERVAL_SECONDS", "60")
    monkeypatch.setenv("MAX_SEND_DELAY_MINUTES", "1")
    settings_module.reset_settings()
    _birthday_shop(70)
    # When the daily planner runs the day before
    clock.set(datetime(2027, 3, 13, 0, 0, tzinfo=UTC))
    result = load_handler(aws.functions["PlannerFunction"])(
        load_event("planner/scheduled.json"), FakeLambdaContext(function_name="planner")
    )
    # Then its report and its metric say how many the rate cannot send inside the window
    assert result["created"] == {"queued": 70}
    capacity = result["capacity"]
    assert capacity["over_capacity"] == over
    assert (capacity["planned"], capacity["busiest_interval_due"]) == (70, 70)
    assert capacity["busiest_interval"] == "2027-03-14T09:00:00Z"
    # (the handler also logs a warning when it is not zero)
    assert f'"DeliveriesOverSendRate":[{over:.1f}]' in capsys.readouterr().out
