"""The dispatcher paces sends to the account's rate; the reconciler settles dead letters."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lifecycle.core.aws import client
from lifecycle.pipeline.dispatcher import dispatch_due, firing_capacity
from lifecycle.pipeline.reconciler import reconcile_dead_letters
from lifecycle.store import dispatch_cursors, ledger
from tests.builders import planned_delivery

NOW = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


class RecordingSqs:
    """Accepts every batch and keeps the entries (DelaySeconds included)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.entries.extend(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _plan(count: int, deliver_at: datetime = NOW, prefix: str = "c") -> list[str]:
    ids = []
    for n in range(count):
        planned = planned_delivery(f"{prefix}-{n:04d}", deliver_at, context={"type": "birthday"})
        assert ledger.create(planned, NOW - timedelta(days=1), shards=1, ttl_days=30)
        ids.append(planned.delivery_id)
    return ids


def test_given_a_burst_when_dispatched_then_at_most_rate_messages_per_second(aws):
    # Given 40 deliveries due at the same instant and a send rate of 14/s
    _plan(40)
    sqs = RecordingSqs()
    # When one firing dispatches them
    report = dispatch_due(NOW, sqs=sqs, queue_url="q", shards=1, rate=14, interval_seconds=300)
    # Then all go out, spread so that no second gets more than 14
    assert report.enqueued == 40 and not report.deferred
    per_second = Counter(e.get("DelaySeconds", 0) for e in sqs.entries)
    assert per_second == {0: 14, 1: 14, 2: 12}


def test_given_more_than_a_firing_can_carry_when_dispatched_then_the_rest_waits_in_order(aws):
    # Given 150 deliveries due and a rate that carries 2/s x 60 s = 120 per firing
    ids = _plan(150)
    sqs = RecordingSqs()
    # When one firing runs
    report = dispatch_due(NOW, sqs=sqs, queue_url="q", shards=1, rate=2, interval_seconds=60)
    # Then 120 are handed over, the slowest one 59 s later, and 30 stay due for the next one
    assert (report.enqueued, report.deferred) == (120, True)
    assert max(e.get("DelaySeconds", 0) for e in sqs.entries) == 59
    (cursor,) = dispatch_cursors.cursors(1)
    assert len(dispatch_cursors.due_after(cursor, NOW, 1000)) == 30
    later = RecordingSqs()
    assert dispatch_due(NOW, sqs=later, queue_url="q", shards=1, rate=2, interval_seconds=60)
    assert {json.loads(e["MessageBody"])["delivery_id"] for e in later.entries} == set(ids[120:])


@pytest.mark.parametrize(
    ("rate", "interval", "shards", "expected"),
    [(14, 300, 4, 1050), (200, 300, 4, 15000), (1, 900, 64, 14), (1, 60, 64, 1)],
)
def test_given_rate_and_shards_when_capacity_computed_then_rate_times_interval(
    rate, interval, shards, expected
):
    assert firing_capacity(rate, interval, shards) == expected


# ---------------------------------------------------------------- dead letters
@pytest.fixture
def queues(aws: Any) -> tuple[Any, str, str]:
    sqs = client("sqs")
    return sqs, aws.queue_url("SendDLQ"), aws.queue_url("SendQueue")


def _dead_letter(sqs: Any, dlq: str, body: str) -> None:
    sqs.send_message(QueueUrl=dlq, MessageBody=body)


def _drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"])["delivery_id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_given_dead_letters_when_reconciled_then_every_item_final_or_requeued(queues):
    sqs, dlq, send_queue = queues
    # Given dead-lettered deliveries in every state
    [open_window] = _plan(1, NOW - timedelta(minutes=5), "open")
    [closed] = _plan(1, NOW - timedelta(hours=1), "closed")
    [stuck_sending] = _plan(1, NOW - timedelta(hours=1), "stuck")
    [leased] = _plan(1, NOW - timedelta(minutes=1), "leased")
    [done] = _plan(1, NOW - timedelta(hours=1), "done")
    stuck = ledger.get(stuck_sending)
    assert stuck is not None
    ledger.claim(stuck, NOW - timedelta(hours=1), 300)
    live = ledger.get(leased)
    assert live is not None
    ledger.claim(live, NOW - timedelta(seconds=30), 300)
    finished = ledger.get(done)
    assert finished is not None
    ledger.mark_skipped(finished, NOW, "no_consent", expected=ledger.QUEUED)
    for item_id in (open_window, closed, stuck_sending, leased, done):
        _dead_letter(sqs, dlq, json.dumps({"delivery_id": item_id}))
    _dead_letter(sqs, dlq, "not json")
    # When the reconciler runs
    report = reconcile_dead_letters(NOW, sqs=sqs, dlq_url=dlq, queue_url=send_queue, window=WINDOW)
    # Then nothing stays without a final state or a new attempt, and nothing is doubled
    assert report == Counter(requeued=1, skipped=1, failed=1, already_final=1, kept=1, malformed=1)
    assert _drain(sqs, send_queue) == [open_window]
    closed_item, stuck_item = ledger.get(closed), ledger.get(stuck_sending)
    assert closed_item is not None and stuck_item is not None
    assert (closed_item.status, closed_item.reason) == ("skipped", "send_window_missed")
    assert (stuck_item.status, stuck_item.reason) == ("failed", ledger.OUTCOME_UNKNOWN)
    leased_item = ledger.get(leased)
    assert leased_item is not None and leased_item.status == ledger.SENDING
