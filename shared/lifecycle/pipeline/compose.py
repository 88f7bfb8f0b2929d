"""Composing a message: template variables for one delivery, rendered by its channel.

One composition serves the sender, the dry run, previews and test sends, so what a marketer
previews is what a customer gets.

Links: ``unsubscribe_url`` is the RFC 8058 one-click link (``List-Unsubscribe``); for a
marketing message it names the campaign's topic, so one click switches off that topic on that
channel. ``preferences_url`` opens the customer's preference centre. Every marketing e-mail
gets a footer with the preference link, the company name and the postal address (the channel
adds it: marketers cannot forget it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lifecycle.campaigns.model import Campaign, offer_context, sample_context
from lifecycle.core.settings import Settings
from lifecycle.core.tokens import Keys, sign_preferences, sign_unsubscribe
from lifecycle.messages.channels import channel_for
from lifecycle.messages.channels.base import Message, Rendered
from lifecycle.messages.channels.email import FOOTER_KEY
from lifecycle.occasions.registry import occasion_for
from lifecycle.store.ledger import Delivery

FAMILY_NAME_FIRST = frozenset({"zh", "ja", "ko", "hu", "vi"})


def unsubscribe_url(
    settings: Settings,
    key: Keys,
    *,
    customer_id: str,
    channel: str,
    campaign_id: str,
    now: datetime,
    ttl_days: int | None = None,
    topic: str | None = None,
) -> str:
    token = sign_unsubscribe(
        key,
        customer_id=customer_id,
        channel=channel,
        campaign_id=campaign_id,
        now=now,
        ttl_days=settings.unsubscribe_token_ttl_days if ttl_days is None else ttl_days,
        topic=topic,
    )
    return f"{settings.public_base_url}/u/{token}"


def preferences_url(
    settings: Settings, key: Keys, *, customer_id: str, now: datetime, ttl_days: int | None = None
) -> str:
    """The customer's preference centre link (valid ``PREFERENCES_TOKEN_TTL_DAYS``)."""
    token = sign_preferences(
        key,
        customer_id=customer_id,
        now=now,
        ttl_days=settings.preferences_token_ttl_days if ttl_days is None else ttl_days,
    )
    return f"{settings.public_base_url}/p/{token}"


def marketing_footer(campaign: Campaign, settings: Settings, preferences: str) -> dict[str, str]:
    """What the e-mail channel prints under a marketing message (nothing for service)."""
    if not campaign.is_marketing:
        return {}
    return {
        "preferences_url": preferences,
        "company_name": settings.company_name,
        "postal_address": settings.postal_address,
    }


def template_context(
    item: Delivery,
    campaign: Campaign,
    customer: dict[str, Any],
    unsubscribe: str,
    extra: dict[str, Any] | None = None,
    preferences: str = "",
) -> dict[str, Any]:
    """The variables a template of ``campaign`` sees for one delivery."""
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
        "unsubscribe_url": unsubscribe,
        "preferences_url": preferences,
    }
    if campaign.offer:
        until = item.offer_valid_until or item.local_send_time[:10]
        context["offer"] = offer_context(
            campaign.offer, item.coupon_code or "", date.fromisoformat(until)
        )
    context.update(extra or {})
    return context


def display_name(first: str | None, last: str | None, locale: str) -> str:
    """Name for the To: header, in the order the customer's language writes it."""
    if locale.split("-", maxsplit=1)[0].lower() in FAMILY_NAME_FIRST:
        joiner = "" if locale.lower().startswith(("zh", "ja")) else " "
        return joiner.join(part for part in (last, first) if part)
    return " ".join(part for part in (first, last) if part)


def compose(
    item: Delivery,
    campaign: Campaign,
    customer: dict[str, Any],
    now: datetime,
    key: Keys,
    settings: Settings,
    extra: dict[str, Any] | None = None,
) -> Message:
    """The message of one delivery, rendered for the customer's locale on its channel.

    Raises ``RenderError`` when a template fails for this customer.
    """
    channel = channel_for(item.channel)
    url = unsubscribe_url(
        settings,
        key,
        customer_id=item.customer_id,
        channel=item.channel,
        campaign_id=campaign.campaign_id,
        now=now,
        topic=campaign.topic if campaign.is_marketing else None,
    )
    prefs = preferences_url(settings, key, customer_id=item.customer_id, now=now)
    context = template_context(item, campaign, customer, url, extra, prefs)
    context[FOOTER_KEY] = marketing_footer(campaign, settings, prefs)
    rendered = channel.render(campaign.content_for(item.channel), customer.get("locale"), context)
    name = display_name(customer.get("first_name"), customer.get("last_name"), rendered.locale)
    return Message(
        rendered=rendered,
        sender=settings.sender_email,
        to=str(customer.get(channel.address_field) or ""),
        to_name=name or None,
        local_date=now.astimezone(ZoneInfo(item.timezone)),
        unsubscribe_url=url,
        delivery_id=item.delivery_id,
        campaign_id=campaign.campaign_id,
        customer_id=item.customer_id,
        occasion=item.occasion,
        transactional=occasion_for(campaign.occasion).transactional,
    )


def render_sample(
    campaign: Campaign,
    customer: dict[str, Any],
    channel_name: str,
    key: Keys,
    settings: Settings,
    now: datetime,
) -> Rendered:
    """``campaign`` rendered for a real ``customer`` with sample occasion data (a preview)."""
    context = sample_context(campaign)
    context.update(
        first_name=customer.get("first_name") or "",
        last_name=customer.get("last_name") or "",
        customer={
            "customer_id": customer["customer_id"],
            "locale": customer.get("locale") or "",
            "country": customer.get("country") or "",
            "timezone": customer.get("timezone") or campaign.default_timezone,
        },
        unsubscribe_url=unsubscribe_url(
            settings,
            key,
            customer_id=customer["customer_id"],
            channel=channel_name,
            campaign_id=campaign.campaign_id,
            now=now,
            ttl_days=1,
            topic=campaign.topic if campaign.is_marketing else None,
        ),
        preferences_url=preferences_url(
            settings, key, customer_id=customer["customer_id"], now=now, ttl_days=1
        ),
    )
    context[FOOTER_KEY] = marketing_footer(campaign, settings, context["preferences_url"])
    return channel_for(channel_name).render(
        campaign.content_for(channel_name), customer.get("locale"), context
    )
