"""The dispatcher walks the ledger's by-send-time index with a cursor per shard: nothing is
handed over twice by one firing, nothing is skipped when SQS refuses part of a batch or two
firings overlap, and an item planned too late for the cursor goes to the queue from the
planner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from lifecycle.campaigns.model import parse_campaign
from lifecycle.campaigns.repository import save_campaign
from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_customers
from lifecycle.pipeline.dispatcher import dispatch_due
from lifecycle.pipeline.planner import PlanSettings, plan_dated
from lifecycle.store import dispatch_cursors, ledger
from tests.builders import birthday_campaign, customer_doc, planned_delivery

NOW = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
KEY = b"dispatch-cursor-test-key"


class Sqs:
    """Records batches; refuses the entries whose delivery id is in ``refuse``."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = refuse or set()
        self.ids: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        ok, failed = [], []
        for entry in Entries:
            item_id = json.loads(entry["MessageBody"])["delivery_id"]
            if item_id in self.refuse:
                failed.append({"Id": entry["Id"], "Code": "InternalError", "SenderFault": False})
            else:
                ok.append({"Id": entry["Id"]})
                self.ids.append(item_id)
        return {"Successful": ok, "Failed": failed}


def _plan(count: int, deliver_at: datetime = NOW, skip: str | None = None) -> list[str]:
    ids = []
    for n in range(count):
        planned = planned_delivery(f"c-{n:03d}{'-s' if skip else ''}", deliver_at, skip_reason=skip)
        assert ledger.create(planned, NOW - timedelta(days=1), shards=1, ttl_days=30)
        ids.append(planned.delivery_id)
    return ids


def test_given_due_and_skipped_items_when_dispatched_then_only_the_due_ones_once(aws):
    # Given 3 items to send, 2 recorded skipped when planned and 1 due only tomorrow
    due = _plan(3)
    _plan(2, skip="no_consent")
    tomorrow = planned_delivery("later", NOW + timedelta(days=1))
    assert ledger.create(tomorrow, NOW - timedelta(days=1), shards=1, ttl_days=30)
    sqs = Sqs()
    # When the dispatcher fires twice at the same instant
    first = dispatch_due(NOW, sqs=sqs, queue_url="q", shards=1)
    second = dispatch_due(NOW, sqs=sqs, queue_url="q", shards=1)
    # Then the due ones went once, in send order, and the cursor sits on the last one
    assert (first.enqueued, second.enqueued) == (3, 0)
    assert sqs.ids == sorted(due)
    (cursor,) = dispatch_cursors.cursors(1)
    assert cursor.slot == ledger.slot("2027-03-14T09:00:00Z", sorted(due)[-1])
    # and tomorrow's goes tomorrow
    assert dispatch_due(NOW + timedelta(days=1), sqs=sqs, queue_url="q", shards=1).enqueued == 1
    assert sqs.ids[-1] == tomorrow.delivery_id


def test_given_sqs_refuses_one_id_when_dispatched_then_the_cursor_stops_before_it(aws):
    # Given 5 due items and a queue that refuses the third
    ids = sorted(_plan(5))
    sqs = Sqs(refuse={ids[2]})
    # When a firing hands them over
    report = dispatch_due(NOW, sqs=sqs, queue_url="q", shards=1, threads=1)
    # Then 4 went, 1 failed, and the cursor stopped before the refused one
    assert (report.enqueued, report.failed) == (4, 1)
    (cursor,) = dispatch_cursors.cursors(1)
    assert cursor.slot == ledger.slot("2027-03-14T09:00:00Z", ids[1])
    # and the next firing hands over the refused one (and those after it again: the sender's
    # conditional write makes a second copy harmless)
    retry = Sqs()
    assert dispatch_due(NOW, sqs=retry, queue_url="q", shards=1).enqueued == 3
    assert retry.ids == ids[2:]


def test_given_two_overlapping_firings_when_both_advance_then_one_wins_and_nothing_is_lost(
    aws,
):
    # Given a firing that read the cursor, then another firing that ran to the end
    ids = sorted(_plan(4))
    (stale,) = dispatch_cursors.cursors(1)
    assert dispatch_due(NOW, sqs=Sqs(), queue_url="q", shards=1).enqueued == 4
    # When the first one tries to move the cursor from what it read
    moved = dispatch_cursors.advance(stale, ledger.slot("2027-03-14T09:00:00Z", ids[1]))
    # Then it is refused (the cursor is not moved back) and nothing is due any more
    assert moved is False
    (cursor,) = dispatch_cursors.cursors(1)
    assert cursor.slot == ledger.slot("2027-03-14T09:00:00Z", ids[-1])
    assert dispatch_due(NOW, sqs=Sqs(), queue_url="q", shards=1).enqueued == 0


def _birthday_customer(aws: Any, activated: datetime) -> None:
    save_campaign(parse_campaign(birthday_campaign()), activated)
    lines = [json.dumps(customer_doc("c-1", birthday="1990-03-14", timezone="UTC"))]
    assert import_customers(lines, "customers.jsonl", activated).imported == 1


def _settings(ahead_days: int) -> PlanSettings:
    """The planner's settings as the template gives them (the send queue included)."""
    return PlanSettings(
        shards=1,
        ttl_days=400,
        ahead_days=ahead_days,
        max_send_delay=timedelta(minutes=15),
        send_queue_url=get_settings().send_queue_url,
    )


def _queued_bodies() -> list[dict[str, Any]]:
    sqs = client("sqs")
    url = get_settings().send_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_given_an_item_planned_after_the_dispatcher_passed_its_time_then_the_planner_queues_it(
    aws,
):
    # Given the dispatcher's cursor already past 09:00 (a firing at 09:05 found nothing) and
    # a campaign activated at 08:59 whose planner runs at 09:05, inside the send window
    _birthday_customer(aws, datetime(2027, 3, 14, 8, 59, tzinfo=UTC))
    _plan(1, deliver_at=datetime(2027, 3, 14, 9, 4, tzinfo=UTC))
    assert dispatch_due(NOW + timedelta(minutes=5), sqs=Sqs(), queue_url="q", shards=1).enqueued
    settings = _settings(ahead_days=0)
    # When the planner plans the 09:00 birthday at 09:05
    report = plan_dated(NOW + timedelta(minutes=5), KEY, settings)
    # Then it is queued in the ledger and on the send queue at once (the dispatcher's cursor
    # is past it)
    assert report.created == {"queued": 1} and report.enqueued_late == 1
    assert _queued_bodies() == [{"delivery_id": "bday-2027#c-1#2027#email"}]
    assert (
        dispatch_due(NOW + timedelta(minutes=10), sqs=Sqs(), queue_url="q", shards=1).enqueued == 0
    )


def test_given_an_item_planned_a_day_ahead_then_the_planner_leaves_it_to_the_dispatcher(aws):
    _birthday_customer(aws, datetime(2027, 3, 12, 0, 0, tzinfo=UTC))
    settings = _settings(ahead_days=1)
    report = plan_dated(datetime(2027, 3, 13, 0, 0, tzinfo=UTC), KEY, settings)
    assert report.created == {"queued": 1} and report.enqueued_late == 0
    assert _queued_bodies() == []
    sqs = Sqs()
    assert dispatch_due(NOW, sqs=sqs, queue_url="q", shards=1).enqueued == 1
    assert sqs.ids == ["bday-2027#c-1#2027#email"]
