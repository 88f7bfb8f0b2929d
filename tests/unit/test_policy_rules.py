"""The messaging policy as a specification: the document, quiet hours, the caps (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from lifecycle.rules.policy import (
    FREQUENCY_CAP,
    OUTRANKED,
    Contender,
    PolicyError,
    cap_verdict,
    is_quiet,
    parse_policy,
    quiet_channels,
    quiet_ends,
    quiet_verdict,
    quiet_window,
)

TYPES = ("birthday", "holiday", "inactivity", "date", "replenishment", "post_purchase_survey")
ISSUE_EXAMPLE: dict[str, Any] = {
    "quiet_hours": {
        "email": {"from": "21:00", "to": "08:00"},
        "sms": {"from": "20:00", "to": "09:00"},
    },
    "daily_limit": 1,
    "frequency_cap": {"max_messages": 3, "per_days": 7},
    "priority": [
        "post_purchase_survey",
        "birthday",
        "date",
        "holiday",
        "replenishment",
        "inactivity",
    ],
}


def policy(**overrides: Any) -> Any:
    return parse_policy({**ISSUE_EXAMPLE, **overrides}, TYPES)


def errors(raw: object) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(raw, TYPES)
    return [(e.field, e.message) for e in caught.value.errors]


def test_given_issue_example_when_parsed_then_accepted_and_answered_as_written():
    assert policy().document() == ISSUE_EXAMPLE


def test_given_empty_document_when_parsed_then_nothing_limited_and_sms_keeps_its_default():
    empty = parse_policy({}, TYPES)
    assert not empty.caps
    assert quiet_window(empty, "email") is None
    assert quiet_window(empty, "sms") == quiet_window(None, "sms")
    default = quiet_window(None, "sms")
    assert default is not None
    assert default.document() == {"from": "21:00", "to": "08:00"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], [("policy", "must be a JSON object")]),
        ({"quiet_hour": {}}, [("quiet_hour", "unknown field")]),
        (
            {"quiet_hours": {"fax": {"from": "01:00", "to": "02:00"}}},
            [("quiet_hours.fax", "unknown channel; known: email, sms")],
        ),
        (
            {"quiet_hours": {"email": {"from": "08:00", "to": "08:00"}}},
            [("quiet_hours.email", "'from' and 'to' are equal (an empty or a whole-day window)")],
        ),
        (
            {"quiet_hours": {"email": {"from": "8:00", "to": "24:00"}}},
            [
                ("quiet_hours.email.from", "'8:00' is not a time 'HH:MM'"),
                ("quiet_hours.email.to", "'24:00' is not a time 'HH:MM'"),
            ],
        ),
        (
            {"quiet_hours": {"email": {"from": "21:00", "to": "08:00", "tz": "UTC"}}},
            [("quiet_hours.email.tz", "unknown field")],
        ),
        ({"daily_limit": True}, [("daily_limit", "Input should be a valid integer")]),
        ({"daily_limit": 0}, [("daily_limit", "Input should be greater than or equal to 1")]),
        ({"daily_limit": 25}, [("daily_limit", "Input should be less than or equal to 24")]),
        (
            {"frequency_cap": {"max_messages": 3, "per_days": 91}},
            [("frequency_cap.per_days", "Input should be less than or equal to 90")],
        ),
        (
            {"frequency_cap": {"max_messages": "3", "per_days": 7}},
            [("frequency_cap.max_messages", "Input should be a valid integer")],
        ),
        (
            {"priority": ["birthday", "sale", "birthday"]},
            [
                (
                    "priority[1]",
                    "unknown occasion type 'sale'; known: " + ", ".join(TYPES),
                ),
                ("priority[2]", "lists 'birthday' twice"),
            ],
        ),
    ],
)
def test_given_bad_policy_when_parsed_then_every_problem_is_named_by_field(raw, expected):
    assert errors(raw) == expected


# ---------------------------------------------------------------- quiet hours


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [("07:59", True), ("08:00", False), ("20:59", False), ("21:00", True), ("00:00", True)],
)
def test_given_window_crossing_midnight_when_checked_then_from_is_quiet_and_to_is_not(wall, quiet):
    window = policy().quiet_hours["email"]
    assert window.contains(time.fromisoformat(wall)) is quiet


@pytest.mark.parametrize(("wall", "quiet"), [("12:59", False), ("13:00", True), ("13:59", True)])
def test_given_window_within_a_day_when_checked_then_only_its_hours_are_quiet(wall, quiet):
    lunch = parse_policy({"quiet_hours": {"email": {"from": "13:00", "to": "14:00"}}}, TYPES)
    assert lunch.quiet_hours["email"].contains(time.fromisoformat(wall)) is quiet


def test_given_send_time_when_checked_against_channels_then_only_quiet_ones_are_named():
    assert quiet_channels(time(8, 30), ["email", "sms"], policy()) == ["sms"]
    assert quiet_channels(time(7, 30), ["email"], None) == []
    assert quiet_channels(time(7, 30), ["sms"], None) == ["sms"]


def test_given_customer_timezone_when_checked_then_local_wall_time_decides():
    instant = datetime(2027, 3, 20, 6, 30, tzinfo=UTC)  # 07:30 in Berlin, 15:30 in Tokyo
    assert is_quiet(instant, "Europe/Berlin", "email", policy())
    assert not is_quiet(instant, "Asia/Tokyo", "email", policy())


def test_given_dst_spring_forward_when_quiet_ends_then_the_local_end_is_found():
    # Berlin jumps 02:00 -> 03:00 on 2027-03-28; quiet 01:00-02:30 ends at 03:00 local (01:00Z).
    window = parse_policy({"quiet_hours": {"email": {"from": "01:00", "to": "02:30"}}}, TYPES)
    now = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # 01:30 CET
    end = quiet_ends(now, "Europe/Berlin", window.quiet_hours["email"])
    assert end.astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_given_dst_fall_back_when_quiet_ends_then_end_is_after_now():
    window = policy().quiet_hours["email"]
    now = datetime(2027, 10, 31, 5, 0, tzinfo=UTC)  # 06:00 CET after the fall-back
    end = quiet_ends(now, "Europe/Berlin", window)
    assert end.astimezone(UTC) == datetime(2027, 10, 31, 7, 0, tzinfo=UTC)


def test_given_late_retry_inside_quiet_hours_when_window_allows_then_held_until_they_end():
    now = datetime(2027, 3, 20, 6, 55, tzinfo=UTC)  # 07:55 Berlin
    closes = datetime(2027, 3, 20, 7, 10, tzinfo=UTC)
    verdict = quiet_verdict(now, "Europe/Berlin", "email", policy(), closes)
    assert verdict.hold_until is not None and not verdict.skip
    assert verdict.hold_until.astimezone(UTC) == datetime(2027, 3, 20, 7, 0, tzinfo=UTC)


def test_given_late_retry_inside_quiet_hours_when_window_too_short_then_skipped():
    now = datetime(2027, 3, 20, 20, 5, tzinfo=UTC)  # 21:05 Berlin, quiet until 08:00
    closes = datetime(2027, 3, 20, 20, 15, tzinfo=UTC)
    verdict = quiet_verdict(now, "Europe/Berlin", "email", policy(), closes)
    assert verdict.skip and verdict.hold_until is None


def test_given_no_policy_when_sms_at_night_then_default_window_applies_and_email_goes():
    now = datetime(2027, 3, 20, 22, 0, tzinfo=UTC)
    closes = datetime(2027, 3, 20, 22, 15, tzinfo=UTC)
    assert quiet_verdict(now, "UTC", "sms", None, closes).skip
    assert not quiet_verdict(now, "UTC", "email", None, closes).skip


# ---------------------------------------------------------------- caps

DAY = date(2027, 3, 20)


def contender(campaign: str, occasion: str) -> Contender:
    return Contender(f"{campaign}#gold#2027-03-20", campaign, occasion)


RESTOCK = contender("coffee-restock", "replenishment")
VIP = contender("bday-vip", "birthday")
BDAY = contender("bday-2027", "birthday")
MISS = contender("we-miss-you", "inactivity")
HOLIDAY = contender("spring", "holiday")


def test_given_lower_priority_due_earlier_when_decided_then_outranked_by_the_later_one():
    verdict = cap_verdict(policy(), RESTOCK, DAY, {}, [RESTOCK, VIP, MISS])
    assert (verdict.reason, verdict.winner) == (OUTRANKED, "bday-vip")


def test_given_same_priority_when_decided_then_campaign_id_breaks_the_tie():
    assert cap_verdict(policy(), BDAY, DAY, {}, [BDAY, VIP]).reserve
    verdict = cap_verdict(policy(), VIP, DAY, {}, [BDAY, VIP])
    assert (verdict.reason, verdict.winner) == (OUTRANKED, "bday-2027")


def test_given_day_slot_taken_when_a_higher_one_arrives_later_then_it_is_outranked_by_the_holder():
    counted = {DAY.isoformat(): [MISS.occurrence_id]}
    survey = contender("nps", "post_purchase_survey")
    verdict = cap_verdict(policy(), survey, DAY, counted, [survey])
    assert (verdict.reason, verdict.winner) == (OUTRANKED, "we-miss-you")


def test_given_already_counted_occurrence_when_redelivered_then_it_goes_again_uncounted():
    counted = {DAY.isoformat(): [VIP.occurrence_id]}
    verdict = cap_verdict(policy(), VIP, DAY, counted, [VIP, BDAY])
    assert verdict.reason is None and not verdict.reserve


def test_given_daily_limit_two_when_three_planned_then_the_two_best_go():
    two = policy(daily_limit=2, frequency_cap=None)
    planned = [RESTOCK, VIP, HOLIDAY]
    assert cap_verdict(two, VIP, DAY, {}, planned).reserve
    assert cap_verdict(two, HOLIDAY, DAY, {}, planned).reserve
    assert cap_verdict(two, RESTOCK, DAY, {}, planned).reason == OUTRANKED


def test_given_rolling_window_when_full_then_frequency_cap_and_when_old_day_leaves_then_free():
    counted = {
        "2027-03-13": ["a#gold#1"],  # outside the 7-day window 03-14 .. 03-20
        "2027-03-15": ["b#gold#1"],
        "2027-03-17": ["c#gold#1"],
        "2027-03-19": ["d#gold#1"],
    }
    assert cap_verdict(policy(), VIP, DAY, counted, [VIP]).reason == FREQUENCY_CAP
    later = contender("x", "birthday")
    assert cap_verdict(policy(), later, date(2027, 3, 22), counted, [later]).reserve


def test_given_service_only_policy_when_no_caps_then_every_message_is_free():
    no_caps = parse_policy({"priority": ["birthday"]}, TYPES)
    assert not no_caps.caps


def test_given_one_slot_left_in_the_cap_when_two_planned_that_day_then_the_better_one_gets_it():
    cap_only = parse_policy(
        {"frequency_cap": {"max_messages": 2, "per_days": 7}, "priority": ["birthday"]}, TYPES
    )
    counted = {"2027-03-18": ["old#gold#1"]}
    planned = [RESTOCK, VIP]
    assert cap_verdict(cap_only, RESTOCK, DAY, counted, planned).reason == FREQUENCY_CAP
    assert cap_verdict(cap_only, VIP, DAY, counted, planned).reserve
