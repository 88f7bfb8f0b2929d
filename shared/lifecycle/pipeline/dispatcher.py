"""Dispatcher: move due ledger items to the send queue.

Runs every few minutes. For each shard of the sparse ``due`` index it queries the items whose
``deliver_at`` has come, sends their ids to SQS in batches of 10 and then removes them from the
index. If the process dies between the two steps the next run sends the ids again; the sender's
claim makes that harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lifecycle.core.observability import logger
from lifecycle.store import ledger

SQS_BATCH = 10


@dataclass
class DispatchReport:
    enqueued: int = 0
    failed: int = 0
    already_moved: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "enqueued": self.enqueued,
            "failed": self.failed,
            "already_moved": self.already_moved,
        }


def dispatch_due(
    now: datetime, *, sqs: Any, queue_url: str, shards: int, limit_per_shard: int = 5000
) -> DispatchReport:
    report = DispatchReport()
    for shard in range(shards):
        ids = ledger.due_ids(str(shard), now, limit_per_shard)
        for start in range(0, len(ids), SQS_BATCH):
            batch = ids[start : start + SQS_BATCH]
            response = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps({"delivery_id": item_id})}
                    for i, item_id in enumerate(batch)
                ],
            )
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
