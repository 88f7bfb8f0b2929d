"""The dispatcher's cursors over the ledger's ``by-send-time`` index.

One cursor per shard, kept in the ledger's table under customer ``#dispatch`` (customer ids
never contain '#'): the slot (``deliver_at#delivery_id``) of the last id handed to the send
queue, and a version every move bumps. Only dispatchers move a cursor, and only forward, with
a write conditional on the version they read: two overlapping firings cannot move it back,
and the loser's ids (handed over twice) are made harmless by the sender's conditional write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from lifecycle.core.clock import utc_iso
from lifecycle.store.errors import condition_failed
from lifecycle.store.ledger import BATCH_GET, CURSOR_OWNER
from lifecycle.store.models import DeliveryModel, DispatchCursorModel


@dataclass(frozen=True)
class Cursor:
    shard: str
    slot: str | None  # the last slot handed over (None: nothing yet)
    version: int


def cursors(shards: int) -> list[Cursor]:
    """The dispatcher's cursor of every shard: as this process last saw it, else read (one
    BatchGetItem; eventually consistent is enough: a cursor read or remembered behind the
    table hands ids over again, which the sender makes harmless, and cannot be advanced)."""
    table = DispatchCursorModel.Meta.table_name
    known = DispatchCursorModel.known
    missing = [str(shard) for shard in range(shards) if (table, str(shard)) not in known]
    if missing:
        for shard in missing:
            known[(table, shard)] = (None, 0)
        keys = [(CURSOR_OWNER, shard) for shard in missing]
        for start in range(0, len(keys), BATCH_GET):
            for model in DispatchCursorModel.batch_get(keys[start : start + BATCH_GET]):
                known[(table, model.delivery_id)] = (model.cursor, int(model.version))
    return [Cursor(str(s), *known[(table, str(s))]) for s in range(shards)]


def due_after(cursor: Cursor, now: datetime, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` (slot, delivery id) of the shard planned to be sent, after the cursor
    and due by ``now``, oldest first."""
    end = f"{utc_iso(now)}$"  # '$' follows '#': every slot of ``now`` and before
    condition: Condition
    if cursor.slot is None:
        condition = DeliveryModel.slot <= end
    else:
        condition = DeliveryModel.slot.between(cursor.slot, end)
    found: list[tuple[str, str]] = []
    entries = DeliveryModel.by_send_time.query(
        cursor.shard,
        condition,
        filter_condition=DeliveryModel.to_send == True,  # noqa: E712
    )
    for entry in entries:
        if entry.slot == cursor.slot:
            continue
        found.append((str(entry.slot), entry.delivery_id))
        if len(found) == limit:
            break
    return found


def advance(cursor: Cursor, to_slot: str) -> bool:
    """Move the cursor forward to ``to_slot``; False when another firing moved it meanwhile
    (the next firing starts from where it is)."""
    condition = (
        DispatchCursorModel.version == cursor.version
        if cursor.version
        else DispatchCursorModel.customer_id.does_not_exist()
    )
    key = (DispatchCursorModel.Meta.table_name, cursor.shard)
    try:
        DispatchCursorModel(customer_id=CURSOR_OWNER, delivery_id=cursor.shard).update(
            actions=[
                DispatchCursorModel.cursor.set(to_slot),
                DispatchCursorModel.version.set(cursor.version + 1),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        DispatchCursorModel.known.pop(key, None)  # read it again next time
        if condition_failed(exc):
            return False
        raise
    DispatchCursorModel.known[key] = (to_slot, cursor.version + 1)
    return True
