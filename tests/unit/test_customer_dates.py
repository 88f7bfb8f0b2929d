"""Customers' named dates: record validation and CSV ``date_<name>`` columns."""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle.features.importer import csv_records, parse_customer_lines
from lifecycle.rules.records import MAX_DATES, RecordError, parse_customer


def _customer(dates: Any) -> dict[str, Any]:
    return {"customer_id": "c-1", "email": "c-1@example.com", "dates": dates}


def test_given_several_named_dates_when_parsed_then_kept_as_given():
    dates = {
        "signup": "2024-02-29",
        "renewal": "2027-04-10",
        "first_order": "1900-01-01",
        "contract_end_2": "2199-12-31",
        "a" + "b" * 39: "2000-02-29",
    }
    record = parse_customer(_customer(dates))
    assert record.dates == dates
    assert record.unknown_fields == []


def test_given_no_or_empty_dates_when_parsed_then_no_dates():
    assert parse_customer({"customer_id": "c-1"}).dates == {}
    assert parse_customer(_customer(None)).dates == {}
    assert parse_customer(_customer({})).dates == {}


def test_given_exactly_the_maximum_of_dates_when_parsed_then_accepted():
    dates = {f"d{i}": "2020-01-01" for i in range(MAX_DATES)}
    assert MAX_DATES == 20
    assert parse_customer(_customer(dates)).dates == dates


BAD: list[tuple[str, Any, str]] = [
    ("list", ["2024-02-29"], "dates: "),
    ("string", "2024-02-29", "dates: "),
    ("number", 20240229, "dates: "),
    ("too-many", {f"d{i}": "2020-01-01" for i in range(MAX_DATES + 1)}, "dates: "),
    ("name-with-space", {"Sign Up": "2024-02-29"}, "dates.Sign Up: "),
    ("name-upper", {"Signup": "2024-02-29"}, "dates.Signup: "),
    ("name-digit-first", {"1st": "2024-02-29"}, "dates.1st: "),
    ("name-dash", {"sign-up": "2024-02-29"}, "dates.sign-up: "),
    ("name-empty", {"": "2024-02-29"}, "dates.: "),
    ("name-too-long", {"a" * 41: "2024-02-29"}, f"dates.{'a' * 40}: "),
    ("name-trailing-newline", {"signup\n": "2024-02-29"}, "dates.signup"),
    ("feb30", {"renewal": "2027-02-30"}, "dates.renewal: "),
    ("feb29-non-leap", {"renewal": "2027-02-29"}, "dates.renewal: "),
    ("feb29-1900", {"renewal": "1900-02-29"}, "dates.renewal: "),
    ("month-13", {"renewal": "2027-13-01"}, "dates.renewal: "),
    ("unpadded", {"renewal": "2027-2-3"}, "dates.renewal: "),
    ("month-day-only", {"renewal": "--04-10"}, "dates.renewal: "),
    ("slashes", {"renewal": "04/10/2027"}, "dates.renewal: "),
    ("date-time", {"renewal": "2027-04-10T00:00:00Z"}, "dates.renewal: "),
    ("compact", {"renewal": "20270410"}, "dates.renewal: "),
    ("value-number", {"renewal": 20270410}, "dates.renewal: "),
    ("value-null", {"renewal": None}, "dates.renewal: "),
    ("value-object", {"renewal": {"date": "2027-04-10"}}, "dates.renewal: "),
    ("year-1800", {"signup": "1800-03-14"}, "dates.signup: "),
    ("year-1899", {"signup": "1899-12-31"}, "dates.signup: "),
    ("year-2200", {"signup": "2200-01-01"}, "dates.signup: "),
    ("second-one-bad", {"signup": "2020-01-01", "renewal": "2027-02-30"}, "dates.renewal: "),
]


@pytest.mark.parametrize(
    ("dates", "prefix"), [(d, p) for _, d, p in BAD], ids=[i for i, _, _ in BAD]
)
def test_given_bad_dates_when_parsed_then_rejected_naming_the_date(dates, prefix):
    with pytest.raises(RecordError) as caught:
        parse_customer(_customer(dates))
    assert caught.value.reason.startswith(prefix), caught.value.reason
    assert caught.value.record_id == "c-1"


def test_given_bad_date_when_rejected_then_reason_says_what_is_wrong():
    def reason(dates: Any) -> str:
        with pytest.raises(RecordError) as caught:
            parse_customer(_customer(dates))
        return caught.value.reason

    assert "2027-02-30" in reason({"renewal": "2027-02-30"})
    assert "YYYY-MM-DD" in reason({"renewal": "2027-2-3"})
    assert "1800" in reason({"signup": "1800-03-14"})
    assert str(MAX_DATES) in reason({f"d{i}": "2020-01-01" for i in range(MAX_DATES + 1)})


# ---------------------------------------------------------------- CSV
CSV = (
    "customer_id,email,consent_email,date_signup,date_renewal,attr_tier\n"
    "c-1,c1@example.com,true,2024-02-29,2027-04-10,gold\n"
    "c-2,c2@example.com,true,2020-01-03,,\n"
    "c-3,c3@example.com,true,,,\n"
    "c-4,c4@example.com,true,2020-01-03,2027-02-30,\n"
    "c-5,c5@example.com,true, 2021-06-01 ,2027-2-3,\n"
)


def test_given_csv_date_columns_when_read_then_named_dates_without_empty_cells():
    rows = dict(csv_records(CSV))
    assert rows[2] == {
        "customer_id": "c-1",
        "email": "c1@example.com",
        "consent": {"email": True},
        "attributes": {"tier": "gold"},
        "dates": {"signup": "2024-02-29", "renewal": "2027-04-10"},
    }
    assert rows[3] == {
        "customer_id": "c-2",
        "email": "c2@example.com",
        "consent": {"email": True},
        "dates": {"signup": "2020-01-03"},
    }
    assert isinstance(rows[4], dict) and "dates" not in rows[4]


def test_given_csv_date_columns_when_validated_then_good_rows_kept_and_bad_dates_rejected():
    records, result = parse_customer_lines([], "customers.csv", csv_text=CSV)
    by_id = {record.customer_id: record for _, record in records}
    assert sorted(by_id) == ["c-1", "c-2", "c-3"]
    assert by_id["c-1"].dates == {"signup": "2024-02-29", "renewal": "2027-04-10"}
    assert by_id["c-2"].dates == {"signup": "2020-01-03"}
    assert by_id["c-3"].dates == {}
    assert [(r.line, r.id, r.reason.split(":")[0]) for r in result.rejected] == [
        (5, "c-4", "dates.renewal"),
        (6, "c-5", "dates.renewal"),  # the cell is trimmed; "2027-2-3" is not YYYY-MM-DD
    ]
    assert result.warnings == []


def test_given_csv_date_column_with_bad_name_when_validated_then_rejected_naming_it():
    text = "customer_id,date_Sign Up,date_\nc-1,2020-01-01,\nc-2,,2020-01-01\nc-3,,\n"
    records, result = parse_customer_lines([], "customers.csv", csv_text=text)
    assert [record.customer_id for _, record in records] == ["c-3"]
    assert [(r.id, r.reason.split(":")[0]) for r in result.rejected] == [
        ("c-1", "dates.Sign Up"),
        ("c-2", "dates."),
    ]


def test_given_jsonl_with_dates_when_validated_then_same_rules_as_csv():
    lines = [
        '{"customer_id": "j-1", "dates": {"signup": "2024-02-29"}}',
        '{"customer_id": "j-2", "dates": {"signup": "2024-02-30"}}',
        '{"customer_id": "j-3", "dates": "2024-02-29"}',
    ]
    records, result = parse_customer_lines(lines, "customers.jsonl")
    assert [(r.customer_id, r.dates) for _, r in records] == [("j-1", {"signup": "2024-02-29"})]
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "dates.signup"),
        (3, "dates"),
    ]
