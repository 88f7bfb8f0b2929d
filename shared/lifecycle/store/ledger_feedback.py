"""SES feedback on the delivery ledger: an e-mail the provider accepted moves forward, never
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

from datetime import datetime

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from lifecycle.core.clock import utc_iso
from lifecycle.store.errors import condition_failed
from lifecycle.store.ledger import (
    BOUNCED,
    COMPLAINED,
    DELIVERED,
    FAILED,
    OUTCOME_UNKNOWN,
    RECONCILED,
    SENDING,
    SENT,
    LedgerConflictError,
    get,
    lease_expired,
)
from lifecycle.store.models import (
    CampaignFeedbackModel,
    DeliveryModel,
    HistoryEntry,
    connection_of,
)

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
        with TransactWrite(connection=connection_of(DeliveryModel)) as write:
            write.update(item, actions=actions, condition=condition)
            write.update(CampaignFeedbackModel(campaign_id=item.campaign_id), actions=counts)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and getattr(reasons[0], "code", None) == "ConditionalCheckFailed":
            return False
        raise
    return True
