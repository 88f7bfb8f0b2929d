"""Consent and suppression, checked at plan time and again at send time.

Reason codes: ``unsubscribed`` (the customer used an unsubscribe link or STOP),
``no_consent`` (never opted in for the channel), ``no_address`` (nothing to send to).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNSUBSCRIBED = "unsubscribed"
NO_CONSENT = "no_consent"
NO_ADDRESS = "no_address"

ADDRESS_FIELD = {"email": "email", "sms": "phone"}


def consent_block(customer: Mapping[str, Any], channel: str) -> str | None:
    """The reason ``customer`` (a plain dict) must not get ``channel`` now, or None."""
    unsubscribed = customer.get("unsubscribed") or {}
    if channel in unsubscribed:
        return UNSUBSCRIBED
    consent = customer.get("consent") or {}
    if consent.get(channel) is not True:
        return NO_CONSENT
    if not customer.get(ADDRESS_FIELD[channel]):
        return NO_ADDRESS
    return None
