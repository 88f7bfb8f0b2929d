"""Sender: the one send path for every occasion.

For one ledger item: claim it (queued -> sending), re-check campaign, send window, consent and
suppression, render the template for the customer's locale, hand the message to the provider
and record the outcome with a reason code. Duplicate queue messages find the item already
claimed or finished and do nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lifecycle.campaigns.model import (
    Campaign,
    HolidayOccasion,
    InactivityOccasion,
    ReplenishmentOccasion,
    SurveyOccasion,
    offer_context,
)
from lifecycle.campaigns.repository import load_campaign
from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.core.observability import MetricUnit, logger, metrics
from lifecycle.core.settings import Settings
from lifecycle.core.tokens import sign, sign_unsubscribe
from lifecycle.messages.channels import sms as sms_channel
from lifecycle.messages.channels.email import OutgoingEmail, ProviderError, send_email
from lifecycle.occasions import holiday, inactivity
from lifecycle.occasions import orders as order_occasions
from lifecycle.rules.consent import UNSUBSCRIBED, consent_block
from lifecycle.rules.templates import RenderedSms, RenderError, render_email, render_sms
from lifecycle.store import ledger
from lifecycle.store.customers import claim_survey_slot, get_customer, record_unsubscribe
from lifecycle.store.models import DeliveryModel
from lifecycle.store.orders import get_order, orders_since

CAMPAIGN_INACTIVE = "campaign_inactive"
CUSTOMER_NOT_FOUND = "customer_not_found"
SEND_WINDOW_MISSED = "send_window_missed"
TEMPLATE_ERROR = "template_error"
PROVIDER_REJECTED = "provider_rejected"
DUPLICATE = "duplicate"
SMS_TOO_LONG = "sms_too_long"
MAX_ATTEMPTS = 5


class RetryLaterError(RuntimeError):
    """Transient: let the queue deliver the message again later."""


@dataclass(frozen=True)
class SendDependencies:
    settings: Settings
    key: bytes
    sesv2: Any
    events: Any | None = None
    sns: Any | None = None


def process_delivery(delivery_id: str, now: datetime, deps: SendDependencies) -> str:
    """Send one delivery; return its outcome (``sent``, ``skipped:<reason>``, ``duplicate`` ...).

    Raises
    ------
    RetryLaterError
        The item is leased by another worker or the provider failed transiently.
    """
    item = ledger.get(delivery_id)
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
    try:
        ledger.claim(item, now, deps.settings.send_lease_seconds)
    except ledger.LedgerConflictError:
        return DUPLICATE
    return _send_claimed(item, now, deps)


def _send_claimed(item: DeliveryModel, now: datetime, deps: SendDependencies) -> str:
    campaign = load_campaign(item.campaign_id)
    if campaign is None or campaign.status != "active":
        return _skip(item, now, CAMPAIGN_INACTIVE)
    late = now - parse_utc(item.deliver_at)
    if late > timedelta(minutes=deps.settings.max_send_delay_minutes):
        return _skip(item, now, SEND_WINDOW_MISSED)
    customer = get_customer(item.customer_id)
    if customer is None:
        return _skip(item, now, CUSTOMER_NOT_FOUND)
    blocked = consent_block(customer, item.channel)
    if blocked:
        return _skip(item, now, blocked)
    context_extra, blocked = occasion_checks(item, campaign, customer, now, deps)
    if blocked:
        return _skip(item, now, blocked)
    try:
        if item.channel == "sms":
            if sms_channel.opted_out(deps.sns, customer["phone"]):
                record_unsubscribe(item.customer_id, "sms", now)
                return _skip(item, now, UNSUBSCRIBED)
            message = compose_sms(item, campaign, customer, now, deps, context_extra)
            if message.segments > campaign.sms_max_segments:
                ledger.mark_failed(
                    item,
                    now,
                    SMS_TOO_LONG,
                    f"{message.segments} segments > {campaign.sms_max_segments}",
                )
                return f"failed:{SMS_TOO_LONG}"
            message_id = sms_channel.send_sms(
                deps.sns,
                customer["phone"],
                message.text,
                transactional=campaign.occasion.type == "post_purchase_survey",
            )
        else:
            mail = compose_email(item, campaign, customer, now, deps, context_extra)
            message_id = send_email(deps.sesv2, mail, deps.settings.ses_configuration_set)
    except RenderError as exc:
        ledger.mark_failed(item, now, TEMPLATE_ERROR, str(exc))
        return f"failed:{TEMPLATE_ERROR}"
    except ProviderError as exc:
        if exc.permanent or int(item.attempts or 0) >= MAX_ATTEMPTS:
            ledger.mark_failed(item, now, PROVIDER_REJECTED, str(exc))
            return f"failed:{PROVIDER_REJECTED}"
        ledger.release(item, now, str(exc))  # certainly not accepted: safe to retry
        raise RetryLaterError(str(exc)) from exc
    # From here on the provider has the message: a crash before mark_sent leaves the item in
    # "sending", which the next attempt turns into failed(outcome_unknown), never a resend.
    ledger.mark_sent(item, now, message_id)
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=1)
    _emit_sent(item, now, deps)
    return ledger.SENT


def survey_id(item: DeliveryModel) -> str:
    """One survey per occurrence, whatever the channels: the delivery id without the channel."""
    return item.delivery_id.rsplit("#", 1)[0]


def occasion_checks(
    item: DeliveryModel,
    campaign: Campaign,
    customer: dict[str, Any],
    now: datetime,
    deps: SendDependencies,
) -> tuple[dict[str, Any], str | None]:
    """Send-time rules of the occasion and the extra template variables it provides."""
    context = dict(item.context or {})
    spec = campaign.occasion
    if isinstance(spec, InactivityOccasion):
        if not inactivity.still_inactive(customer, context):
            return {}, inactivity.ACTIVE_AGAIN
        return {}, None
    if isinstance(spec, HolidayOccasion):
        translations = _holiday_translations(spec, context.get("name", ""))
        name = holiday.localized_name(
            context.get("name", ""),
            date.fromisoformat(context["date"]),
            context.get("country", ""),
            context.get("source", "calendar"),
            customer.get("locale"),
            translations,
        )
        return {"holiday": {"name": name, "date": context["date"]}}, None
    if isinstance(spec, ReplenishmentOccasion | SurveyOccasion):
        order = get_order(context["order_id"])
        stop = order_occasions.order_stop_reason(order)
        if stop or order is None:
            return {}, stop or order_occasions.ORDER_NOT_FOUND
        extra: dict[str, Any] = {"order": order.public()}
        if isinstance(spec, ReplenishmentOccasion):
            later = orders_since(item.customer_id, context["ordered_at"])
            if order_occasions.repurchased(later, context):
                return {}, order_occasions.REPURCHASED
            extra["product"] = {
                "sku": context["sku"],
                "name": context["product_name"],
                "qty": context.get("qty", 1),
            }
            return extra, None
        if not claim_survey_slot(item.customer_id, now, spec.throttle_days, survey_id(item)):
            return {}, order_occasions.SURVEY_THROTTLED
        # The survey id (campaign#customer#order) carries everything else: short links.
        token = sign(
            deps.key,
            "survey",
            {"s": survey_id(item), "q": spec.kind},
            now,
            deps.settings.survey_token_ttl_days,
        )
        extra["survey_url"] = f"{deps.settings.public_base_url}/s/{token}"
        return extra, None
    return {}, None


def _holiday_translations(spec: HolidayOccasion, name: str) -> dict[str, str]:
    for entry in spec.custom:
        if entry.name == name:
            return dict(entry.names)
    for lunar_entry in spec.lunar:
        if lunar_entry.name == name:
            return dict(lunar_entry.names)
    return {}


def _skip(item: DeliveryModel, now: datetime, reason: str) -> str:
    ledger.mark_skipped(item, now, reason)
    metrics.add_metric(name=f"Skipped_{reason}", unit=MetricUnit.Count, value=1)
    return f"skipped:{reason}"


def template_context(
    item: DeliveryModel,
    campaign: Campaign,
    customer: dict[str, Any],
    unsubscribe_url: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "first_name": customer.get("first_name") or "",
        "last_name": customer.get("last_name") or "",
        "customer": {
            "customer_id": customer["customer_id"],
            "locale": customer.get("locale") or "",
            "country": customer.get("country") or "",
            "timezone": item.timezone,
        },
        "campaign": {"id": campaign.campaign_id, "name": campaign.name},
        "occasion": dict(item.context or {"type": item.occasion}),
        "unsubscribe_url": unsubscribe_url,
    }
    if campaign.offer:
        until = item.offer_valid_until or item.local_send_time[:10]
        context["offer"] = offer_context(
            campaign.offer, item.coupon_code or "", date.fromisoformat(until)
        )
    context.update(extra or {})
    return context


def unsubscribe_url(
    settings: Settings,
    key: bytes,
    *,
    customer_id: str,
    channel: str,
    campaign_id: str,
    now: datetime,
) -> str:
    token = sign_unsubscribe(
        key,
        customer_id=customer_id,
        channel=channel,
        campaign_id=campaign_id,
        now=now,
        ttl_days=settings.unsubscribe_token_ttl_days,
    )
    return f"{settings.public_base_url}/u/{token}"


def message_context(
    item: DeliveryModel,
    campaign: Campaign,
    customer: dict[str, Any],
    now: datetime,
    deps: SendDependencies,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Template variables for one delivery, with its channel's signed unsubscribe link."""
    url = unsubscribe_url(
        deps.settings,
        deps.key,
        customer_id=item.customer_id,
        channel=item.channel,
        campaign_id=campaign.campaign_id,
        now=now,
    )
    return template_context(item, campaign, customer, url, extra)


def compose_email(
    item: DeliveryModel,
    campaign: Campaign,
    customer: dict[str, Any],
    now: datetime,
    deps: SendDependencies,
    extra: dict[str, Any] | None = None,
) -> OutgoingEmail:
    context = message_context(item, campaign, customer, now, deps, extra)
    url = str(context["unsubscribe_url"])
    rendered = render_email(campaign.email_content(), customer.get("locale"), context)
    name = display_name(customer.get("first_name"), customer.get("last_name"), rendered.locale)
    return OutgoingEmail(
        sender=deps.settings.sender_email,
        to=customer["email"],
        to_name=name or None,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        local_date=now.astimezone(ZoneInfo(item.timezone)),
        unsubscribe_url=url,
        delivery_id=item.delivery_id,
        campaign_id=campaign.campaign_id,
        customer_id=item.customer_id,
        occasion=item.occasion,
        locale=rendered.locale,
    )


def compose_sms(
    item: DeliveryModel,
    campaign: Campaign,
    customer: dict[str, Any],
    now: datetime,
    deps: SendDependencies,
    extra: dict[str, Any] | None = None,
) -> RenderedSms:
    context = message_context(item, campaign, customer, now, deps, extra)
    return render_sms(campaign.sms_content(), customer.get("locale"), context)


FAMILY_NAME_FIRST = frozenset({"zh", "ja", "ko", "hu", "vi"})


def display_name(first: str | None, last: str | None, locale: str) -> str:
    """Name for the To: header, in the order the customer's language writes it."""
    if locale.split("-", maxsplit=1)[0].lower() in FAMILY_NAME_FIRST:
        joiner = "" if locale.lower().startswith(("zh", "ja")) else " "
        return joiner.join(part for part in (last, first) if part)
    return " ".join(part for part in (first, last) if part)


def _emit_sent(item: DeliveryModel, now: datetime, deps: SendDependencies) -> None:
    """Publish ``message.sent`` for other services; a failure here never causes a resend."""
    if deps.events is None:
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
