"""HMAC-signed tokens for one-click unsubscribe links (RFC 8058).

Format: ``base64url(json payload) "." base64url(HMAC-SHA256(key, payload))``. The payload
holds ids only (no PII): customer id, channel, campaign id and expiry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class TokenError(ValueError):
    """A token is malformed, forged or expired; ``kind`` is one of those words."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class UnsubscribeClaim:
    customer_id: str
    channel: str
    campaign_id: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str, purpose: str = "unsub") -> str:
    return _b64(hmac.new(key, f"{purpose}:{payload}".encode(), hashlib.sha256).digest())


def sign(key: bytes, purpose: str, body: dict[str, Any], now: datetime, ttl_days: int) -> str:
    """Sign ``body`` (ids only) for ``purpose``; it expires ``ttl_days`` after ``now``."""
    content = dict(body, e=int((now + timedelta(days=ttl_days)).timestamp()))
    payload = _b64(json.dumps(content, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(key, payload, purpose)}"


def verify(key: bytes, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    """Check a token of ``purpose``; raise :class:`TokenError` (malformed/forged/expired)."""
    if not token or len(token) > 1024 or token.count(".") != 1:
        raise TokenError("malformed", "token is malformed")
    payload, mac = token.split(".")
    if not hmac.compare_digest(_mac(key, payload, purpose), mac):
        raise TokenError("forged", "token signature does not match")
    try:
        body = json.loads(_unb64(payload))
        expires = int(body["e"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise TokenError("malformed", "token payload is malformed") from None
    if not isinstance(body, dict):
        raise TokenError("malformed", "token payload is malformed")
    if now.timestamp() > expires:
        raise TokenError("expired", "token has expired")
    return body


def sign_unsubscribe(
    key: bytes, *, customer_id: str, channel: str, campaign_id: str, now: datetime, ttl_days: int
) -> str:
    body = {"c": customer_id, "ch": channel, "k": campaign_id}
    return sign(key, "unsub", body, now, ttl_days)


def verify_unsubscribe(key: bytes, token: str, now: datetime) -> UnsubscribeClaim:
    """Check signature and expiry; raise :class:`TokenError` (malformed/forged/expired)."""
    body = verify(key, "unsub", token, now)
    try:
        return UnsubscribeClaim(
            customer_id=str(body["c"]),
            channel=str(body["ch"]),
            campaign_id=str(body["k"]),
            expires_at=int(body["e"]),
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "token payload is malformed") from None
