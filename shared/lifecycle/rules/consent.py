"""Consent and suppression, checked at plan time and again at send time.

Reason codes: ``unsubscribed`` (the customer used an unsubscribe link or STOP),
``no_consent`` (never opted in for the channel), ``no_address`` (nothing to send to),
``suppressed_bounce`` / ``suppressed_complaint`` (the address bounced or its owner
complained; see :mod:`lifecycle.rules.deliverability`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lifecycle.rules.deliverability import BOUNCE, COMPLAINT, address_key

UNSUBSCRIBED = "unsubscribed"
NO_CONSENT = "no_consent"
NO_ADDRESS = "no_address"
SUPPRESSED_BOUNCE = "suppressed_bounce"
SUPPRESSED_COMPLAINT = "suppressed_complaint"
SUPPRESSION_REASONS = {BOUNCE: SUPPRESSED_BOUNCE, COMPLAINT: SUPPRESSED_COMPLAINT}

ADDRESS_FIELD = {"email": "email", "sms": "phone"}


def consent_block(customer: Mapping[str, Any], channel: str) -> str | None:
    """The reason ``customer`` (a plain dict) must not get ``channel`` now, or None."""
    unsubscribed = customer.get("unsubscribed") or {}
    if channel in unsubscribed:
        return UNSUBSCRIBED
    consent = customer.get("consent") or {}
    if consent.get(channel) is not True:
        return NO_CONSENT
    address = customer.get(ADDRESS_FIELD[channel])
    if not address:
        return NO_ADDRESS
    # The flag names the address that bounced: a customer with a new address is mailed again.
    flag = (customer.get("suppressed") or {}).get(channel)
    if flag and flag.get("address") == address_key(str(address)):
        return suppression_reason(flag.get("reason"))
    return None


def suppression_reason(cause: Any) -> str:
    """The skip reason for an address suppressed because of ``cause`` (bounce, complaint)."""
    return SUPPRESSION_REASONS.get(str(cause), SUPPRESSED_BOUNCE)
