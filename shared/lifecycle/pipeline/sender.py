"""Sender: the one send path for every occasion.

For one ``queued`` ledger item: re-check campaign, send window, consent and suppression,
render the template for the customer's locale, count it against the messaging policy, then
record the outcome with a reason code in one conditional write (a skip, or, for e-mail,
``sent`` just before the provider call; SMS claims the item and records ``sent`` with SNS's
message id after the call: see :mod:`lifecycle.store.ledger`). Duplicate queue messages, or
two workers on one id, find the item finished or lose the conditional write and do nothing.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lifecycle.campaigns.model import (
    Campaign,
)
from lifecycle.campaigns.repository import load_campaign
from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.core.observability import MetricUnit, count, logger, metrics
from lifecycle.core.settings import Settings
from lifecycle.core.tokens import Keys
from lifecycle.messages.channels import channel_for
from lifecycle.messages.channels.base import (
    Channel,
    Message,
    OutcomeUnknownError,
    ProviderError,
)
from lifecycle.occasions.base import Check, LinkSigner, Pending
from lifecycle.occasions.registry import occasion_for
from lifecycle.pipeline import policy
from lifecycle.pipeline.compose import compose
from lifecycle.rules.consent import UNSUBSCRIBED, consent_block
from lifecycle.rules.templates import RenderError
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer, record_unsubscribe
from lifecycle.store.ledger import Delivery
from lifecycle.store.suppressions import block_reason as suppression_block

CAMPAIGN_INACTIVE = "campaign_inactive"
CUSTOMER_NOT_FOUND = "customer_not_found"
SEND_WINDOW_MISSED = "send_window_missed"
TEMPLATE_ERROR = "template_error"
PROVIDER_REJECTED = "provider_rejected"
DUPLICATE = "duplicate"
SMS_TOO_LONG = "sms_too_long"
MAX_ATTEMPTS = 5
QUIET_HOURS = "quiet_hours"


class RetryLaterError(RuntimeError):
    """Transient: let the queue deliver the message again later (``throttled``: the provider
    asked us to slow down)."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


BACKOFF_BASE_SECONDS = 15
BACKOFF_CAP_SECONDS = 240


def retry_delay(receive_count: int, rng: random.Random) -> int:
    """Seconds before the next attempt: exponential backoff with jitter.

    Attempt n waits between half and all of ``15 * 2**(n-1)`` seconds, capped at 240 s, so
    five attempts fit in under 8 minutes (inside the 15-minute send window) and workers
    that failed together do not retry together.
    """
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, receive_count - 1))
    return int(ceiling / 2 + rng.random() * ceiling / 2)


@dataclass(frozen=True)
class SendDependencies:
    settings: Settings
    key: Keys
    sesv2: Any
    events: Any | None = None
    sns: Any | None = None

    @property
    def configuration_set(self) -> str:
        return self.settings.ses_configuration_set


def process_delivery(delivery_id: str, now: datetime, deps: SendDependencies) -> str:
    """Send one delivery; return its outcome (``sent``, ``skipped:<reason>``, ``duplicate`` ...).

    Raises
    ------
    RetryLaterError
        The item is leased by another worker or the provider failed transiently.
    """
    item = ledger.get_to_send(delivery_id)
    if item is None:
        logger.warning("delivery not in ledger", delivery_id=delivery_id)
        return "missing"
    if item.status in ledger.FINAL_STATUSES:
        return DUPLICATE
    if item.status == ledger.SENDING:
        if not ledger.lease_expired(item, now):
            raise RetryLaterError(f"{delivery_id} is being sent by another worker")
        # A worker died after claiming: the provider may have accepted the message.
        # Never send it again silently; record it for an operator.
        ledger.mark_failed(
            item,
            now,
            ledger.OUTCOME_UNKNOWN,
            "worker stopped after claiming; provider outcome unknown",
        )
        metrics.add_metric(name="DeliveryOutcomeUnknown", unit=MetricUnit.Count, value=1)
        return f"failed:{ledger.OUTCOME_UNKNOWN}"
    # The messaging policy's quiet hours, before the claim: a held message stays queued.
    if policy.quiet_hours(item, now, timedelta(minutes=deps.settings.max_send_delay_minutes)):
        try:
            ledger.mark_skipped(item, now, QUIET_HOURS, expected=ledger.QUEUED)
        except ledger.LedgerConflictError:
            return DUPLICATE
        count("Skipped", reason=QUIET_HOURS)
        return f"skipped:{QUIET_HOURS}"
    try:
        return _send(item, now, deps)
    except ledger.LedgerConflictError:
        return DUPLICATE  # another worker recorded an outcome first


def _send(item: Delivery, now: datetime, deps: SendDependencies) -> str:
    try:
        prepared = _prepare(item, now, deps)
    except (RetryLaterError, ledger.LedgerConflictError):
        raise
    except Exception as exc:
        # Nothing was recorded and nothing reached the provider (e.g. a throttled read): the
        # item is still queued, the retry decides again.
        raise RetryLaterError(f"{item.delivery_id}: {type(exc).__name__}") from exc
    if isinstance(prepared, str):
        return prepared
    channel, message = prepared
    if channel.write_ahead:
        ledger.mark_sent_ahead(item, now)
        state = ledger.SENT
    else:
        ledger.claim(item, now, deps.settings.send_lease_seconds)
        state = ledger.SENDING
    try:
        message_id = channel.send(deps, message)
    except ProviderError as exc:
        return _provider_refused(item, now, exc, state)
    except Exception as exc:
        if not isinstance(exc, OutcomeUnknownError) and state == ledger.SENDING:
            raise  # the lease expires and the next attempt records outcome_unknown
        # The request may have reached the provider: never resend; record it for an operator
        # (a delivery event from the provider can still prove it arrived).
        ledger.mark_failed(item, now, ledger.OUTCOME_UNKNOWN, str(exc), expected=state)
        metrics.add_metric(name="DeliveryOutcomeUnknown", unit=MetricUnit.Count, value=1)
        return f"failed:{ledger.OUTCOME_UNKNOWN}"
    if state == ledger.SENDING:
        # From here on the provider has the message: a crash before mark_sent leaves the
        # item in "sending", which the next attempt turns into failed(outcome_unknown).
        ledger.mark_sent(item, now, message_id)
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=1)
    _emit_sent(item, now, deps)
    return ledger.SENT


def _prepare(
    item: Delivery, now: datetime, deps: SendDependencies
) -> str | tuple[Channel, Message]:
    """Every check and write before the provider call: an outcome, or what to send."""
    campaign = load_campaign(item.campaign_id)
    if campaign is None or campaign.status != "active":
        return _skip(item, now, CAMPAIGN_INACTIVE)
    late = now - parse_utc(item.deliver_at)
    if late > timedelta(minutes=deps.settings.max_send_delay_minutes):
        return _skip(item, now, SEND_WINDOW_MISSED)
    customer = get_customer(item.customer_id)
    if customer is None:
        return _skip(item, now, CUSTOMER_NOT_FOUND)
    # The suppression list covers every customer with a bounced address, not only the one
    # whose message bounced (that one also carries the flag consent_block reads).
    blocked = consent_block(
        customer, item.channel, campaign.topic, marketing=campaign.is_marketing
    ) or suppression_block(customer, item.channel)
    if blocked:
        return _skip(item, now, blocked)
    checked = occasion_check(item, campaign, customer, now, deps)
    if checked.reason:
        return _skip(item, now, checked.reason)
    # The write step: what the occasion must reserve before the message goes out.
    refused = occasion_for(campaign.occasion).reserve(campaign.occasion, pending(item), now)
    if refused:
        return _skip(item, now, refused)
    channel = channel_for(item.channel)
    try:
        if channel.opted_out(deps, str(customer.get(channel.address_field) or "")):
            record_unsubscribe(item.customer_id, item.channel, now)
            return _skip(item, now, UNSUBSCRIBED)
        message = compose(item, campaign, customer, now, deps.key, deps.settings, checked.variables)
    except RenderError as exc:
        ledger.mark_failed(item, now, TEMPLATE_ERROR, str(exc), expected=ledger.QUEUED)
        return f"failed:{TEMPLATE_ERROR}"
    except ProviderError as exc:
        return _provider_refused(item, now, exc, ledger.QUEUED)
    too_long = channel.over_limit(message.rendered, campaign.sms_max_segments)
    if too_long:
        ledger.mark_failed(item, now, SMS_TOO_LONG, too_long, expected=ledger.QUEUED)
        return f"failed:{SMS_TOO_LONG}"
    # The messaging policy's caps, last: the message is counted only if it is about to go.
    capped = policy.caps(item, campaign, now)
    if capped.reason:
        return _skip(item, now, capped.reason, detail=capped.winner)
    return channel, message


def _provider_refused(item: Delivery, now: datetime, exc: ProviderError, state: str) -> str:
    """The provider certainly did not accept: final when permanent or after 5 attempts,
    else back to ``queued`` and :class:`RetryLaterError`. ``state``: the item's status now."""
    if exc.permanent or int(item.attempts or 0) >= MAX_ATTEMPTS:
        ledger.mark_failed(item, now, PROVIDER_REJECTED, str(exc), expected=state)
        _uncount_quietly(item, now)
        return f"failed:{PROVIDER_REJECTED}"
    if state != ledger.QUEUED:
        _release(item, now, str(exc), state)
    if exc.throttled:
        metrics.add_metric(name="ProviderThrottled", unit=MetricUnit.Count, value=1)
    raise RetryLaterError(str(exc), throttled=exc.throttled) from exc


RELEASE_ATTEMPTS = 4


def _release(item: Delivery, now: datetime, error: str, state: str) -> None:
    """sending or write-ahead sent -> queued, tried a few times: nothing reached the provider,
    and the item must not stay recorded as sent (or end as ``outcome_unknown``)."""
    for attempt in range(RELEASE_ATTEMPTS):
        try:
            ledger.release(item, now, error, expected=state)
            return
        except ledger.LedgerConflictError:
            return  # no longer ours (finished or released meanwhile)
        except Exception:
            if attempt == RELEASE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)  # throttled: 50, 100, 200 ms


def pending(item: Delivery) -> Pending:
    return Pending(
        delivery_id=item.delivery_id,
        customer_id=item.customer_id,
        context=dict(item.context or {}),
        occurrence_id=ledger.occurrence_id(item.delivery_id),
    )


def occasion_check(
    item: Delivery,
    campaign: Campaign,
    customer: dict[str, Any],
    now: datetime,
    deps: SendDependencies,
) -> Check:
    """The occasion's read-only send-time check (cancellation) and its template variables."""
    return occasion_for(campaign.occasion).check(
        campaign.occasion, pending(item), customer, now, LinkSigner(deps.key, deps.settings)
    )


def _skip(item: Delivery, now: datetime, reason: str, detail: str | None = None) -> str:
    if detail:
        ledger.mark_skipped_for(item, now, reason, detail, expected=ledger.QUEUED)
    else:
        ledger.mark_skipped(item, now, reason, expected=ledger.QUEUED)
    count("Skipped", reason=reason)
    return f"skipped:{reason}"


def _uncount_quietly(item: Delivery, now: datetime) -> None:
    """The provider refused: give the message's slot in the customer's budget back."""
    try:
        policy.uncount(item, load_campaign(item.campaign_id), now)
    except Exception:  # the slot stays taken: fewer messages, never more
        logger.exception("could not give a budget slot back", delivery_id=item.delivery_id)


def _emit_sent(item: Delivery, now: datetime, deps: SendDependencies) -> None:
    """Publish ``message.sent`` for other services when a consumer is configured
    (``PUBLISH_SENT_EVENTS``, off by default); a failure here never causes a resend."""
    if deps.events is None or not deps.settings.publish_sent_events:
        return
    detail = {
        "delivery_id": item.delivery_id,
        "campaign_id": item.campaign_id,
        "customer_id": item.customer_id,
        "occasion": item.occasion,
        "channel": item.channel,
        "occurrence": item.occurrence,
        "sent_at": utc_iso(now),
    }
    try:
        deps.events.put_events(
            Entries=[
                {
                    "Source": "lifecycle.messaging",
                    "DetailType": "message.sent",
                    "Detail": json.dumps(detail),
                }
            ]
        )
    except Exception:
        logger.exception("could not publish message.sent", delivery_id=item.delivery_id)
