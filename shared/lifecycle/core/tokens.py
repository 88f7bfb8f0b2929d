"""HMAC-signed tokens for one-click unsubscribe (RFC 8058), preference centre and survey links.

Format: ``base64url(json payload) "." base64url(HMAC-SHA256(key, purpose ":" payload))``.
The payload holds ids only (no PII): customer id, channel, campaign id, expiry and ``kid``,
the id of the signing key.

Key rotation: links are signed with the current key of a :class:`SigningKeys` ring and
verified with the key their ``kid`` names (read before the signature is checked, like a JWT
header; it is signed with the rest), so a link signed before a rotation keeps working while its
key stays in the ring. An unknown ``kid`` is answered like a forged signature. A payload
without ``kid`` (issued before key ids existed) is verified with the key ``k0``, the id the
old single-string secret is read as.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

LEGACY_KID = "k0"
KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
MAX_TOKEN_LENGTH = 1024


class TokenError(ValueError):
    """A token is malformed, forged or expired; ``kind`` is one of those words."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class SigningKeys:
    """A key ring: ``current`` signs, every key in ``keys`` verifies what it signed."""

    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"current key id {self.current!r} is not among the keys")
        malformed = sorted(kid for kid in self.keys if not KID_RE.match(kid))
        if malformed:
            raise ValueError(f"key ids must be 1-32 of A-Z a-z 0-9 _ -: {malformed}")

    @classmethod
    def single(cls, key: bytes) -> SigningKeys:
        """One key, with the id of the old single-string secret (``k0``)."""
        return cls(LEGACY_KID, {LEGACY_KID: key})

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]


# Plain bytes are one key with id ``k0`` (tests, and code that never rotates).
Keys = SigningKeys | bytes


def key_ring(keys: Keys) -> SigningKeys:
    return keys if isinstance(keys, SigningKeys) else SigningKeys.single(keys)


def current_key(keys: Keys) -> bytes:
    """The key new links and coupon codes are made with."""
    return key_ring(keys).current_key


@dataclass(frozen=True)
class UnsubscribeClaim:
    """A one-click link: ``topic`` names what the message was about (a marketing message);
    None (links issued before topics, service messages) means the whole channel."""

    customer_id: str
    channel: str
    campaign_id: str
    expires_at: int
    topic: str | None = None


@dataclass(frozen=True)
class PreferencesClaim:
    """A preference centre link: it opens one customer's settings, nothing else."""

    customer_id: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str, purpose: str = "unsub") -> str:
    return _b64(hmac.new(key, f"{purpose}:{payload}".encode(), hashlib.sha256).digest())


def sign(key: Keys, purpose: str, body: dict[str, Any], now: datetime, ttl_days: int) -> str:
    """Sign ``body`` (ids only) for ``purpose`` with the current key; it expires ``ttl_days``
    after ``now``."""
    ring = key_ring(key)
    content = dict(body, e=int((now + timedelta(days=ttl_days)).timestamp()), kid=ring.current)
    payload = _b64(json.dumps(content, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(ring.current_key, payload, purpose)}"


def _kid(payload: str) -> str:
    """The key id a payload names: ``k0`` when it names none, also when it cannot be read
    (its signature check then refuses it); ``""`` (no key) when ``kid`` is not text."""
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, binascii.Error):
        return LEGACY_KID
    kid = body.get("kid", LEGACY_KID) if isinstance(body, dict) else LEGACY_KID
    return kid if isinstance(kid, str) else ""


def verify(key: Keys, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    """Check a token of ``purpose`` with the key its ``kid`` names; raise :class:`TokenError`
    (malformed/forged/expired). An unknown ``kid`` is ``forged``."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise TokenError("malformed", "token is malformed")
    payload, mac = token.split(".")
    secret = key_ring(key).keys.get(_kid(payload))
    if secret is None:
        raise TokenError("forged", "token signature does not match (unknown key id)")
    if not hmac.compare_digest(_mac(secret, payload, purpose), mac):
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
    key: Keys,
    *,
    customer_id: str,
    channel: str,
    campaign_id: str,
    now: datetime,
    ttl_days: int,
    topic: str | None = None,
) -> str:
    body = {"c": customer_id, "ch": channel, "k": campaign_id}
    if topic:
        body["t"] = topic
    return sign(key, "unsub", body, now, ttl_days)


def verify_unsubscribe(key: Keys, token: str, now: datetime) -> UnsubscribeClaim:
    """Check signature and expiry; raise :class:`TokenError` (malformed/forged/expired)."""
    body = verify(key, "unsub", token, now)
    try:
        return UnsubscribeClaim(
            customer_id=str(body["c"]),
            channel=str(body["ch"]),
            campaign_id=str(body["k"]),
            expires_at=int(body["e"]),
            topic=_optional_text(body.get("t")),
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "token payload is malformed") from None


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError("not text")
    return value


def sign_preferences(key: Keys, *, customer_id: str, now: datetime, ttl_days: int) -> str:
    """A preference centre link of one customer (purpose ``prefs``: an unsubscribe or survey
    token is never accepted as one, nor the other way round)."""
    return sign(key, "prefs", {"c": customer_id}, now, ttl_days)


def verify_preferences(key: Keys, token: str, now: datetime) -> PreferencesClaim:
    """Check signature and expiry; raise :class:`TokenError` (malformed/forged/expired)."""
    body = verify(key, "prefs", token, now)
    customer = body.get("c")
    if not isinstance(customer, str) or not customer:
        raise TokenError("malformed", "token names no customer")
    return PreferencesClaim(customer_id=customer, expires_at=int(body["e"]))
