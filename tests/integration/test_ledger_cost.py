"""What one e-mail costs the ledger (write units on the table and its indexes, measured by the
runner's cost meter on moto built from template.yaml), and the optional message.sent event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.boundary import AwsBoundary
from emulator.cost import CostMeter
from emulator.queues import SimulatedQueues
from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.pipeline.dispatcher import dispatch_due
from lifecycle.pipeline.planner import PlanSettings, plan_dated
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.store import ledger
from tests.builders import birthday_campaign, planned_delivery

KEY = b"integration-test-signing-key"
T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
DUE = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
ITEM = "bday#c-1#2027#email"
SETTINGS = PlanSettings(shards=4, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15))


class Recorder:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> None:  # noqa: N803
        self.entries += Entries


@pytest.fixture
def meter(aws: Any) -> Iterator[AwsBoundary]:
    hook = AwsBoundary(SimulatedQueues(lambda: DUE), cost=CostMeter({}))
    hook.install()
    hook.chaos_on = True
    try:
        yield hook
    finally:
        hook.uninstall()


@pytest.fixture
def planned(aws: Any) -> None:
    import_campaigns(json.dumps([birthday_campaign("bday")]), "campaigns.json", T0)
    customer = {
        "customer_id": "c-1",
        "email": "c-1@example.com",
        "first_name": "Ana",
        "timezone": "UTC",
        "birthday": "1990-03-14",
        "consent": {"email": True},
    }
    assert import_customers([json.dumps(customer)], "customers.jsonl", T0).imported == 1


def _writes(hook: AwsBoundary, function: str) -> dict[str, float]:
    return {
        name: units
        for name, units in hook.cost.run[function].write_units.items()
        if "Deliveries" in name or name.startswith(get_settings().deliveries_table)
    }


def test_given_one_email_when_planned_dispatched_and_sent_then_three_ledger_write_units(
    planned: None, meter: AwsBoundary
) -> None:
    table = get_settings().deliveries_table
    deps = SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))
    # Given the e-mail planned, When dispatched and sent
    with meter.handler("Planner"):
        assert plan_dated(T0, KEY, SETTINGS).created == {"queued": 1}
    with meter.handler("Dispatcher"):
        report = dispatch_due(
            DUE, sqs=client("sqs"), queue_url=get_settings().send_queue_url, shards=4
        )
        assert report.enqueued == 1
    with meter.handler("Sender"):
        assert process_delivery(ITEM, DUE, deps) == "sent"
    # Then the put writes the table and the one index once, the send is one write that
    # touches no index, and the dispatcher writes its partition's cursor (once per firing,
    # however many messages it hands over), nothing per message
    assert _writes(meter, "Planner") == {table: 1, f"{table}/by-send-time": 1}
    assert _writes(meter, "Sender") == {table: 1}
    assert _writes(meter, "Dispatcher") == {table: 1}
    # and the history still reads the whole item (status, history)
    (item,) = list(ledger.by_customer("c-1"))
    assert (item.status, [h.status for h in item.history]) == ("sent", ["queued", "sent"])
    assert [i.status for i in ledger.by_campaign("bday")] == ["sent"]


def test_given_a_burst_when_dispatched_then_one_cursor_write_per_shard_not_per_message(
    planned: None, meter: AwsBoundary
) -> None:
    table = get_settings().deliveries_table
    for n in range(40):
        ledger.create(
            planned_delivery(f"c-{n + 2}", DUE, campaign_id="bday"),
            T0,
            shards=4,
            ttl_days=400,
        )
    with meter.handler("Dispatcher"):
        report = dispatch_due(
            DUE, sqs=client("sqs"), queue_url=get_settings().send_queue_url, shards=4
        )
    assert report.enqueued == 40
    # 40 ids over 4 shards: 4 cursor writes, no write per message
    assert _writes(meter, "Dispatcher") == {table: 4}


def test_given_no_consumer_when_sent_then_no_message_sent_event(planned: None) -> None:
    plan_dated(T0, KEY, SETTINGS)
    events = Recorder()
    deps = SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"), events=events)
    assert not get_settings().publish_sent_events  # the default
    assert process_delivery(ITEM, DUE, deps) == "sent"
    assert events.entries == []


def test_given_a_consumer_when_sent_then_one_message_sent_event(planned: None) -> None:
    plan_dated(T0, KEY, SETTINGS)
    events = Recorder()
    settings = get_settings().model_copy(update={"publish_sent_events": True})
    deps = replace(
        SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"), events=events),
        settings=settings,
    )
    assert process_delivery(ITEM, DUE, deps) == "sent"
    (entry,) = events.entries
    assert entry["DetailType"] == "message.sent"
    assert json.loads(entry["Detail"])["delivery_id"] == ITEM


def test_given_many_items_when_read_by_customer_then_every_item_in_index_order(
    planned: None,
) -> None:
    # Given more ledger items for one customer than one BatchGetItem carries
    for n in range(ledger.BATCH_GET + 5):
        at = T0 + timedelta(minutes=n)
        ledger.create(
            planned_delivery("c-1", at, campaign_id="bday", occurrence=f"o{n:03d}"),
            T0,
            shards=4,
            ttl_days=400,
        )
    # When read back, Then all of them, whole, ordered by deliver_at
    items = list(ledger.by_customer("c-1"))
    assert [i.occurrence for i in items] == [f"o{n:03d}" for n in range(ledger.BATCH_GET + 5)]
    assert all(i.status == "queued" and i.timezone == "UTC" for i in items)
