"""Reconciler: every message the send queue gave up on ends in a final state with a reason.

A delivery id lands in the send queue's DLQ when the sender failed on it too often (e.g. the
ledger was throttled on every attempt). Left there, its ledger item would stay ``queued``
(or ``sending``) for ever. Every few minutes this job reads the DLQ and, per delivery:

* already final (sent, skipped, failed): nothing to do;
* ``queued`` or ``sending`` with an expired lease, send window still open: back onto the
  send queue (the sender's claim keeps it exactly once);
* ``queued`` after the window: ``skipped(send_window_missed)``;
* ``sending`` with an expired lease after the window: ``failed(outcome_unknown)`` (a worker
  may have handed it to the provider);
* ``sending`` with a live lease: left in the DLQ for the next run.

The DLQ message is deleted once its item is dealt with; if the ledger cannot be read, the
run fails and the message stays for the next one.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from lifecycle.core.clock import parse_utc
from lifecycle.core.observability import logger
from lifecycle.store import ledger

SEND_WINDOW_MISSED = "send_window_missed"
MAX_MESSAGES_PER_RUN = 1000


def _delivery_id(body: str) -> str | None:
    try:
        value = json.loads(body)["delivery_id"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def reconcile_one(
    delivery_id: str, now: datetime, window: timedelta, sqs: Any, queue_url: str
) -> str | None:
    """Deal with one dead-lettered delivery; return what was done, None to keep it."""
    item = ledger.get(delivery_id)
    if item is None:
        return "missing"
    if item.status in ledger.FINAL_STATUSES:
        return "already_final"
    if item.status == ledger.SENDING and not ledger.lease_expired(item, now):
        return None
    window_open = now <= parse_utc(item.deliver_at) + window
    if window_open:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"delivery_id": delivery_id}))
        return "requeued"
    try:
        if item.status == ledger.QUEUED:
            ledger.mark_skipped(item, now, SEND_WINDOW_MISSED, expected=ledger.QUEUED)
            return "skipped"
        ledger.mark_failed(
            item,
            now,
            ledger.OUTCOME_UNKNOWN,
            "dead-lettered while being sent; provider outcome unknown",
        )
        return "failed"
    except ledger.LedgerConflictError:
        return "changed"  # someone else finished it meanwhile


def reconcile_dead_letters(
    now: datetime,
    *,
    sqs: Any,
    dlq_url: str,
    queue_url: str,
    window: timedelta,
    max_messages: int = MAX_MESSAGES_PER_RUN,
) -> Counter[str]:
    """Drain the send DLQ (up to ``max_messages``); count what happened to each message."""
    report: Counter[str] = Counter()
    seen = 0
    while seen < max_messages:
        response = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        for message in messages:
            seen += 1
            delivery_id = _delivery_id(message.get("Body", ""))
            if delivery_id is None:
                logger.error("dead letter without a delivery id", message_id=message["MessageId"])
                outcome: str | None = "malformed"
            else:
                outcome = reconcile_one(delivery_id, now, window, sqs, queue_url)
            if outcome is None:
                report["kept"] += 1
                continue
            report[outcome] += 1
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
    return report
