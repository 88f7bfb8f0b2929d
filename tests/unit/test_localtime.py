"""Local send time -> UTC across DST and extreme offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lifecycle.core.localtime import local_send_instant, parse_hhmm, to_utc


@pytest.mark.parametrize(
    ("day", "hhmm", "zone", "utc"),
    [
        (date(2027, 3, 14), "09:00", "America/New_York", datetime(2027, 3, 14, 13, 0, tzinfo=UTC)),
        (date(2027, 3, 13), "09:00", "America/New_York", datetime(2027, 3, 13, 14, 0, tzinfo=UTC)),
        (date(2027, 11, 7), "09:00", "America/New_York", datetime(2027, 11, 7, 14, 0, tzinfo=UTC)),
        (date(2027, 3, 28), "09:00", "Europe/Berlin", datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),
        (date(2027, 3, 27), "09:00", "Europe/Berlin", datetime(2027, 3, 27, 8, 0, tzinfo=UTC)),
        (date(2027, 3, 1), "09:00", "Pacific/Kiritimati", datetime(2027, 2, 28, 19, 0, tzinfo=UTC)),
        (date(2027, 3, 1), "09:00", "Pacific/Pago_Pago", datetime(2027, 3, 1, 20, 0, tzinfo=UTC)),
        (date(2027, 3, 1), "09:00", "Asia/Kathmandu", datetime(2027, 3, 1, 3, 15, tzinfo=UTC)),
        (date(2027, 3, 1), "09:00", "Asia/Kolkata", datetime(2027, 3, 1, 3, 30, tzinfo=UTC)),
        (date(2027, 4, 4), "09:00", "Australia/Sydney", datetime(2027, 4, 3, 23, 0, tzinfo=UTC)),
    ],
)
def test_given_local_send_time_when_converted_then_utc_is_dst_correct(day, hhmm, zone, utc):
    assert to_utc(local_send_instant(day, parse_hhmm(hhmm), zone)) == utc


def test_given_time_skipped_by_dst_when_converted_then_moved_forward_by_the_jump():
    local = local_send_instant(date(2027, 3, 14), parse_hhmm("02:30"), "America/New_York")
    assert local.isoformat() == "2027-03-14T03:30:00-04:00"


def test_given_ambiguous_time_when_converted_then_first_occurrence():
    local = local_send_instant(date(2027, 11, 7), parse_hhmm("01:30"), "America/New_York")
    assert local.isoformat() == "2027-11-07T01:30:00-04:00"


@pytest.mark.parametrize("bad", ["9:00", "24:00", "09:60", "0900", "ab:cd", ""])
def test_given_bad_time_when_parsed_then_error(bad):
    with pytest.raises(ValueError):
        parse_hhmm(bad)
