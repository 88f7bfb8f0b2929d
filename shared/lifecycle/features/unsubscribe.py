"""One-click unsubscribe (RFC 8058): GET shows a confirmation page, only POST changes state.

The link of an erased customer answers 410 and stores nothing (the tombstone already has
every channel unsubscribed). Pages speak the customer's language, else the browser's
(``Accept-Language``), else English (:mod:`lifecycle.pages`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifecycle.core.clock import utc_iso
from lifecycle.core.observability import logger
from lifecycle.core.tokens import Keys, TokenError, UnsubscribeClaim, verify_unsubscribe
from lifecycle.messages.channels import CHANNELS
from lifecycle.pages import Page, PageLocale, link_error, negotiate, render_page
from lifecycle.rules.consent import one_click
from lifecycle.rules.records import is_erased
from lifecycle.rules.topics import topic_name
from lifecycle.store.consent import ONE_CLICK
from lifecycle.store.customers import ConsentSaved, get_customer, save_consent

STATUS_FOR_TOKEN_ERROR = {"malformed": 400, "forged": 403, "expired": 410}
ERASED_STATUS = 410  # the customer's data was erased: the link is gone for good
__all__ = ["ERASED_STATUS", "STATUS_FOR_TOKEN_ERROR", "Page", "confirmation_page", "unsubscribe"]


def _error_page(error: TokenError, accept_language: str | None) -> Page:
    return link_error("unsubscribe", error.kind, negotiate(None, accept_language))


def _erased_page(accept_language: str | None) -> Page:
    return link_error("unsubscribe", "erased", negotiate(None, accept_language))


def _locale(customer: dict[str, Any] | None, accept_language: str | None) -> PageLocale:
    locale = (customer or {}).get("locale")
    return negotiate(str(locale) if locale else None, accept_language)


def _topic(topic: str | None, locale: PageLocale) -> tuple[str | None, str | None]:
    """The topic's name in the page's language and the tag it is written in (None, None
    when the link is for the whole channel)."""
    return topic_name(topic, locale.tag) if topic else (None, None)


def _confirm_markup(token: str, channel: str, topic: str | None, locale: PageLocale) -> Page:
    name, lang = _topic(topic, locale)
    return render_page(
        "unsubscribe_confirm.html",
        locale,
        action=token,
        channel=channel,
        topic=name,
        topic_lang=lang,
    )


def _done_markup(channel: str, topic: str | None, locale: PageLocale) -> Page:
    name, lang = _topic(topic, locale)
    return render_page("unsubscribed.html", locale, channel=channel, topic=name, topic_lang=lang)


def _verified(key: Keys, token: str, now: datetime) -> UnsubscribeClaim:
    """A signed claim that also names one of our channels and a valid customer id."""
    claim = verify_unsubscribe(key, token, now)
    if claim.channel not in CHANNELS or not claim.customer_id:
        raise TokenError("malformed", "token names no known channel or no customer")
    return claim


def record_one_click(claim: UnsubscribeClaim, now: datetime) -> ConsentSaved | None:
    """Unsubscribe from the message's topic on its channel (a link without a topic: from
    everything on the channel) and record it (via ``one_click``); None for an unknown or
    erased customer. Idempotent: a repeated POST changes and records nothing."""
    at = utc_iso(now)
    return save_consent(
        claim.customer_id,
        lambda state: one_click(state, claim.channel, claim.topic, at),
        ONE_CLICK,
        now,
        campaign_id=claim.campaign_id,
    )


def confirmation_page(
    token: str, key: Keys, now: datetime, accept_language: str | None = None
) -> Page:
    """GET: check the token and show a button that POSTs; changes nothing."""
    try:
        claim = _verified(key, token, now)
    except TokenError as exc:
        return _error_page(exc, accept_language)
    customer = get_customer(claim.customer_id)
    if is_erased(customer):
        return _erased_page(accept_language)
    return _confirm_markup(token, claim.channel, claim.topic, _locale(customer, accept_language))


def unsubscribe(token: str, key: Keys, now: datetime, accept_language: str | None = None) -> Page:
    """POST (one-click or the confirmation form): unsubscribe from the token's topic on its
    channel, or from the whole channel when the token names no topic."""
    try:
        claim = _verified(key, token, now)
    except TokenError as exc:
        logger.info("unsubscribe token rejected", kind=exc.kind)
        return _error_page(exc, accept_language)
    customer = get_customer(claim.customer_id)
    if is_erased(customer):
        logger.info("unsubscribe link of an erased customer", customer_id=claim.customer_id)
        return _erased_page(accept_language)
    saved = record_one_click(claim, now)
    logger.info(
        "unsubscribed",
        customer_id=claim.customer_id,
        channel=claim.channel,
        campaign_id=claim.campaign_id,
        topic=claim.topic,
        known_customer=saved is not None,
    )
    # Same answer whether or not the customer still exists: reveals nothing.
    return _done_markup(claim.channel, claim.topic, _locale(customer, accept_language))
