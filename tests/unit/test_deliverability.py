"""Deliverability rules: addresses, bounce classes, complaint threshold, consent reasons."""

from __future__ import annotations

import hashlib

import pytest

from lifecycle.rules import deliverability as rules
from lifecycle.rules.consent import consent_block


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana@Example.COM ", "ana@example.com"),
        ('"Ana Lopez" <Ana@Example.com>', "ana@example.com"),
        ("bounce+c1@simulator.amazonses.com", "bounce+c1@simulator.amazonses.com"),
        ("no-at-sign", None),
        ("@example.com", None),
        ("ana@", None),
        ("", None),
        ("a@b@c", None),
    ],
)
def test_given_address_when_normalized_then_lower_case_without_display_name(raw, normalized):
    assert rules.normalize_address(raw) == normalized


def test_given_address_when_keyed_then_sha256_of_the_normalized_form_only():
    expected = hashlib.sha256(b"ana@example.com").hexdigest()
    assert rules.address_key("Ana <ANA@example.com>") == expected
    assert rules.address_key("+4915112345678") is None  # a phone number is no address


@pytest.mark.parametrize(
    ("bounce_type", "at_once"),
    [("Permanent", True), ("Transient", False), ("Undetermined", False)],
)
def test_given_bounce_type_when_judged_then_only_permanent_suppresses_at_once(bounce_type, at_once):
    assert rules.bounce_suppresses_at_once(bounce_type) is at_once


def test_given_transient_bounces_when_counted_then_three_suppress():
    assert [rules.transient_bounces_suppress(n) for n in (1, 2, 3, 4)] == [
        False,
        False,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("feedback_type", "counts"),
    [("abuse", True), (None, True), ("fraud", True), ("not-spam", False), ("NOT-SPAM", False)],
)
def test_given_complaint_feedback_type_when_judged_then_not_spam_does_not_count(
    feedback_type, counts
):
    assert rules.complaint_counts(feedback_type) is counts


def test_given_causes_when_combined_then_complaint_outranks_bounce():
    assert rules.stronger_cause(None, "bounce") == "bounce"
    assert rules.stronger_cause("bounce", "complaint") == "complaint"
    assert rules.stronger_cause("complaint", "bounce") == "complaint"


@pytest.mark.parametrize(
    ("delivered", "complained", "due"),
    [
        (999, 10, False),  # under the minimum volume, whatever the rate
        (1000, 3, False),  # exactly 0.3%: not over it
        (1000, 4, True),
        (10_000, 31, True),
        (10_000, 30, False),
        (0, 0, False),
    ],
)
def test_given_counts_when_checked_then_pause_over_rate_after_min_volume(
    delivered, complained, due
):
    assert rules.complaint_pause_due(delivered, complained, 0.003, 1000) is due


def _customer(**extra: object) -> dict[str, object]:
    customer: dict[str, object] = {
        "customer_id": "c-1",
        "email": "Ana@Example.com",
        "consent": {"email": True},
    }
    customer.update(extra)
    return customer


def _flag(address: str, reason: str) -> dict[str, object]:
    return {"email": {"address": rules.address_key(address), "reason": reason, "at": "x"}}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("bounce", "suppressed_bounce"), ("complaint", "suppressed_complaint")],
)
def test_given_flag_for_the_current_address_when_checked_then_suppressed_reason(reason, expected):
    customer = _customer(suppressed=_flag("ana@example.com", reason))
    assert consent_block(customer, "email") == expected


def test_given_flag_for_an_old_address_when_checked_then_not_blocked():
    customer = _customer(suppressed=_flag("old@example.com", "bounce"))
    assert consent_block(customer, "email") is None


def test_given_suppressed_email_when_sms_checked_then_sms_unaffected():
    customer = _customer(
        phone="+4915112345678",
        consent={"email": True, "sms": True},
        suppressed=_flag("ana@example.com", "complaint"),
    )
    assert consent_block(customer, "sms") is None


def test_given_unsubscribed_and_suppressed_when_checked_then_unsubscribe_reported_first():
    customer = _customer(unsubscribed={"email": "x"}, suppressed=_flag("ana@example.com", "bounce"))
    assert consent_block(customer, "email") == "unsubscribed"
