"""One-click unsubscribe (RFC 8058): GET shows a confirmation page, only POST changes state.

The link of an erased customer answers 410 and stores nothing (the tombstone already has
every channel unsubscribed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from lifecycle.core.observability import logger
from lifecycle.core.tokens import Keys, TokenError, UnsubscribeClaim, verify_unsubscribe
from lifecycle.messages.channels import CHANNELS
from lifecycle.rules.records import is_erased
from lifecycle.store.customers import get_customer, record_unsubscribe

STATUS_FOR_TOKEN_ERROR = {"malformed": 400, "forged": 403, "expired": 410}
ERASED_STATUS = 410  # the customer's data was erased: the link is gone for good

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em">
<h1>{title}</h1>
{body}
</body></html>"""


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def _page(status: int, title: str, body: str) -> Page:
    return Page(status, _PAGE.format(title=escape(title), body=body))


def _error_page(error: TokenError) -> Page:
    messages = {
        "malformed": "This unsubscribe link is not complete. Please copy the whole link.",
        "forged": "This unsubscribe link is not valid.",
        "expired": "This unsubscribe link has expired. Use the link in a more recent message.",
    }
    return _page(
        STATUS_FOR_TOKEN_ERROR[error.kind],
        "Link not valid",
        f"<p>{escape(messages[error.kind])}</p>",
    )


def _erased_page() -> Page:
    return _page(ERASED_STATUS, "Link not valid", "<p>This link is no longer valid.</p>")


def _verified(key: Keys, token: str, now: datetime) -> UnsubscribeClaim:
    """A signed claim that also names one of our channels and a valid customer id."""
    claim = verify_unsubscribe(key, token, now)
    if claim.channel not in CHANNELS or not claim.customer_id:
        raise TokenError("malformed", "token names no known channel or no customer")
    return claim


def confirmation_page(token: str, key: Keys, now: datetime) -> Page:
    """GET: check the token and show a button that POSTs; changes nothing."""
    try:
        claim = _verified(key, token, now)
    except TokenError as exc:
        return _error_page(exc)
    if is_erased(get_customer(claim.customer_id)):
        return _erased_page()
    form = (
        f"<p>Do you want to stop receiving {escape(claim.channel)} messages from us?</p>"
        f'<form method="post" action="{escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page(200, "Unsubscribe", form)


def unsubscribe(token: str, key: Keys, now: datetime) -> Page:
    """POST (one-click or the confirmation form): withdraw consent for the token's channel."""
    try:
        claim = _verified(key, token, now)
    except TokenError as exc:
        logger.info("unsubscribe token rejected", kind=exc.kind)
        return _error_page(exc)
    if is_erased(get_customer(claim.customer_id)):
        logger.info("unsubscribe link of an erased customer", customer_id=claim.customer_id)
        return _erased_page()
    found = record_unsubscribe(claim.customer_id, claim.channel, now)
    logger.info(
        "unsubscribed",
        customer_id=claim.customer_id,
        channel=claim.channel,
        campaign_id=claim.campaign_id,
        known_customer=found,
    )
    # Same answer whether or not the customer still exists: reveals nothing.
    return _page(
        200,
        "You are unsubscribed",
        f"<p>You will not receive {escape(claim.channel)} messages from us any more.</p>",
    )
