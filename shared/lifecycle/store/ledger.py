"""Delivery ledger: the exactly-once write, the dispatcher's cursors and the send write.

Status machine::

    queued --send--> sent | skipped(reason) | failed(reason)
    queued --claim--> sending --> sent | skipped(reason) | failed(reason)     (SMS)
      \\--(plan-time policy)--> skipped(reason)

* The planner's conditional put is the exactly-once write: one item per (campaign, customer,
  occurrence, channel). Items live in their customer's partition (hash key ``customer_id``,
  range key the delivery id), so a customer's history is one Query; the only index,
  ``by-send-time`` (``shard``, ``slot`` = ``deliver_at#delivery_id``, projecting the write-once
  ``campaign_id`` and ``to_send``), serves the dispatcher, which walks it with a cursor per
  shard instead of removing items from a ``due`` index, and a campaign's statistics (filtered
  by campaign).
* ``send`` (:func:`mark_sent_ahead`) is one conditional write queued -> sent made just before
  the provider call, after every check: two workers holding the same id cannot both win it,
  so nothing goes out twice. If the provider then refuses, the item is moved on to
  ``failed`` or back to ``queued`` (a retry); if it cannot tell, ``failed(outcome_unknown)``.
  A worker that dies between this write and the provider's answer leaves the item ``sent``
  (never a resend); SES's events for the message (found by its tags) confirm or contradict.
  E-mail uses it. SMS keeps the claim (queued -> sending with a lease, then ``sent`` with
  SNS's message id, the only handle of an SMS): a crash after the claim ends
  ``failed(outcome_unknown)`` when the lease expires.

Write units of a sent e-mail (items under 1 KB; README "Cost per message"): the planner's put
(1 on the table, 1 on ``by-send-time``) and the send (1): 3. An SMS costs one more (the claim).
Nothing after the put changes the index's keys or its projected ``to_send``, so no later write
(send, feedback, redaction) touches the index. The dispatcher writes one cursor per shard
and firing that handed something over, whatever the number of messages.

SES feedback (:func:`apply_feedback`) moves an e-mail the provider accepted forward, never
back::

    sent --Delivery--> delivered --Bounce--> bounced(bounce_<type>) --Complaint--> complained

* Each event only moves an item to a later state (any may be skipped: a Complaint whose
  Delivery event was lost still ends ``complained``); a duplicate, or a Delivery arriving
  after the Bounce of the same message (an asynchronous bounce), changes nothing.
* ``failed(outcome_unknown)`` and ``sending`` with an expired lease: SES's event proves the
  provider had the message, so the item is reconciled: a history entry
  ``sent(outcome_unknown_reconciled)``, then the event's state (a Send event: ``sent``).
* ``sending`` with a live lease: the sender is about to record ``sent``; the event waits.
* Never sent (``queued``, ``skipped``, another ``failed``): the event changes nothing.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.core.settings import get_settings
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import (
    CampaignFeedbackModel,
    DeliveryModel,
    DispatchCursorModel,
    HistoryEntry,
)

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
SKIPPED = "skipped"
FAILED = "failed"
DELIVERED = "delivered"
BOUNCED = "bounced"
COMPLAINED = "complained"
FINAL_STATUSES = frozenset({SENT, SKIPPED, FAILED, DELIVERED, BOUNCED, COMPLAINED})
# The provider accepted these messages (feedback only moves them further along).
ACCEPTED_STATUSES = frozenset({SENT, DELIVERED, BOUNCED, COMPLAINED})

OUTCOME_UNKNOWN = "outcome_unknown"
RECONCILED = "outcome_unknown_reconciled"


Delivery = DeliveryModel
"""A ledger item, as the layers above the store see it."""


class LedgerConflictError(RuntimeError):
    """The item changed under us (another worker holds it)."""


def delivery_id(campaign_id: str, customer_id: str, occurrence: str, channel: str) -> str:
    """Ledger key: ``campaign#customer#occurrence#channel``.

    Campaign and customer ids never contain '#', so the key is unambiguous.
    """
    return f"{campaign_id}#{customer_id}#{occurrence}#{channel}"


def occurrence_id(item_id: str) -> str:
    """The delivery id without the channel: one per (campaign, customer, occurrence)."""
    return item_id.rsplit("#", 1)[0]


def customer_of(item_id: str) -> str:
    """The customer part of a delivery id (the item's hash key)."""
    return item_id.split("#", 2)[1]


def due_shard(delivery: str, shards: int) -> str:
    return str(zlib.crc32(delivery.encode()) % shards)


def slot(deliver_at: str, item_id: str) -> str:
    """The index's sort key: send order, unique (``deliver_at`` is fixed-width UTC ISO)."""
    return f"{deliver_at}#{item_id}"


CURSOR_OWNER = "#dispatch"  # customer ids never contain '#'


@dataclass(frozen=True)
class PlannedDelivery:
    campaign_id: str
    customer_id: str
    occurrence: str
    occasion: str
    channel: str
    deliver_at: datetime
    local_send_time: datetime
    timezone: str
    context: dict[str, Any]
    coupon_code: str | None = None
    offer_valid_until: str | None = None
    skip_reason: str | None = None

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.campaign_id, self.customer_id, self.occurrence, self.channel)


def create(planned: PlannedDelivery, now: datetime, shards: int, ttl_days: int) -> bool:
    """Write the ledger item unless it exists; True when this call created it."""
    item_id = planned.delivery_id
    status = SKIPPED if planned.skip_reason else QUEUED
    deliver_at = utc_iso(planned.deliver_at)
    item = DeliveryModel(
        customer_id=planned.customer_id,
        delivery_id=item_id,
        campaign_id=planned.campaign_id,
        occurrence=planned.occurrence,
        occasion=planned.occasion,
        channel=planned.channel,
        status=status,
        reason=planned.skip_reason,
        deliver_at=deliver_at,
        local_send_time=planned.local_send_time.isoformat(),
        timezone=planned.timezone,
        shard=due_shard(item_id, shards),
        slot=slot(deliver_at, item_id),
        to_send=None if planned.skip_reason else True,
        coupon_code=None if planned.skip_reason else planned.coupon_code,
        offer_valid_until=None if planned.skip_reason else planned.offer_valid_until,
        context=planned.context,
        created_at=utc_iso(now),
        updated_at=utc_iso(now),
        attempts=0,
        history=[HistoryEntry(at=utc_iso(now), status=status, reason=planned.skip_reason)],
        expires_at=int((planned.deliver_at + timedelta(days=ttl_days)).timestamp()),
    )
    try:
        item.save(condition=DeliveryModel.delivery_id.does_not_exist())
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def transient(planned: PlannedDelivery) -> DeliveryModel:
    """A ledger item that is never saved (dry runs compose messages from it)."""
    return DeliveryModel(
        customer_id=planned.customer_id,
        delivery_id=planned.delivery_id,
        campaign_id=planned.campaign_id,
        occurrence=planned.occurrence,
        occasion=planned.occasion,
        channel=planned.channel,
        status=QUEUED,
        deliver_at=utc_iso(planned.deliver_at),
        local_send_time=planned.local_send_time.isoformat(),
        timezone=planned.timezone,
        coupon_code=planned.coupon_code,
        offer_valid_until=planned.offer_valid_until,
        context=planned.context,
        created_at=utc_iso(planned.deliver_at),
        updated_at=utc_iso(planned.deliver_at),
        history=[],
    )


TEST_SENDS = "test"  # the customer part of a test send's id: its partition of the ledger


def test_send_id(campaign_id: str, now: datetime, channel: str) -> str:
    """A test send's delivery id (SES tags carry it back to :func:`apply_feedback`)."""
    return f"{campaign_id}#{TEST_SENDS}#{utc_iso(now)}#{channel}"


def record_test_send(
    item_id: str,
    *,
    campaign_id: str,
    occasion: str,
    channel: str,
    now: datetime,
    provider_message_id: str,
) -> None:
    """Record a test send: in the ``test`` partition (it went to a test address, not to a
    customer), in the index (a campaign counts its test sends apart; never dispatched)."""
    sent = utc_iso(now)
    DeliveryModel(
        customer_id=customer_of(item_id),
        delivery_id=item_id,
        campaign_id=campaign_id,
        occurrence=f"test-{sent}",
        occasion=occasion,
        channel=channel,
        status=SENT,
        deliver_at=sent,
        local_send_time=now.isoformat(),
        timezone="UTC",
        shard="0",
        slot=slot(sent, item_id),
        created_at=sent,
        updated_at=sent,
        sent_at=sent,
        provider_message_id=provider_message_id,
        test=True,
        history=[HistoryEntry(at=sent, status=SENT, reason="test")],
    ).save()


def redact(item: DeliveryModel) -> bool:
    """Remove the occasion context and error text (personal data) from a ledger item.

    False when the item has disappeared (TTL) since it was read.
    """
    try:
        item.update(
            actions=[DeliveryModel.context.remove(), DeliveryModel.error.remove()],
            condition=DeliveryModel.delivery_id.exists(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


BATCH_GET = 100  # DynamoDB's BatchGetItem limit


def _items(entries: Iterable[DeliveryModel]) -> Iterator[DeliveryModel]:
    """The whole items behind index entries, in the index's order, 100 keys per BatchGetItem
    (an item that expired between the Query and the read is left out)."""
    chunk: list[DeliveryModel] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == BATCH_GET:
            yield from _batch(chunk)
            chunk = []
    if chunk:
        yield from _batch(chunk)


def _batch(entries: list[DeliveryModel]) -> Iterator[DeliveryModel]:
    keys = [(entry.customer_id, entry.delivery_id) for entry in entries]
    found = {item.delivery_id: item for item in DeliveryModel.batch_get(keys)}
    return (found[entry.delivery_id] for entry in entries if entry.delivery_id in found)


def _shards(shards: int | None) -> int:
    return get_settings().dispatch_shards if shards is None else shards


def _index_entries(
    campaign_id: str, start: str | None, end: str | None, shards: int | None
) -> Iterator[DeliveryModel]:
    """A campaign's index entries with ``start <= slot <= end``, every shard merged in send
    order (the index holds every campaign: the others' entries are read and filtered out)."""
    condition: Condition | None
    if start is not None and end is not None:
        condition = DeliveryModel.slot.between(start, end)
    elif end is not None:
        condition = DeliveryModel.slot <= end
    else:
        condition = None
    mine = DeliveryModel.campaign_id == campaign_id
    streams = [
        DeliveryModel.by_send_time.query(str(shard), condition, filter_condition=mine)
        for shard in range(_shards(shards))
    ]
    return heapq.merge(*streams, key=lambda entry: entry.slot or "")


def by_campaign(campaign_id: str, shards: int | None = None) -> Iterator[DeliveryModel]:
    """Every ledger item of a campaign, in send order (the ``by-send-time`` index filtered by
    campaign, then the items)."""
    return _items(_index_entries(campaign_id, None, None, shards))


def by_campaign_between(
    campaign_id: str, start: str, end: str, shards: int | None = None
) -> Iterator[DeliveryModel]:
    """A campaign's ledger items planned for ``start`` <= deliver_at < ``end`` (UTC ISO)."""
    return _items(_index_entries(campaign_id, start, end, shards))


def by_customer(customer_id: str) -> Iterator[DeliveryModel]:
    """Every ledger item of a customer, by planned send time (one Query of its partition)."""
    items = DeliveryModel.query(customer_id, consistent_read=True)
    return iter(sorted(items, key=lambda item: (item.deliver_at, item.delivery_id)))


def get(item_id: str, *, consistent: bool = True) -> DeliveryModel | None:
    try:
        return DeliveryModel.get(customer_of(item_id), item_id, consistent_read=consistent)
    except (DoesNotExist, IndexError):
        return None


def get_to_send(item_id: str) -> DeliveryModel | None:
    """The item as the sender needs it: half a read unit for the usual ``queued`` item.

    An eventually consistent read may be a moment old. Every outcome the sender writes is
    conditional on ``queued``, so an old ``queued`` costs nothing but a lost race; anything
    else (missing, finished, being sent: a planned item seconds old, or one released for a
    retry) is read again consistently before the sender acts on it."""
    item = get(item_id, consistent=False)
    if item is not None and item.status == QUEUED:
        return item
    return get(item_id)


# ---------------------------------------------------------------- dispatch


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


def _history(status: str, now: datetime, reason: str | None = None) -> Action:
    entry = HistoryEntry(at=utc_iso(now), status=status, reason=reason)
    return DeliveryModel.history.set(DeliveryModel.history.append([entry]))


def claim(item: DeliveryModel, now: datetime, lease_seconds: int) -> DeliveryModel:
    """queued -> sending with a lease. Raise :class:`LedgerConflictError` if not queued."""
    try:
        item.update(
            actions=[
                DeliveryModel.status.set(SENDING),
                DeliveryModel.lease_until.set(utc_iso(now + timedelta(seconds=lease_seconds))),
                DeliveryModel.attempts.add(1),
                DeliveryModel.updated_at.set(utc_iso(now)),
                _history(SENDING, now),
            ],
            condition=DeliveryModel.status == QUEUED,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise LedgerConflictError(item.delivery_id) from None
        raise
    return item


def lease_expired(item: DeliveryModel, now: datetime) -> bool:
    return item.lease_until is None or parse_utc(item.lease_until) <= now


def _finish(
    item: DeliveryModel,
    status: str,
    now: datetime,
    *,
    actions: list[Action],
    reason: str | None,
    expected: str,
) -> None:
    try:
        item.update(
            actions=[
                DeliveryModel.status.set(status),
                DeliveryModel.updated_at.set(utc_iso(now)),
                DeliveryModel.lease_until.remove(),
                _history(status, now, reason),
                *actions,
            ],
            condition=DeliveryModel.status == expected,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise LedgerConflictError(item.delivery_id) from None
        raise


def mark_sent(item: DeliveryModel, now: datetime, provider_message_id: str | None) -> None:
    actions: list[Action] = [DeliveryModel.sent_at.set(utc_iso(now)), DeliveryModel.reason.remove()]
    if provider_message_id:
        actions.append(DeliveryModel.provider_message_id.set(provider_message_id))
    _finish(item, SENT, now, actions=actions, reason=None, expected=SENDING)


def mark_sent_ahead(item: DeliveryModel, now: datetime) -> None:
    """queued -> sent in one conditional write, just before the provider call (the module's
    docstring). Raise :class:`LedgerConflictError` if another worker got there first."""
    try:
        item.update(
            actions=[
                DeliveryModel.status.set(SENT),
                DeliveryModel.sent_at.set(utc_iso(now)),
                DeliveryModel.attempts.add(1),
                DeliveryModel.updated_at.set(utc_iso(now)),
                DeliveryModel.reason.remove(),
                _history(SENT, now),
            ],
            condition=DeliveryModel.status == QUEUED,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise LedgerConflictError(item.delivery_id) from None
        raise


def mark_skipped(item: DeliveryModel, now: datetime, reason: str, expected: str = SENDING) -> None:
    _finish(
        item,
        SKIPPED,
        now,
        actions=[DeliveryModel.reason.set(reason)],
        reason=reason,
        expected=expected,
    )


def _undo_sent(expected: str) -> list[Action]:
    """A write-ahead ``sent`` the provider then refused: it was not sent after all."""
    return [DeliveryModel.sent_at.remove()] if expected == SENT else []


def mark_failed(
    item: DeliveryModel,
    now: datetime,
    reason: str,
    error: str | None = None,
    expected: str = SENDING,
) -> None:
    actions: list[Action] = [DeliveryModel.reason.set(reason), *_undo_sent(expected)]
    if error:
        actions.append(DeliveryModel.error.set(error[:1000]))
    _finish(item, FAILED, now, actions=actions, reason=reason, expected=expected)


def release(item: DeliveryModel, now: datetime, error: str, expected: str = SENDING) -> None:
    """sending (or a write-ahead sent) -> queued after a failure the provider certainly did
    not accept (retryable)."""
    _finish(
        item,
        QUEUED,
        now,
        actions=[DeliveryModel.error.set(error[:1000]), *_undo_sent(expected)],
        reason="retry",
        expected=expected,
    )


# ---------------------------------------------------------------- messaging policy


def mark_skipped_for(
    item: DeliveryModel, now: datetime, reason: str, detail: str, expected: str = SENDING
) -> None:
    """``expected`` -> skipped(reason) with ``detail`` in the history entry (the messaging
    policy: ``outranked`` names the campaign that took the customer's slot that day)."""
    entry = HistoryEntry(at=utc_iso(now), status=SKIPPED, reason=reason, detail=detail)
    try:
        item.update(
            actions=[
                DeliveryModel.status.set(SKIPPED),
                DeliveryModel.reason.set(reason),
                DeliveryModel.updated_at.set(utc_iso(now)),
                DeliveryModel.lease_until.remove(),
                DeliveryModel.history.set(DeliveryModel.history.append([entry])),
            ],
            condition=DeliveryModel.status == expected,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise LedgerConflictError(item.delivery_id) from None
        raise


# ---------------------------------------------------------------- SES feedback

_FEEDBACK_RANK = {SENT: 0, DELIVERED: 1, BOUNCED: 2, COMPLAINED: 3}
_FEEDBACK_ATTEMPTS = 3


class FeedbackNotReadyError(RuntimeError):
    """The item is still being sent (live lease): apply the event later."""


def _feedback_rank(item: DeliveryModel, now: datetime) -> int | None:
    """How far along an item is for feedback: -1 when the provider may have the message
    without ``sent`` recorded, None when it was never handed over."""
    if item.status in _FEEDBACK_RANK:
        return _FEEDBACK_RANK[item.status]
    if item.status == FAILED and item.reason == OUTCOME_UNKNOWN:
        return -1
    if item.status == SENDING:
        if not lease_expired(item, now):
            raise FeedbackNotReadyError(item.delivery_id)
        return -1
    return None


def _counted(status: str) -> tuple[int, int, int]:
    """(delivered, bounced, complained) a status stands for: a complaint proves delivery."""
    return int(status in (DELIVERED, COMPLAINED)), int(status == BOUNCED), int(status == COMPLAINED)


def apply_feedback(
    item_id: str,
    status: str,
    now: datetime,
    *,
    reason: str | None = None,
    provider_message_id: str | None = None,
    sent_at: str | None = None,
) -> str:
    """Move a ledger item to ``status`` (sent, delivered, bounced, complained) on SES's word.

    Returns ``changed``, ``reconciled`` (it was ``failed(outcome_unknown)`` or abandoned in
    ``sending``), ``duplicate`` (already there), ``stale`` (already further along),
    ``not_sent`` (never handed to SES) or ``unknown`` (no such item). The campaign's feedback
    counts change in the same transaction (test sends are not counted).

    Raises
    ------
    FeedbackNotReadyError
        The item is being sent right now.
    LedgerConflictError
        The item kept changing under us.
    """
    target = _FEEDBACK_RANK[status]
    for _ in range(_FEEDBACK_ATTEMPTS):
        item = get(item_id)
        if item is None:
            return "unknown"
        current = _feedback_rank(item, now)
        if current is None:
            return "not_sent"
        if current == target:
            return "duplicate"
        if current > target:
            return "stale"
        if _move(item, status, now, reason, provider_message_id, sent_at, current < 0):
            return "reconciled" if current < 0 else "changed"
    raise LedgerConflictError(item_id)


def _move(
    item: DeliveryModel,
    status: str,
    now: datetime,
    reason: str | None,
    provider_message_id: str | None,
    sent_at: str | None,
    reconciled: bool,
) -> bool:
    """One conditional write of the transition (and the counts); False on a lost race."""
    entries = []
    if reconciled:
        entries.append(HistoryEntry(at=utc_iso(now), status=SENT, reason=RECONCILED))
    if status != SENT or not reconciled:
        entries.append(HistoryEntry(at=utc_iso(now), status=status, reason=reason))
    actions: list[Action] = [
        DeliveryModel.status.set(status),
        DeliveryModel.updated_at.set(utc_iso(now)),
        DeliveryModel.lease_until.remove(),
        DeliveryModel.history.set(DeliveryModel.history.append(entries)),
        DeliveryModel.reason.set(reason) if reason else DeliveryModel.reason.remove(),
    ]
    if provider_message_id and not item.provider_message_id:
        actions.append(DeliveryModel.provider_message_id.set(provider_message_id))
    if not item.sent_at:
        actions.append(DeliveryModel.sent_at.set(sent_at or utc_iso(now)))
    condition = DeliveryModel.status == item.status
    if item.status == FAILED:
        condition &= DeliveryModel.reason == OUTCOME_UNKNOWN
    before, after = _counted(item.status), _counted(status)
    deltas = [new - old for new, old in zip(after, before, strict=True)]
    if item.test or not any(deltas):
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
    counters = (
        CampaignFeedbackModel.delivered,
        CampaignFeedbackModel.bounced,
        CampaignFeedbackModel.complained,
    )
    counts: list[Action] = [c.add(d) for c, d in zip(counters, deltas, strict=True) if d]
    counts.append(CampaignFeedbackModel.updated_at.set(utc_iso(now)))
    try:
        with TransactWrite(connection=Connection(region=DeliveryModel.Meta.region)) as write:
            write.update(item, actions=actions, condition=condition)
            write.update(CampaignFeedbackModel(campaign_id=item.campaign_id), actions=counts)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and getattr(reasons[0], "code", None) == "ConditionalCheckFailed":
            return False
        raise
    return True
