"""Customer records: the bad-input corpus and normalization of good records."""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle.rules.records import RecordError, parse_customer

BAD: list[tuple[str, Any, str]] = [
    ("list", [], "record"),
    ("string", "c-1", "record"),
    ("number", 42, "record"),
    ("null", None, "record"),
    ("missing-id", {"email": "a@example.com"}, "customer_id"),
    ("empty-id", {"customer_id": ""}, "customer_id"),
    ("numeric-id", {"customer_id": 17}, "customer_id"),
    ("id-with-hash", {"customer_id": "c#1"}, "customer_id"),
    ("id-with-space", {"customer_id": "c 1"}, "customer_id"),
    ("id-too-long", {"customer_id": "c" * 129}, "customer_id"),
    ("email-no-at", {"customer_id": "c", "email": "not-an-email"}, "email"),
    ("email-double-at", {"customer_id": "c", "email": "ana@@example.com"}, "email"),
    ("email-not-string", {"customer_id": "c", "email": ["a@example.com"]}, "email"),
    ("email-space", {"customer_id": "c", "email": "ana lopez@example.com"}, "email"),
    ("phone-national", {"customer_id": "c", "phone": "015112345678"}, "phone"),
    ("phone-short", {"customer_id": "c", "phone": "+1555"}, "phone"),
    ("phone-number", {"customer_id": "c", "phone": 4915112345678}, "phone"),
    ("locale-bad", {"customer_id": "c", "locale": "english!"}, "locale"),
    ("locale-number", {"customer_id": "c", "locale": 7}, "locale"),
    ("tz-unknown", {"customer_id": "c", "timezone": "Mars/Olympus"}, "timezone"),
    ("tz-empty", {"customer_id": "c", "timezone": ""}, "timezone"),
    ("tz-path", {"customer_id": "c", "timezone": "../etc/passwd"}, "timezone"),
    ("country-xx", {"customer_id": "c", "country": "XX"}, "country"),
    ("country-alpha3", {"customer_id": "c", "country": "USA"}, "country"),
    ("feb30", {"customer_id": "c", "birthday": "1990-02-30"}, "birthday"),
    ("feb29-non-leap", {"customer_id": "c", "birthday": "1991-02-29"}, "birthday"),
    ("feb29-1900", {"customer_id": "c", "birthday": "1900-02-29"}, "birthday"),
    ("md-feb30", {"customer_id": "c", "birthday": "--02-30"}, "birthday"),
    ("md-month13", {"customer_id": "c", "birthday": "--13-01"}, "birthday"),
    ("md-month0", {"customer_id": "c", "birthday": "--00-10"}, "birthday"),
    ("unpadded", {"customer_id": "c", "birthday": "1990-2-3"}, "birthday"),
    ("slashes", {"customer_id": "c", "birthday": "03/14/1990"}, "birthday"),
    ("year-1800", {"customer_id": "c", "birthday": "1800-03-14"}, "birthday"),
    ("birthday-number", {"customer_id": "c", "birthday": 19900314}, "birthday"),
    ("consent-string", {"customer_id": "c", "consent": {"email": "yes"}}, "consent"),
    ("consent-bool", {"customer_id": "c", "consent": True}, "consent"),
    ("naive-created", {"customer_id": "c", "created_at": "2026-10-01T08:00:00"}, "created_at"),
    ("bad-active", {"customer_id": "c", "last_active_at": "yesterday"}, "last_active_at"),
    ("attributes-list", {"customer_id": "c", "attributes": ["gold"]}, "attributes"),
    ("name-too-long", {"customer_id": "c", "first_name": "x" * 201}, "first_name"),
    ("name-number", {"customer_id": "c", "last_name": 12}, "last_name"),
]


@pytest.mark.parametrize(("raw", "field"), [(r, f) for _, r, f in BAD], ids=[i for i, _, _ in BAD])
def test_given_bad_record_when_parsed_then_reason_names_the_field(raw, field):
    with pytest.raises(RecordError) as caught:
        parse_customer(raw)
    assert caught.value.reason.startswith(f"{field}: "), caught.value.reason
    if isinstance(raw, dict) and isinstance(raw.get("customer_id"), str) and field != "customer_id":
        assert caught.value.record_id == raw["customer_id"]


def test_given_full_record_when_parsed_then_normalized():
    record = parse_customer(
        {
            "customer_id": "c-001",
            "email": "Ana@Example.COM",
            "phone": "+49 151 12345678",
            "first_name": " Ana ",
            "last_name": "López",
            "locale": "es_es",
            "timezone": "Europe/Madrid",
            "country": "es",
            "birthday": "1992-02-29",
            "consent": {"email": True},
            "created_at": "2024-05-01T10:00:00Z",
            "last_active_at": "2026-10-01T10:00:00+02:00",
            "attributes": {"tier": "gold"},
            "nickname": "ani",
        }
    )
    assert record.email == "Ana@example.com"
    assert record.phone == "+4915112345678"
    assert (record.first_name, record.locale, record.country) == ("Ana", "es-ES", "ES")
    assert record.consent.email is True and record.consent.sms is False
    assert record.birthday_month_day == "02-29" and record.birth_year == 1992
    assert record.last_active_at is not None and record.last_active_at.utcoffset() is not None
    assert record.unknown_fields == ["nickname"]


@pytest.mark.parametrize(
    ("raw", "check"),
    [
        ({"customer_id": "c-1"}, lambda r: r.consent.email is False and r.birthday is None),
        ({"customer_id": "c", "birthday": "--02-29"}, lambda r: r.birthday_month_day == "02-29"),
        ({"customer_id": "c", "birthday": "2000-02-29"}, lambda r: r.birth_year == 2000),
        (
            {"customer_id": "c", "first_name": "芳", "last_name": "王", "locale": "zh_CN"},
            lambda r: (r.first_name, r.locale) == ("芳", "zh-CN"),
        ),
        (
            {"customer_id": "c", "first_name": "結衣", "locale": "ja-jp"},
            lambda r: r.locale == "ja-JP",
        ),
        ({"customer_id": "c", "locale": "zh-hans-cn"}, lambda r: r.locale == "zh-Hans-CN"),
        (
            {"customer_id": "user@shop:42", "timezone": "Pacific/Kiritimati"},
            lambda r: r.timezone == "Pacific/Kiritimati",
        ),
        ({"customer_id": "c", "email": None, "phone": None}, lambda r: r.email is None),
    ],
)
def test_given_good_record_when_parsed_then_accepted(raw, check):
    assert check(parse_customer(raw))
