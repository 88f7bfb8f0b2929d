"""Dispatcher: move due ledger items to the send queue, paced to the account's send rate.

Runs every ``interval`` seconds (the template's schedule, 5 minutes). For each shard of the
sparse ``due`` index it queries the items whose ``deliver_at`` has come (oldest first), sends
their ids to SQS in batches of 10 and then removes them from the index. If the process dies
between the two steps the next run sends the ids again; the sender's claim makes that
harmless.

Pacing (SES has a maximum send rate per account, 14 messages/s by default): one firing
hands over at most ``rate x interval`` ids and gives the i-th of them ``DelaySeconds =
i // rate``, so the sender receives at most ``rate`` new messages in any second and one
firing's messages are all visible before the next firing starts. What a firing cannot carry
stays in the due index, oldest first, for the next one; a message that then reaches the
sender after its send window is skipped there as ``send_window_missed`` (README, "Sending
rate", has the arithmetic).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lifecycle.core.observability import logger
from lifecycle.store import ledger

SQS_BATCH = 10
MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds


@dataclass
class DispatchReport:
    enqueued: int = 0
    failed: int = 0
    already_moved: int = 0
    deferred: bool = False  # more was due than the send rate lets through in one firing

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "enqueued": self.enqueued,
            "failed": self.failed,
            "already_moved": self.already_moved,
            "deferred": self.deferred,
        }


def firing_capacity(rate: int, interval_seconds: int, shards: int) -> int:
    """How many ids one firing hands over per shard at ``rate`` messages per second."""
    window = min(interval_seconds, MAX_DELAY_SECONDS)
    return max(1, rate * window // shards)


def dispatch_due(
    now: datetime,
    *,
    sqs: Any,
    queue_url: str,
    shards: int,
    rate: int = 14,
    interval_seconds: int = 300,
) -> DispatchReport:
    report = DispatchReport()
    capacity = firing_capacity(rate, interval_seconds, shards)
    position = 0  # across shards: the pacing slot of the next id
    for shard in range(shards):
        ids = ledger.due_ids(str(shard), now, capacity + 1)
        if len(ids) > capacity:
            report.deferred = True
            ids = ids[:capacity]
        for start in range(0, len(ids), SQS_BATCH):
            batch = ids[start : start + SQS_BATCH]
            entries = []
            for i, item_id in enumerate(batch):
                entry: dict[str, Any] = {
                    "Id": str(i),
                    "MessageBody": json.dumps({"delivery_id": item_id}),
                }
                delay = min(MAX_DELAY_SECONDS, (position + i) // rate)
                if delay:
                    entry["DelaySeconds"] = delay
                entries.append(entry)
            position += len(batch)
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                report.failed += 1
                logger.error(
                    "send queue rejected a delivery id",
                    delivery_id=batch[int(failure["Id"])],
                    code=failure.get("Code"),
                )
            for success in response.get("Successful", []):
                if ledger.mark_enqueued(batch[int(success["Id"])], now):
                    report.enqueued += 1
                else:
                    report.already_moved += 1
    return report
