"""Unsubscribe tokens and coupon codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from lifecycle.core.tokens import TokenError, sign_unsubscribe, verify_unsubscribe
from lifecycle.rules.offers import coupon_code, valid_until

KEY = b"k" * 32
NOW = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)


def _sign(key: bytes, ttl_days: int) -> str:
    return sign_unsubscribe(
        key,
        customer_id="c-001",
        channel="email",
        campaign_id="bday-2027",
        now=NOW,
        ttl_days=ttl_days,
    )


def test_given_signed_token_when_verified_then_claim_round_trips():
    token = _sign(KEY, 90)
    claim = verify_unsubscribe(KEY, token, NOW + timedelta(days=89))
    assert (claim.customer_id, claim.channel, claim.campaign_id) == ("c-001", "email", "bday-2027")
    assert "c-001" not in token  # ids are encoded, addresses never included


def test_given_expired_token_when_verified_then_expired():
    token = _sign(KEY, 1)
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(KEY, token, NOW + timedelta(days=2))
    assert caught.value.kind == "expired"


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "forged"),
        (lambda t: "x" + t, "forged"),
        (lambda t: t.replace(".", ""), "malformed"),
        (lambda t: "", "malformed"),
        (lambda t: t + ".x", "malformed"),
        (lambda t: "a" * 2000, "malformed"),
    ],
)
def test_given_tampered_token_when_verified_then_rejected(mutate, kind):
    token = _sign(KEY, 90)
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(KEY, mutate(token), NOW)
    assert caught.value.kind == kind


def test_given_other_key_when_verified_then_forged():
    token = _sign(b"o" * 32, 90)
    with pytest.raises(TokenError, match="signature"):
        verify_unsubscribe(KEY, token, NOW)


def test_given_deliveries_when_coupon_codes_derived_then_stable_and_distinct():
    first = coupon_code("BDAY", "bday-2027#c-001#2027", KEY)
    assert first == coupon_code("BDAY", "bday-2027#c-001#2027", KEY)
    assert first.startswith("BDAY-") and len(first) == len("BDAY-") + 10
    codes = {coupon_code("BDAY", f"bday-2027#c-{i:04d}#2027", KEY) for i in range(2000)}
    assert len(codes) == 2000
    assert coupon_code("BDAY", "bday-2027#c-001#2028", KEY) != first


def test_given_offer_valid_days_when_computing_until_then_inclusive():
    assert valid_until(date(2027, 3, 14), 14) == date(2027, 3, 27)
    assert valid_until(date(2027, 3, 14), 1) == date(2027, 3, 14)
