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

SES feedback moves an e-mail the provider accepted forward (:mod:`lifecycle.store.ledger_feedback`);
the dispatcher's cursors are in :mod:`lifecycle.store.dispatch_cursors`.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.core.settings import get_settings
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import (
    DeliveryModel,
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


def _conditional(item: DeliveryModel, actions: list[Action], condition: Condition) -> None:
    """One write of ``actions`` if ``condition`` holds, else :class:`LedgerConflictError`
    (another worker changed the item first)."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise LedgerConflictError(item.delivery_id) from None
        raise


def _history(status: str, now: datetime, reason: str | None = None) -> Action:
    entry = HistoryEntry(at=utc_iso(now), status=status, reason=reason)
    return DeliveryModel.history.set(DeliveryModel.history.append([entry]))


def claim(item: DeliveryModel, now: datetime, lease_seconds: int) -> DeliveryModel:
    """queued -> sending with a lease. Raise :class:`LedgerConflictError` if not queued."""
    _conditional(
        item,
        [
            DeliveryModel.status.set(SENDING),
            DeliveryModel.lease_until.set(utc_iso(now + timedelta(seconds=lease_seconds))),
            DeliveryModel.attempts.add(1),
            DeliveryModel.updated_at.set(utc_iso(now)),
            _history(SENDING, now),
        ],
        DeliveryModel.status == QUEUED,
    )
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
    _conditional(
        item,
        [
            DeliveryModel.status.set(status),
            DeliveryModel.updated_at.set(utc_iso(now)),
            DeliveryModel.lease_until.remove(),
            _history(status, now, reason),
            *actions,
        ],
        DeliveryModel.status == expected,
    )


def mark_sent(item: DeliveryModel, now: datetime, provider_message_id: str | None) -> None:
    actions: list[Action] = [DeliveryModel.sent_at.set(utc_iso(now)), DeliveryModel.reason.remove()]
    if provider_message_id:
        actions.append(DeliveryModel.provider_message_id.set(provider_message_id))
    _finish(item, SENT, now, actions=actions, reason=None, expected=SENDING)


def mark_sent_ahead(item: DeliveryModel, now: datetime) -> None:
    """queued -> sent in one conditional write, just before the provider call (the module's
    docstring). Raise :class:`LedgerConflictError` if another worker got there first."""
    _conditional(
        item,
        [
            DeliveryModel.status.set(SENT),
            DeliveryModel.sent_at.set(utc_iso(now)),
            DeliveryModel.attempts.add(1),
            DeliveryModel.updated_at.set(utc_iso(now)),
            DeliveryModel.reason.remove(),
            _history(SENT, now),
        ],
        DeliveryModel.status == QUEUED,
    )


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
    _conditional(
        item,
        [
            DeliveryModel.status.set(SKIPPED),
            DeliveryModel.reason.set(reason),
            DeliveryModel.updated_at.set(utc_iso(now)),
            DeliveryModel.lease_until.remove(),
            DeliveryModel.history.set(DeliveryModel.history.append([entry])),
        ],
        DeliveryModel.status == expected,
    )
