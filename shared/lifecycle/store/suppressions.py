"""The suppression list: addresses that bounced or complained, and per-campaign feedback counts.

Addresses are keyed by :func:`lifecycle.rules.deliverability.address_key` (SHA-256 of the
normalized address): the table never holds an address in clear, and an erased customer's
address stays suppressed if it is imported again. Every write is idempotent: the same SES
feedback (``feedbackId``) delivered twice is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.rules import deliverability
from lifecycle.rules.consent import ADDRESS_FIELD, suppression_reason
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import CampaignFeedbackModel, SuppressionModel

MAX_ATTEMPTS = 5


class SuppressionConflictError(RuntimeError):
    """The suppression item kept changing under us (retry the event later)."""


@dataclass(frozen=True)
class Suppression:
    key: str
    suppressed: bool
    reason: str | None
    transient_bounces: int


def _get(key: str) -> SuppressionModel | None:
    try:
        return SuppressionModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None


def lookup(key: str) -> Suppression | None:
    model = _get(key)
    if model is None:
        return None
    return Suppression(
        key=key,
        suppressed=bool(model.suppressed),
        reason=model.reason,
        transient_bounces=len(model.transient or []),
    )


def block_reason(customer: dict[str, Any], channel: str) -> str | None:
    """``suppressed_bounce``/``suppressed_complaint`` if the customer's address for
    ``channel`` is on the list (one GetItem; a phone number is no address: no read)."""
    key = deliverability.address_key(str(customer.get(ADDRESS_FIELD[channel]) or ""))
    if key is None:
        return None
    found = lookup(key)
    return suppression_reason(found.reason) if found is not None and found.suppressed else None


def _save(model: SuppressionModel, previous_version: int | None) -> bool:
    """Conditional put on the version read; False when someone else wrote in between."""
    condition = (
        SuppressionModel.address.does_not_exist()
        if previous_version is None
        else SuppressionModel.version == previous_version
    )
    try:
        model.save(condition=condition)
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _write(key: str, change: Any) -> Suppression:
    """Read, change (``change(model) -> bool``: whether anything changed), write back on
    the version read; a few attempts under contention."""
    for _ in range(MAX_ATTEMPTS):
        current = _get(key)
        previous = None if current is None else int(current.version)
        model = current or SuppressionModel(address=key, version=0)
        if change(model):
            model.version = (previous or 0) + 1
            if not _save(model, previous):
                continue
        return Suppression(
            key=key,
            suppressed=bool(model.suppressed),
            reason=model.reason,
            transient_bounces=len(model.transient or []),
        )
    raise SuppressionConflictError(key)


def _add_customer(model: SuppressionModel, customer_id: str | None) -> bool:
    ids = set(model.customer_ids or set())
    if not customer_id or customer_id in ids:
        return False
    model.customer_ids = ids | {customer_id}
    return True


def suppress(key: str, cause: str, now: datetime, customer_id: str | None) -> Suppression:
    """Put the address on the list for ``cause`` (a complaint outranks a bounce)."""

    def change(model: SuppressionModel) -> bool:
        reason = deliverability.stronger_cause(model.reason, cause)
        changed = _add_customer(model, customer_id)
        if model.suppressed and model.reason == reason:
            return changed
        model.suppressed = True
        model.reason = reason
        model.suppressed_at = model.suppressed_at or utc_iso(now)
        model.updated_at = utc_iso(now)
        return True

    return _write(key, change)


def count_transient_bounce(
    key: str, feedback_id: str, at: datetime, now: datetime, customer_id: str | None
) -> Suppression:
    """Count one transient (or undetermined) bounce; suppress the address when enough fell
    within the window. The same ``feedback_id`` twice counts once."""
    window = timedelta(days=deliverability.TRANSIENT_BOUNCE_WINDOW_DAYS)

    def change(model: SuppressionModel) -> bool:
        entries = [dict(e) for e in (model.transient or []) if isinstance(e, dict)]
        changed = _add_customer(model, customer_id)
        if any(e.get("feedback_id") == feedback_id for e in entries):
            return changed
        entries.append({"at": utc_iso(at), "feedback_id": feedback_id})
        newest = max(parse_utc(str(e["at"])) for e in entries)
        recent = sorted(
            (e for e in entries if parse_utc(str(e["at"])) > newest - window),
            key=lambda e: str(e["at"]),
        )
        model.transient = recent[-deliverability.TRANSIENT_BOUNCE_LIMIT :]
        model.updated_at = utc_iso(now)
        if not model.suppressed and deliverability.transient_bounces_suppress(len(recent)):
            model.suppressed = True
            model.reason = deliverability.BOUNCE
            model.suppressed_at = utc_iso(now)
        return True

    return _write(key, change)


# ---------------------------------------------------------------- campaign feedback counts


@dataclass(frozen=True)
class FeedbackCounts:
    campaign_id: str
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    baseline_delivered: int = 0
    baseline_complained: int = 0
    auto_paused_at: str | None = None
    auto_pause_reason: str | None = None

    @property
    def delivered_since_pause(self) -> int:
        return self.delivered - self.baseline_delivered

    @property
    def complained_since_pause(self) -> int:
        return self.complained - self.baseline_complained


def feedback_counts(campaign_id: str) -> FeedbackCounts:
    try:
        model = CampaignFeedbackModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        return FeedbackCounts(campaign_id)
    return FeedbackCounts(
        campaign_id=campaign_id,
        delivered=int(model.delivered or 0),
        bounced=int(model.bounced or 0),
        complained=int(model.complained or 0),
        baseline_delivered=int(model.baseline_delivered or 0),
        baseline_complained=int(model.baseline_complained or 0),
        auto_paused_at=model.auto_paused_at,
        auto_pause_reason=model.auto_pause_reason,
    )


def record_auto_pause(counts: FeedbackCounts, reason: str, now: datetime) -> bool:
    """Remember an automatic pause and start counting again from here; False if another
    worker recorded one since ``counts`` was read."""
    same_baseline = CampaignFeedbackModel.baseline_delivered == counts.baseline_delivered
    if counts.baseline_delivered == 0:  # never paused: the attribute is not written yet
        same_baseline |= CampaignFeedbackModel.baseline_delivered.does_not_exist()
    try:
        CampaignFeedbackModel(campaign_id=counts.campaign_id).update(
            actions=[
                CampaignFeedbackModel.baseline_delivered.set(counts.delivered),
                CampaignFeedbackModel.baseline_complained.set(counts.complained),
                CampaignFeedbackModel.auto_paused_at.set(utc_iso(now)),
                CampaignFeedbackModel.auto_pause_reason.set(reason),
                CampaignFeedbackModel.updated_at.set(utc_iso(now)),
            ],
            condition=CampaignFeedbackModel.campaign_id.exists() & same_baseline,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
