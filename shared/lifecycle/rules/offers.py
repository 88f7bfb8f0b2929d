"""Unique offer (coupon) codes.

A code is derived from the delivery id with a keyed hash: the same delivery always gets the
same code (redelivery-safe, nothing to look up), different deliveries get different codes,
and nobody can guess a valid code without the signing key. The code is stored on the ledger
item, so a shop can look a code up and see whom it was issued to and when it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, timedelta

from lifecycle.core.tokens import Keys, current_key

CODE_BODY_LENGTH = 10  # base32 characters: 50 bits


def coupon_code(prefix: str, delivery_id: str, key: Keys) -> str:
    digest = hmac.new(current_key(key), f"coupon:{delivery_id}".encode(), hashlib.sha256).digest()
    body = base64.b32encode(digest).decode("ascii")[:CODE_BODY_LENGTH]
    # Avoid look-alikes in printed codes: base32 has no 0/1/8/9 but has O/I/L; keep as is,
    # codes are matched case-insensitively by shops.
    return f"{prefix}-{body}"


def valid_until(occasion_date: date, valid_days: int) -> date:
    """Last day (inclusive) an offer issued for ``occasion_date`` can be redeemed."""
    return occasion_date + timedelta(days=valid_days - 1)
