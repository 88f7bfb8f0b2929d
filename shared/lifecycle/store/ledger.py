"""Delivery ledger: the exactly-once write, the dispatch index and the send lease.

Status machine::

    queued --claim--> sending --> sent | skipped(reason) | failed(reason)
      \\--(plan-time policy)--> skipped(reason)

* ``queued`` items carry ``due_shard`` and so appear in the sparse ``due`` index until the
  dispatcher has handed them to the send queue.
* ``claim`` is a conditional update queued -> sending with a lease. A crash after the provider
  accepted a message but before ``sent`` was recorded leaves the item in ``sending``; when the
  lease expires the next attempt marks it ``failed(outcome_unknown)`` instead of sending again.

Write units of a sent message (items under 1 KB; README "Cost per message"): the planner's
put (1 on the table, 1 per index: ``due``, ``by-customer``, ``by-campaign``), the dispatcher's
removal from ``due`` (1 + 1), the claim (1) and ``sent`` (1): 8. The indexes project only
attributes written once by the put, so no later write (claim, final state, feedback) rewrites
an index entry; :func:`by_customer` and :func:`by_campaign` read the items behind the keys.

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

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import CampaignFeedbackModel, DeliveryModel, HistoryEntry

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


def due_shard(delivery: str, shards: int) -> str:
    return str(zlib.crc32(delivery.encode()) % shards)


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
    item = DeliveryModel(
        delivery_id=item_id,
        campaign_id=planned.campaign_id,
        customer_id=planned.customer_id,
        occurrence=planned.occurrence,
        occasion=planned.occasion,
        channel=planned.channel,
        status=status,
        reason=planned.skip_reason,
        deliver_at=utc_iso(planned.deliver_at),
        local_send_time=planned.local_send_time.isoformat(),
        timezone=planned.timezone,
        due_shard=None if planned.skip_reason else due_shard(item_id, shards),
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
        delivery_id=planned.delivery_id,
        campaign_id=planned.campaign_id,
        customer_id=planned.customer_id,
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


def record_test_send(
    item_id: str,
    *,
    campaign_id: str,
    customer_id: str,
    occasion: str,
    channel: str,
    now: datetime,
    provider_message_id: str,
) -> None:
    """Record a test send (``test`` items are left out of statistics)."""
    DeliveryModel(
        delivery_id=item_id,
        campaign_id=campaign_id,
        customer_id=customer_id,
        occurrence=f"test-{utc_iso(now)}",
        occasion=occasion,
        channel=channel,
        status=SENT,
        deliver_at=utc_iso(now),
        local_send_time=now.isoformat(),
        timezone="UTC",
        created_at=utc_iso(now),
        updated_at=utc_iso(now),
        sent_at=utc_iso(now),
        provider_message_id=provider_message_id,
        test=True,
        history=[HistoryEntry(at=utc_iso(now), status=SENT, reason="test")],
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
    chunk: list[str] = []
    for entry in entries:
        chunk.append(entry.delivery_id)
        if len(chunk) == BATCH_GET:
            yield from _batch(chunk)
            chunk = []
    if chunk:
        yield from _batch(chunk)


def _batch(ids: list[str]) -> Iterator[DeliveryModel]:
    found = {item.delivery_id: item for item in DeliveryModel.batch_get(ids)}
    return (found[item_id] for item_id in ids if item_id in found)


def by_campaign(campaign_id: str) -> Iterator[DeliveryModel]:
    """Every ledger item of a campaign (a Query on ``by-campaign``, then the items)."""
    return _items(DeliveryModel.by_campaign.query(campaign_id))


def by_campaign_between(campaign_id: str, start: str, end: str) -> Iterator[DeliveryModel]:
    """A campaign's ledger items planned for ``start`` <= deliver_at < ``end`` (UTC ISO)."""
    condition = DeliveryModel.deliver_at.between(start, end)
    for item in _items(DeliveryModel.by_campaign.query(campaign_id, condition)):
        if item.deliver_at < end:  # BETWEEN includes the upper bound
            yield item


def by_customer(customer_id: str) -> Iterator[DeliveryModel]:
    """Every ledger item of a customer (a Query on ``by-customer``, then the items)."""
    return _items(DeliveryModel.by_customer.query(customer_id))


def get(item_id: str) -> DeliveryModel | None:
    try:
        return DeliveryModel.get(item_id, consistent_read=True)
    except DoesNotExist:
        return None


def due_ids(shard: str, now: datetime, limit: int) -> list[str]:
    """Ids of queued items in ``shard`` whose deliver_at is at or before ``now``."""
    results = DeliveryModel.due.query(shard, DeliveryModel.deliver_at <= utc_iso(now), limit=limit)
    return [item.delivery_id for item in results]


def mark_enqueued(item_id: str, now: datetime) -> bool:
    """Take an item out of the due index once its id is on the send queue."""
    item = DeliveryModel(delivery_id=item_id)
    try:
        item.update(
            actions=[DeliveryModel.due_shard.remove(), DeliveryModel.enqueued_at.set(utc_iso(now))],
            condition=DeliveryModel.due_shard.exists() & (DeliveryModel.status == QUEUED),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
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
                DeliveryModel.due_shard.remove(),
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


def mark_skipped(item: DeliveryModel, now: datetime, reason: str, expected: str = SENDING) -> None:
    _finish(
        item,
        SKIPPED,
        now,
        actions=[DeliveryModel.reason.set(reason)],
        reason=reason,
        expected=expected,
    )


def mark_failed(
    item: DeliveryModel,
    now: datetime,
    reason: str,
    error: str | None = None,
    expected: str = SENDING,
) -> None:
    actions: list[Action] = [DeliveryModel.reason.set(reason)]
    if error:
        actions.append(DeliveryModel.error.set(error[:1000]))
    _finish(item, FAILED, now, actions=actions, reason=reason, expected=expected)


def release(item: DeliveryModel, now: datetime, error: str) -> None:
    """sending -> queued after a failure the provider certainly did not accept (retryable)."""
    _finish(
        item,
        QUEUED,
        now,
        actions=[DeliveryModel.error.set(error[:1000])],
        reason="retry",
        expected=SENDING,
    )


# ---------------------------------------------------------------- messaging policy


def mark_skipped_for(item: DeliveryModel, now: datetime, reason: str, detail: str) -> None:
    """sending -> skipped(reason) with ``detail`` in the history entry (the messaging
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
            condition=DeliveryModel.status == SENDING,
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
