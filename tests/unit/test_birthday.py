"""Birthday occasion: Feb 29 rule, --MM-DD birthdays, index keys."""

from __future__ import annotations

from datetime import date

import pytest

from lifecycle.occasions import birthday


@pytest.mark.parametrize(
    ("year", "rule", "expected"),
    [
        (2027, "feb28", date(2027, 2, 28)),
        (2027, "mar1", date(2027, 3, 1)),
        (2028, "feb28", date(2028, 2, 29)),
        (2028, "mar1", date(2028, 2, 29)),
        (2100, "feb28", date(2100, 2, 28)),  # not a leap year (century rule)
        (2000, "mar1", date(2000, 2, 29)),  # leap (divisible by 400)
    ],
)
def test_given_feb29_birthday_when_year_varies_then_rule_picks_the_day(year, rule, expected):
    assert birthday.celebration_date("02-29", year, rule) == expected


def test_given_non_leap_year_when_planning_feb28_then_leap_day_key_is_queried_for_feb28_rule():
    assert birthday.month_days_for(date(2027, 2, 28), "feb28") == ["02-28", "02-29"]
    assert birthday.month_days_for(date(2027, 2, 28), "mar1") == ["02-28"]
    assert birthday.month_days_for(date(2027, 3, 1), "mar1") == ["03-01", "02-29"]
    assert birthday.month_days_for(date(2027, 3, 1), "feb28") == ["03-01"]


def test_given_leap_year_when_planning_feb29_then_only_its_own_key():
    assert birthday.month_days_for(date(2028, 2, 29), "feb28") == ["02-29"]
    assert birthday.month_days_for(date(2028, 2, 28), "feb28") == ["02-28"]
    assert birthday.month_days_for(date(2028, 3, 1), "mar1") == ["03-01"]


def test_given_full_birthday_when_celebrated_then_age_in_context():
    occurrence = birthday.occurrence("1990-03-14", date(2027, 3, 14), "feb28")
    assert occurrence is not None
    assert occurrence.key == "2027"
    assert occurrence.context == {"type": "birthday", "date": "2027-03-14", "age": 37}


def test_given_year_unknown_birthday_when_celebrated_then_age_is_none():
    occurrence = birthday.occurrence("--02-29", date(2027, 3, 1), "mar1")
    assert occurrence is not None
    assert occurrence.context["age"] is None
    assert birthday.occurrence("--02-29", date(2027, 2, 28), "mar1") is None


def test_given_feb28_birthday_when_feb29_rule_applies_then_both_celebrate_feb28():
    assert birthday.occurrence("1990-02-28", date(2027, 2, 28), "feb28") is not None
    assert birthday.occurrence("1992-02-29", date(2027, 2, 28), "feb28") is not None
    assert birthday.occurrence("1992-02-29", date(2028, 2, 28), "feb28") is None
    assert birthday.occurrence("1992-02-29", date(2028, 2, 29), "feb28") is not None


def test_given_birth_after_date_when_planning_then_no_occurrence():
    assert birthday.occurrence("2030-05-01", date(2027, 5, 1), "feb28") is None
