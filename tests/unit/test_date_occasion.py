"""Date occasion ("date property" trigger): occurrences, index keys, checks and validation."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from lifecycle.campaigns.model import CampaignError, parse_campaign
from lifecycle.core.settings import Settings
from lifecycle.occasions import date as date_occasion
from lifecycle.occasions.base import PROCEED, LinkSigner, Pending
from lifecycle.occasions.date import DateOccasion, occurrence
from lifecycle.occasions.registry import occasion_for

NOW = datetime(2027, 4, 3, 9, 0, tzinfo=UTC)


def _spec(**fields: Any) -> DateOccasion:
    return DateOccasion.model_validate({"type": "date", "date": "signup", **fields})


def _once(**fields: Any) -> DateOccasion:
    return _spec(date="renewal", repeat="once", **fields)


def _on(spec: DateOccasion, value: str, local: str) -> dict[str, Any] | None:
    """The occurrence's context (with its key) of date ``value`` on local date ``local``."""
    found = occurrence(spec, date.fromisoformat(value), date.fromisoformat(local))
    if found is None:
        return None
    assert found.local_date == date.fromisoformat(local)
    return {"key": found.key, **found.context}


# ---------------------------------------------------------------- yearly
def test_given_yearly_date_when_first_anniversary_then_one_year_marked():
    assert _on(_spec(), "2020-04-10", "2021-04-10") == {
        "key": "signup:2021",
        "type": "date",
        "name": "signup",
        "date": "2020-04-10",
        "on": "2021-04-10",
        "years": 1,
    }


@pytest.mark.parametrize(
    ("local", "years"),
    [("2027-04-10", 7), ("2030-04-10", 10), ("2120-04-10", 100)],
)
def test_given_yearly_date_when_later_anniversaries_then_whole_years_counted(local, years):
    found = _on(_spec(), "2020-04-10", local)
    assert found is not None
    assert (found["key"], found["on"], found["years"]) == (f"signup:{local[:4]}", local, years)


@pytest.mark.parametrize(
    "local",
    [
        "2020-04-10",  # the date itself: never in its own year
        "2019-04-10",  # before the date
        "2027-04-09",
        "2027-04-11",
        "2027-10-04",  # month and day swapped
    ],
)
def test_given_yearly_date_when_not_an_anniversary_then_nothing(local):
    assert _on(_spec(), "2020-04-10", local) is None


def test_given_date_in_the_future_when_its_day_comes_up_earlier_then_nothing():
    assert _on(_spec(), "2030-04-10", "2027-04-10") is None


def test_given_positive_offset_when_yearly_then_sent_after_and_marks_the_anniversary():
    spec = _spec(offset_days=7)
    assert _on(spec, "2020-04-10", "2027-04-17") == {
        "key": "signup:2027",
        "type": "date",
        "name": "signup",
        "date": "2020-04-10",
        "on": "2027-04-10",
        "years": 7,
    }
    assert _on(spec, "2020-04-10", "2027-04-10") is None
    assert _on(spec, "2020-04-10", "2020-04-17") is None  # the year of the date itself


def test_given_negative_offset_across_new_year_when_yearly_then_sent_in_december_before():
    spec = _spec(offset_days=-7)
    assert _on(spec, "2020-01-03", "2020-12-27") == {
        "key": "signup:2021",
        "type": "date",
        "name": "signup",
        "date": "2020-01-03",
        "on": "2021-01-03",
        "years": 1,
    }
    assert _on(spec, "2020-01-03", "2026-12-27") == {
        "key": "signup:2027",
        "type": "date",
        "name": "signup",
        "date": "2020-01-03",
        "on": "2027-01-03",
        "years": 7,
    }
    assert _on(spec, "2020-01-03", "2019-12-27") is None  # would mark the date itself
    assert _on(spec, "2020-01-03", "2021-01-03") is None  # the anniversary day, not 7 before


def test_given_positive_offset_across_new_year_when_yearly_then_sent_in_january_after():
    spec = _spec(offset_days=7)
    assert _on(spec, "2020-12-28", "2021-01-04") is None  # marks 2020-12-28 itself
    found = _on(spec, "2020-12-28", "2022-01-04")
    assert found is not None
    assert (found["key"], found["on"], found["years"]) == ("signup:2021", "2021-12-28", 1)


@pytest.mark.parametrize(
    ("rule", "local", "on", "years"),
    [
        ("feb28", "2025-02-28", "2025-02-28", 1),
        ("mar1", "2025-03-01", "2025-03-01", 1),
        ("feb28", "2028-02-29", "2028-02-29", 4),
        ("mar1", "2028-02-29", "2028-02-29", 4),
        ("feb28", "2100-02-28", "2100-02-28", 76),  # 2100 is not a leap year
        ("mar1", "2100-03-01", "2100-03-01", 76),
    ],
)
def test_given_feb29_date_when_rule_applies_then_marked_once_a_year(rule, local, on, years):
    found = _on(_spec(feb29=rule), "2024-02-29", local)
    assert found is not None
    assert (found["key"], found["on"], found["years"]) == (f"signup:{local[:4]}", on, years)


@pytest.mark.parametrize(
    ("rule", "local"),
    [
        ("feb28", "2025-03-01"),
        ("mar1", "2025-02-28"),
        ("feb28", "2028-02-28"),  # leap year: Feb 29 itself
        ("mar1", "2028-03-01"),
        ("feb28", "2024-02-29"),  # the year of the date itself
        ("mar1", "2024-03-01"),
    ],
)
def test_given_feb29_date_when_other_days_then_nothing(rule, local):
    assert _on(_spec(feb29=rule), "2024-02-29", local) is None


def test_given_feb29_date_and_offset_when_non_leap_year_then_offset_from_the_rule_day():
    before = _on(_spec(feb29="feb28", offset_days=-1), "2024-02-29", "2025-02-27")
    assert before is not None and before["on"] == "2025-02-28"
    after = _on(_spec(feb29="mar1", offset_days=1), "2024-02-29", "2025-03-02")
    assert after is not None and after["on"] == "2025-03-01"
    leap = _on(_spec(feb29="mar1", offset_days=1), "2024-02-29", "2028-03-01")
    assert leap is not None and leap["on"] == "2028-02-29"


def test_given_feb28_date_when_feb28_rule_then_not_confused_with_leap_day():
    found = _on(_spec(feb29="feb28"), "2023-02-28", "2025-02-28")
    assert found is not None and found["on"] == "2025-02-28"
    assert _on(_spec(feb29="feb28"), "2023-02-28", "2028-02-29") is None


# ---------------------------------------------------------------- once
def test_given_once_date_when_on_the_day_then_one_occurrence_without_years():
    assert _on(_once(), "2027-04-10", "2027-04-10") == {
        "key": "renewal:2027-04-10",
        "type": "date",
        "name": "renewal",
        "date": "2027-04-10",
        "on": "2027-04-10",
    }


def test_given_once_with_negative_offset_when_a_week_before_then_marks_the_date():
    assert _on(_once(offset_days=-7), "2027-04-10", "2027-04-03") == {
        "key": "renewal:2027-04-10",
        "type": "date",
        "name": "renewal",
        "date": "2027-04-10",
        "on": "2027-04-10",
    }


def test_given_once_with_offsets_across_new_year_when_shifted_then_exact_day_only():
    back = _on(_once(offset_days=-7), "2028-01-03", "2027-12-27")
    assert back is not None and (back["key"], back["on"]) == ("renewal:2028-01-03", "2028-01-03")
    ahead = _on(_once(offset_days=5), "2027-12-30", "2028-01-04")
    assert ahead is not None and ahead["on"] == "2027-12-30"


@pytest.mark.parametrize(
    "local",
    [
        "2027-04-10",  # the date itself, but the offset is -7
        "2027-04-02",
        "2027-04-04",
        "2028-04-03",  # a year later: once is not yearly
        "2026-04-03",
    ],
)
def test_given_once_with_offset_when_other_days_then_nothing(local):
    assert _on(_once(offset_days=-7), "2027-04-10", local) is None


def test_given_once_feb29_date_when_non_leap_years_then_never_moved():
    assert _on(_once(feb29="mar1"), "2028-02-29", "2028-02-29") is not None
    assert _on(_once(feb29="mar1"), "2028-02-29", "2029-03-01") is None
    assert _on(_once(), "2028-02-29", "2029-02-28") is None


# ---------------------------------------------------------------- candidates
class _Reader:
    """Records the index keys read and returns the customers stored under each."""

    def __init__(self, by_key: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.by_key = by_key or {}
        self.keys: list[tuple[str, str]] = []

    def __call__(self, index: str, key: str) -> list[dict[str, Any]]:
        self.keys.append((index, key))
        return self.by_key.get(key, [])


def _candidates(spec: DateOccasion, day: str, reader: _Reader) -> list[tuple[str, str]]:
    occasion = occasion_for(spec)
    found = occasion.candidates(spec, date.fromisoformat(day), "", reader)
    return [(customer["customer_id"], o.key) for customer, o in found]


@pytest.mark.parametrize(
    ("spec", "day", "keys"),
    [
        (_spec(), "2027-04-10", ["signup|04-10|before|2027-01-01"]),
        (_spec(offset_days=-7), "2026-12-27", ["signup|01-03|before|2027-01-01"]),
        (_spec(offset_days=7), "2027-01-04", ["signup|12-28|before|2026-01-01"]),
        (
            _spec(feb29="feb28"),
            "2027-02-28",
            ["signup|02-28|before|2027-01-01", "signup|02-29|before|2027-01-01"],
        ),
        (_spec(feb29="mar1"), "2027-02-28", ["signup|02-28|before|2027-01-01"]),
        (
            _spec(feb29="mar1"),
            "2027-03-01",
            ["signup|03-01|before|2027-01-01", "signup|02-29|before|2027-01-01"],
        ),
        (_spec(feb29="feb28"), "2028-02-28", ["signup|02-28|before|2028-01-01"]),
        (_once(offset_days=-7), "2027-04-03", ["renewal|04-10|on|2027-04-10"]),
        (_once(offset_days=-7), "2027-12-27", ["renewal|01-03|on|2028-01-03"]),
    ],
)
def test_given_day_when_candidates_read_then_one_index_key_per_month_day(spec, day, keys):
    reader = _Reader()
    assert _candidates(spec, day, reader) == []
    assert reader.keys == [("by-anniversary", key) for key in keys]


def test_given_index_customers_when_their_date_no_longer_matches_then_not_candidates():
    key = "signup|04-10|before|2027-01-01"
    reader = _Reader(
        {
            key: [
                {"customer_id": "ok", "dates": {"signup": "2020-04-10"}},
                {"customer_id": "moved", "dates": {"signup": "2020-04-11"}},  # index is stale
                {"customer_id": "gone", "dates": {}},
                {"customer_id": "none", "dates": None},
                {"customer_id": "garbage", "dates": {"signup": "2020-13-45"}},
                {"customer_id": "this-year", "dates": {"signup": "2027-04-10"}},
            ]
        }
    )
    assert _candidates(_spec(), "2027-04-10", reader) == [("ok", "signup:2027")]


# ---------------------------------------------------------------- send-time check, why-not
def _pending(context: dict[str, Any]) -> Pending:
    return Pending(
        delivery_id="d#c-1#signup:2027#email",
        customer_id="c-1",
        context=context,
        occurrence_id="d#c-1#signup:2027",
    )


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"signup": "2020-04-10"}, None),
        ({"signup": "2020-04-10", "renewal": "2030-01-01"}, None),
        ({"signup": "2021-04-10"}, "date_changed"),  # same day, other year: years differ
        ({"signup": "2020-04-11"}, "date_changed"),
        ({}, "date_changed"),
        ({"renewal": "2020-04-10"}, "date_changed"),
    ],
)
def test_given_planned_date_when_checked_at_send_time_then_skip_if_changed(dates, expected):
    spec = _spec()
    context = {"type": "date", "name": "signup", "date": "2020-04-10", "on": "2027-04-10"}
    settings = Settings.model_validate(
        {"CUSTOMERS_TABLE": "c", "CAMPAIGNS_TABLE": "k", "DELIVERIES_TABLE": "d"}
    )
    signer = LinkSigner(b"key", settings)
    checked = occasion_for(spec).check(
        spec, _pending(context), {"customer_id": "c-1", "dates": dates}, NOW, signer
    )
    assert checked.reason == expected
    if expected is None:
        assert checked == PROCEED


def test_given_customer_without_the_date_when_explained_then_no_date_with_its_name():
    occasion = occasion_for(_spec())
    assert occasion.explain(_spec(), {"customer_id": "c", "dates": {}}) == ["no_date:signup"]
    assert occasion.explain(_once(), {"customer_id": "c", "dates": {"signup": "2020-01-01"}}) == [
        "no_date:renewal"
    ]
    assert occasion.explain(_spec(), {"customer_id": "c", "dates": {"signup": "2020-01-01"}}) == []


def test_given_date_occasion_when_sampled_then_years_only_for_yearly():
    yearly = occasion_for(_spec()).sample(_spec()).occasion
    once = occasion_for(_once()).sample(_once()).occasion
    assert {"date", "on", "years"} <= set(yearly)
    assert {"date", "on"} <= set(once) and "years" not in once
    assert date_occasion.OCCASION.type == "date"


# ---------------------------------------------------------------- campaign validation
CAMPAIGN: dict[str, Any] = {
    "campaign_id": "signup-anniversary",
    "name": "Signup anniversary",
    "status": "active",
    "occasion": {"type": "date", "date": "signup"},
    "channels": ["email"],
    "send_at_local": "09:00",
    "default_timezone": "UTC",
    "content": {
        "email": {
            "en": {
                "subject": "{{ occasion.years }} years with us, {{ first_name }}!",
                "text": "Since {{ occasion.date }}, celebrated on {{ occasion.on }}.",
            }
        }
    },
}


def _campaign(occasion: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(CAMPAIGN)
    doc["occasion"] = occasion
    if text is not None:
        doc["content"]["email"]["en"] = {"subject": "Hi", "text": text}
    return doc


@pytest.mark.parametrize(
    ("occasion", "expected"),
    [
        (
            {"type": "date", "date": "signup"},
            DateOccasion(type="date", date="signup", repeat="yearly", offset_days=0, feb29="feb28"),
        ),
        (
            {"type": "date", "date": "signup", "repeat": "yearly", "feb29": "mar1"},
            DateOccasion(type="date", date="signup", feb29="mar1"),
        ),
        (
            {"type": "date", "date": "renewal", "repeat": "once", "offset_days": -7},
            DateOccasion(type="date", date="renewal", repeat="once", offset_days=-7),
        ),
        (
            {"type": "date", "date": "s", "offset_days": 365},
            DateOccasion(type="date", date="s", offset_days=365),
        ),
        (
            {"type": "date", "date": "a" + "b" * 39, "offset_days": -365},
            DateOccasion(type="date", date="a" + "b" * 39, offset_days=-365),
        ),
        (
            {"type": "date", "date": "contract_end_2"},
            DateOccasion(type="date", date="contract_end_2"),
        ),
    ],
)
def test_given_good_date_occasion_when_parsed_then_accepted_with_defaults(occasion, expected):
    text = "On {{ occasion.on }}" if occasion.get("repeat") == "once" else None
    assert parse_campaign(_campaign(occasion, text)).occasion == expected


BAD_OCCASIONS: list[tuple[str, dict[str, Any], str]] = [
    ("name-with-space", {"type": "date", "date": "Sign Up"}, "occasion.date"),
    ("name-upper", {"type": "date", "date": "Signup"}, "occasion.date"),
    ("name-digit-first", {"type": "date", "date": "1signup"}, "occasion.date"),
    ("name-empty", {"type": "date", "date": ""}, "occasion.date"),
    ("name-too-long", {"type": "date", "date": "a" * 41}, "occasion.date"),
    ("name-missing", {"type": "date"}, "occasion.date"),
    ("repeat-monthly", {"type": "date", "date": "signup", "repeat": "monthly"}, "occasion.repeat"),
    ("offset-366", {"type": "date", "date": "signup", "offset_days": 366}, "occasion.offset_days"),
    (
        "offset-minus-366",
        {"type": "date", "date": "signup", "offset_days": -366},
        "occasion.offset_days",
    ),
    (
        "offset-string",
        {"type": "date", "date": "signup", "offset_days": "7"},
        "occasion.offset_days",
    ),
    (
        "offset-fraction",
        {"type": "date", "date": "signup", "offset_days": 1.5},
        "occasion.offset_days",
    ),
    ("feb29-bad", {"type": "date", "date": "signup", "feb29": "mar2"}, "occasion.feb29"),
    ("unknown-field", {"type": "date", "date": "signup", "every": "year"}, "occasion.every"),
]


@pytest.mark.parametrize(
    ("occasion", "field"),
    [(o, f) for _, o, f in BAD_OCCASIONS],
    ids=[i for i, _, _ in BAD_OCCASIONS],
)
def test_given_bad_date_occasion_when_parsed_then_error_names_the_field(occasion, field):
    with pytest.raises(CampaignError) as caught:
        parse_campaign(_campaign(occasion, "Hello"))
    assert [e.field for e in caught.value.errors] == [field], caught.value.errors


@pytest.mark.parametrize(
    ("occasion", "text"),
    [
        ({"type": "date", "date": "signup"}, "{{ occasion.years }} years on {{ occasion.on }}"),
        ({"type": "date", "date": "signup"}, "since {{ occasion.date }} ({{ occasion.name }})"),
        (
            {"type": "date", "date": "signup", "offset_days": 3},
            "{% if occasion.years >= 5 %}Loyal!{% endif %} {{ occasion.years + 1 }}",
        ),
        ({"type": "date", "date": "renewal", "repeat": "once"}, "renews {{ occasion.on }}"),
    ],
)
def test_given_date_campaign_when_template_uses_occasion_variables_then_saved(occasion, text):
    parse_campaign(_campaign(occasion, text))


def test_given_once_campaign_when_template_uses_years_then_rejected_at_save_time():
    doc = _campaign({"type": "date", "date": "renewal", "repeat": "once"}, "{{ occasion.years }}")
    with pytest.raises(CampaignError) as caught:
        parse_campaign(doc)
    assert [e.field for e in caught.value.errors] == ["content.email.en.text"]


def test_given_date_campaign_when_template_uses_other_occasions_variables_then_rejected():
    doc = _campaign({"type": "date", "date": "signup"}, "{{ holiday.name }}")
    with pytest.raises(CampaignError) as caught:
        parse_campaign(doc)
    assert [e.field for e in caught.value.errors] == ["content.email.en.text"]


def test_given_date_campaign_when_saved_then_document_round_trips():
    campaign = parse_campaign(
        _campaign({"type": "date", "date": "renewal", "repeat": "once", "offset_days": -7}, "x")
    )
    assert campaign.document()["occasion"] == {
        "type": "date",
        "date": "renewal",
        "repeat": "once",
        "offset_days": -7,
        "feb29": "feb28",
    }
    assert parse_campaign(campaign.document()).occasion == campaign.occasion
