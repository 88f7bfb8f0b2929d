"""Deliverability feedback: SES events -> ledger states, the suppression list, campaign pauses.

The sender sends every e-mail through the stack's SES configuration set with the delivery id
in its tags (:mod:`lifecycle.messages.tags`). The configuration set publishes Send, Delivery,
Bounce, Complaint, Reject and DeliveryDelay events to the default EventBridge bus; a rule puts
them on ``FeedbackQueue``; ``FeedbackFunction`` hands each message body (the EventBridge event,
``detail`` = the SES event) to :func:`process_event`.

What each event does (rules in :mod:`lifecycle.rules.deliverability`):

* ``Delivery``: ledger item ``delivered``; ``failed(outcome_unknown)`` is reconciled.
* ``Send``: reconciles ``failed(outcome_unknown)`` to ``sent`` (SES accepted it).
* ``Bounce``: ledger ``bounced(bounce_permanent|bounce_transient|bounce_undetermined)``;
  a permanent bounce puts each bounced address on the suppression list and flags the
  customer, transient/undetermined ones are counted (3 in 30 days suppress).
* ``Complaint``: ledger ``complained``; the addresses are suppressed and the customer flagged
  (a ``not-spam`` report changes nothing).
* ``Reject``, ``DeliveryDelay``: counted only (SES retries delays itself; rejects are for
  viruses, our messages carry no attachments).

After each event of a campaign, its complaint rate since the last automatic pause is checked
and an active campaign over ``COMPLAINT_PAUSE_RATE`` with at least
``COMPLAINT_PAUSE_MIN_VOLUME`` deliveries is paused (``change_status``), the reason recorded
with the counts. Every step is idempotent: duplicate and out-of-order events are harmless.
Events without our delivery tag (another sender on the configuration set) are ``foreign``
and ignored; malformed ones raise :class:`FeedbackEventError` (dropped by the handler, a retry
cannot fix them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from lifecycle.campaigns.repository import (
    CampaignConflictError,
    CampaignStateError,
    change_status,
    get_stored,
)
from lifecycle.core.clock import utc_iso
from lifecycle.core.jsonsafe import loads
from lifecycle.core.observability import count, logger
from lifecycle.core.settings import Settings
from lifecycle.messages.tags import TagError, delivery_id_from_tags
from lifecycle.rules import deliverability
from lifecycle.rules.records import parse_instant
from lifecycle.store import ledger, ledger_feedback, suppressions
from lifecycle.store.customers import flag_suppressed

SOURCE = "aws.ses"
EVENT_TYPES = ("Send", "Delivery", "Bounce", "Complaint", "Reject", "DeliveryDelay")
EMAIL = "email"


class FeedbackEventError(ValueError):
    """Not a well-formed SES event of a type we subscribed to."""


class FeedbackRetryError(RuntimeError):
    """Applying the event must wait (an item being sent, a write race): retry the message."""


def _instant(value: Any) -> datetime:
    return parse_instant(value)


Instant = Annotated[datetime, BeforeValidator(_instant)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class Recipient(_Model):
    email_address: str = Field(alias="emailAddress", min_length=3, max_length=320)


class BounceDetail(_Model):
    bounce_type: Literal["Permanent", "Transient", "Undetermined"] = Field(alias="bounceType")
    bounce_sub_type: str = Field(default="", alias="bounceSubType", max_length=100)
    recipients: list[Recipient] = Field(alias="bouncedRecipients", min_length=1, max_length=50)
    feedback_id: str = Field(alias="feedbackId", min_length=1, max_length=200)
    timestamp: Instant


class ComplaintDetail(_Model):
    recipients: list[Recipient] = Field(alias="complainedRecipients", min_length=1, max_length=50)
    feedback_id: str = Field(alias="feedbackId", min_length=1, max_length=200)
    feedback_type: str | None = Field(default=None, alias="complaintFeedbackType", max_length=100)
    timestamp: Instant


class Mail(_Model):
    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    timestamp: Instant
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesEvent(_Model):
    """The part of an SES event (EventBridge ``detail``) that feedback uses."""

    event_type: Literal["Send", "Delivery", "Bounce", "Complaint", "Reject", "DeliveryDelay"] = (
        Field(alias="eventType")
    )
    mail: Mail
    bounce: BounceDetail | None = None
    complaint: ComplaintDetail | None = None


def parse_event(envelope: Any) -> SesEvent:
    """The SES event of an EventBridge event from SES (raises :class:`FeedbackEventError`)."""
    if isinstance(envelope, (str, bytes, bytearray)):
        try:
            envelope = loads(envelope)
        except ValueError as exc:
            raise FeedbackEventError(f"body is not JSON: {exc}") from None
    if not isinstance(envelope, Mapping):
        raise FeedbackEventError("event must be a JSON object")
    if envelope.get("source") != SOURCE:
        raise FeedbackEventError(f"source must be {SOURCE}")
    try:
        event = SesEvent.model_validate(envelope.get("detail"))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'detail'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        raise FeedbackEventError(problems) from None
    if event.event_type == "Bounce" and event.bounce is None:
        raise FeedbackEventError("bounce: missing in a Bounce event")
    if event.event_type == "Complaint" and event.complaint is None:
        raise FeedbackEventError("complaint: missing in a Complaint event")
    return event


@dataclass(frozen=True)
class DeliveryRef:
    delivery_id: str
    campaign_id: str
    customer_id: str


def delivery_of(event: SesEvent) -> DeliveryRef | None:
    """The delivery the event is about; None for a message without our delivery tag."""
    try:
        delivery_id = delivery_id_from_tags(event.mail.tags)
    except TagError as exc:
        raise FeedbackEventError(f"mail.tags: {exc}") from None
    if delivery_id is None:
        return None
    campaign_id, customer_id = delivery_id.split("#")[:2]
    return DeliveryRef(delivery_id, campaign_id, customer_id)


def process_event(envelope: Any, now: datetime, settings: Settings) -> str:
    """Apply one SES event; return its outcome (``delivered``, ``bounced:duplicate`` ...).

    Raises
    ------
    FeedbackEventError
        Malformed: drop it.
    FeedbackRetryError
        Try again later (the queue redelivers it).
    """
    event = parse_event(envelope)
    ref = delivery_of(event)
    if ref is None:
        count("FeedbackEvents", type=event.event_type, outcome="foreign")
        return "foreign"
    try:
        outcome = _apply(event, ref, now)
        if outcome.split(":")[-1] not in ("unknown", "not_sent", "ignored", "not_spam"):
            check_complaint_rate(ref.campaign_id, now, settings)
    except (ledger_feedback.FeedbackNotReadyError, ledger.LedgerConflictError) as exc:
        raise FeedbackRetryError(f"{ref.delivery_id}: {type(exc).__name__}") from exc
    except suppressions.SuppressionConflictError as exc:
        raise FeedbackRetryError(f"suppression write race: {exc}") from exc
    count("FeedbackEvents", type=event.event_type, outcome=outcome.split(":")[-1])
    logger.info(
        "ses feedback applied",
        delivery_id=ref.delivery_id,
        event_type=event.event_type,
        outcome=outcome,
    )
    return outcome


def _apply(event: SesEvent, ref: DeliveryRef, now: datetime) -> str:
    mail = event.mail
    common = {"provider_message_id": mail.message_id, "sent_at": utc_iso(mail.timestamp)}
    if event.event_type == "Delivery":
        result = ledger_feedback.apply_feedback(ref.delivery_id, ledger.DELIVERED, now, **common)
        return f"delivered:{result}"
    if event.event_type == "Send":
        return f"sent:{ledger_feedback.apply_feedback(ref.delivery_id, ledger.SENT, now, **common)}"
    if event.event_type == "Bounce" and event.bounce is not None:
        bounce = event.bounce
        for recipient in bounce.recipients:
            _bounce_address(recipient.email_address, bounce, ref, now)
        reason = f"bounce_{bounce.bounce_type.lower()}"
        result = ledger_feedback.apply_feedback(
            ref.delivery_id, ledger.BOUNCED, now, reason=reason, **common
        )
        return f"bounced:{result}"
    if event.event_type == "Complaint" and event.complaint is not None:
        complaint = event.complaint
        if not deliverability.complaint_counts(complaint.feedback_type):
            return "complained:not_spam"
        for recipient in complaint.recipients:
            _suppress(recipient.email_address, deliverability.COMPLAINT, ref, now)
        result = ledger_feedback.apply_feedback(ref.delivery_id, ledger.COMPLAINED, now, **common)
        return f"complained:{result}"
    return f"{event.event_type.lower()}:ignored"  # Reject, DeliveryDelay


def _bounce_address(address: str, bounce: BounceDetail, ref: DeliveryRef, now: datetime) -> None:
    if deliverability.bounce_suppresses_at_once(bounce.bounce_type):
        _suppress(address, deliverability.BOUNCE, ref, now)
        return
    key = deliverability.address_key(address)
    if key is None:
        logger.warning("bounced recipient is not an address", delivery_id=ref.delivery_id)
        return
    state = suppressions.count_transient_bounce(
        key, bounce.feedback_id, bounce.timestamp, now, ref.customer_id
    )
    if state.suppressed and state.reason:
        flag_suppressed(ref.customer_id, EMAIL, key, state.reason, now)


def _suppress(address: str, cause: str, ref: DeliveryRef, now: datetime) -> None:
    key = deliverability.address_key(address)
    if key is None:
        logger.warning("feedback recipient is not an address", delivery_id=ref.delivery_id)
        return
    state = suppressions.suppress(key, cause, now, ref.customer_id)
    flag_suppressed(ref.customer_id, EMAIL, key, state.reason or cause, now)
    count("AddressesSuppressed", reason=state.reason or cause)


def check_complaint_rate(campaign_id: str, now: datetime, settings: Settings) -> str | None:
    """Pause an active campaign whose complaint rate (since its last automatic pause) is over
    ``COMPLAINT_PAUSE_RATE`` with at least ``COMPLAINT_PAUSE_MIN_VOLUME`` deliveries; return
    the recorded reason when it did."""
    counts = suppressions.feedback_counts(campaign_id)
    delivered, complained = counts.delivered_since_pause, counts.complained_since_pause
    if not deliverability.complaint_pause_due(
        delivered, complained, settings.complaint_pause_rate, settings.complaint_pause_min_volume
    ):
        return None
    stored = get_stored(campaign_id)
    if stored is None or stored.campaign.status != "active":
        return None  # paused, archived or deleted already: nothing is sent anyway
    reason = (
        f"complaint_rate: {complained} complaints / {delivered} delivered = "
        f"{complained / delivered:.2%} > {settings.complaint_pause_rate:.2%} "
        f"(checked from {settings.complaint_pause_min_volume} deliveries)"
    )
    try:
        change_status(campaign_id, "paused", now, stored.version)
    except (CampaignConflictError, CampaignStateError) as exc:
        # Saved by someone else meanwhile: the redelivered event checks again.
        raise FeedbackRetryError(f"campaign {campaign_id} changed: {exc}") from exc
    suppressions.record_auto_pause(counts, reason, now)
    count("CampaignsAutoPaused")
    logger.warning("campaign paused: complaint rate", campaign_id=campaign_id, reason=reason)
    return reason
