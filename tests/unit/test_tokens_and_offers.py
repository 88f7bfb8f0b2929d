"""Link tokens (key ids, rotation), the signing secret, coupon codes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from lifecycle.core.secrets import parse_signing_secret
from lifecycle.core.settings import Settings, SettingsError
from lifecycle.core.tokens import (
    Keys,
    SigningKeys,
    TokenError,
    _b64,
    _mac,
    _unb64,
    sign_unsubscribe,
    verify_unsubscribe,
)
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


# -- key rotation -------------------------------------------------------------------------
K1, K2 = b"first-key-0123456789", b"second-key-0123456789"
RING_K1 = SigningKeys("k1", {"k1": K1})
RING_K2 = SigningKeys("k2", {"k1": K1, "k2": K2})  # after the rotation: k1 kept to verify


def _sign_with(keys: Keys) -> str:
    return sign_unsubscribe(
        keys, customer_id="c-001", channel="email", campaign_id="bday-2027", now=NOW, ttl_days=400
    )


def _body(token: str) -> dict[str, object]:
    body: dict[str, object] = json.loads(_unb64(token.split(".", maxsplit=1)[0]))
    return body


def _with_body(token: str, **changes: object) -> str:
    """``token`` with its payload changed (``None`` removes a field), signature kept."""
    body = {k: v for k, v in {**_body(token), **changes}.items() if v is not None}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{token.split('.')[1]}"


def test_given_key_ring_when_signing_then_token_names_the_current_key():
    assert _body(_sign_with(RING_K1))["kid"] == "k1"
    assert _body(_sign_with(RING_K2))["kid"] == "k2"
    assert _body(_sign_with(KEY))["kid"] == "k0"  # plain bytes: one key, id k0
    assert _sign_with(RING_K2).count(".") == 1  # the link format did not change


def test_given_link_signed_with_k1_when_k2_becomes_current_then_it_still_verifies():
    token = _sign_with(RING_K1)
    claim = verify_unsubscribe(RING_K2, token, NOW + timedelta(days=399))
    assert claim.customer_id == "c-001"
    assert verify_unsubscribe(RING_K2, _sign_with(RING_K2), NOW).channel == "email"


def test_given_k1_retired_from_the_ring_when_its_link_verified_then_forged():
    token = _sign_with(RING_K1)
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(SigningKeys("k2", {"k2": K2}), token, NOW)
    assert caught.value.kind == "forged"


def test_given_token_from_before_key_ids_when_verified_then_checked_with_k0():
    body = {"c": "c-001", "ch": "email", "e": int(NOW.timestamp()) + 3600, "k": "bday-2027"}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    legacy = f"{payload}.{_mac(KEY, payload, 'unsub')}"  # the format before key ids
    ring = SigningKeys("k1", {"k0": KEY, "k1": K1})
    assert verify_unsubscribe(ring, legacy, NOW).campaign_id == "bday-2027"
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(RING_K2, legacy, NOW)  # no k0 in the ring
    assert caught.value.kind == "forged"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda t: _with_body(t, kid="k9"), id="unknown kid"),
        pytest.param(lambda t: _with_body(t, kid="k2"), id="kid of another known key"),
        pytest.param(lambda t: _with_body(t, kid=None), id="kid removed (read as k0)"),
        pytest.param(lambda t: _with_body(t, kid=""), id="empty kid"),
        pytest.param(lambda t: _with_body(t, kid=1), id="kid not text"),
        pytest.param(lambda t: _with_body(t, kid=["k1"]), id="kid a list"),
        pytest.param(lambda t: _with_body(t, kid="k1/../k2"), id="kid with path characters"),
        pytest.param(lambda t: _with_body(t, c="c-002"), id="customer changed, kid kept"),
        pytest.param(lambda t: "x" + t, id="payload not readable"),
    ],
)
def test_given_tampered_key_id_when_verified_then_forged(mutate):
    token = _sign_with(RING_K1)
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(RING_K2, mutate(token), NOW)
    assert caught.value.kind == "forged"


def test_given_same_key_under_two_ids_when_kid_swapped_then_forged():
    ring = SigningKeys("a", {"a": K1, "b": K1})
    token = _with_body(_sign_with(ring), kid="b")  # the kid is signed: the payload changed
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(ring, token, NOW)
    assert caught.value.kind == "forged"


@pytest.mark.parametrize(
    ("current", "keys"),
    [
        ("k3", {"k1": K1}),
        ("k 1", {"k 1": K1}),
        ("", {"": K1}),
        ("k1", {"k1": K1, "x" * 33: K2}),
    ],
)
def test_given_inconsistent_ring_when_built_then_value_error(current, keys):
    with pytest.raises(ValueError):
        SigningKeys(current, keys)


# -- the secret's two forms ---------------------------------------------------------------
def test_given_single_string_secret_when_parsed_then_key_k0():
    ring = parse_signing_secret("local-signing-secret-0123456789")
    assert (ring.current, dict(ring.keys)) == ("k0", {"k0": b"local-signing-secret-0123456789"})


def test_given_json_secret_when_parsed_then_current_and_every_key():
    secret = json.dumps({"current": "k2", "keys": {"k0": "o" * 16, "k1": "a" * 20, "k2": "b" * 64}})
    ring = parse_signing_secret(secret)
    assert ring.current == "k2" and ring.current_key == b"b" * 64
    assert sorted(ring.keys) == ["k0", "k1", "k2"]


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "shorter than 16"),
        ("short", "shorter than 16"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "shorter than 16"),  # no '{': a (short) single string
        ('{"keys": {"k1": "aaaaaaaaaaaaaaaa"}}', "expected"),
        ('{"current": "k1", "keys": {}}', "expected"),
        ('{"current": "k1", "keys": ["aaaaaaaaaaaaaaaa"]}', "expected"),
        ('{"current": 1, "keys": {"k1": "aaaaaaaaaaaaaaaa"}}', "expected"),
        (
            '{"current": "k1", "keys": {"k1": "short"}}',
            "shorter than 16 characters or not text: k1",
        ),
        ('{"current": "k1", "keys": {"k1": 1234567890123456789}}', "not text: k1"),
        ('{"current": "k2", "keys": {"k1": "aaaaaaaaaaaaaaaa"}}', "not among the keys"),
        ('{"current": "k/1", "keys": {"k/1": "aaaaaaaaaaaaaaaa"}}', "key ids must be"),
    ],
)
def test_given_bad_secret_when_parsed_then_settings_error_names_the_problem(secret, message):
    with pytest.raises(SettingsError, match=message):
        parse_signing_secret(secret)


def test_given_coupon_code_when_ring_given_then_current_key_used():
    assert coupon_code("BDAY", "d-1", RING_K2) == coupon_code("BDAY", "d-1", K2)
    assert coupon_code("BDAY", "d-1", RING_K1) != coupon_code("BDAY", "d-1", RING_K2)


# -- link lifetime ------------------------------------------------------------------------
REQUIRED = {"CUSTOMERS_TABLE": "c", "CAMPAIGNS_TABLE": "k", "DELIVERIES_TABLE": "d"}


def test_given_default_settings_when_read_then_unsubscribe_links_live_over_a_year():
    assert Settings.model_validate(REQUIRED).unsubscribe_token_ttl_days >= 366


@pytest.mark.parametrize("days", ["90", "365", "0"])
def test_given_unsubscribe_ttl_under_a_year_when_settings_parsed_then_refused(days):
    with pytest.raises(ValidationError, match="UNSUBSCRIBE_TOKEN_TTL_DAYS"):
        Settings.model_validate({**REQUIRED, "UNSUBSCRIBE_TOKEN_TTL_DAYS": days})
