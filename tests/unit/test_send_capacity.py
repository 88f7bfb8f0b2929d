"""Plan-time capacity: the dispatcher's pacing replayed over planned deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.pipeline.dispatcher import over_capacity, share_capacity

T = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("available", "capacity", "expected"),
    [
        ([], 10, []),
        ([0, 0], 10, [0, 0]),
        ([5, 5, 5, 5], 100, [5, 5, 5, 5]),  # everything fits
        ([100, 100, 100, 100], 40, [10, 10, 10, 10]),  # a fair part each
        ([0, 0, 500, 0], 120, [0, 0, 120, 0]),  # a burst in one shard gets it all
        ([3, 200, 1, 50], 100, [3, 48, 1, 48]),  # short shards leave the rest to others
        ([7, 7, 7], 10, [4, 3, 3]),
    ],
)
def test_given_found_ids_when_capacity_shared_then_fair_and_complete(available, capacity, expected):
    taken = share_capacity(available, capacity)
    assert taken == expected
    assert sum(taken) == min(capacity, sum(available))
    assert all(0 <= t <= a for t, a in zip(taken, available, strict=True))


@pytest.mark.parametrize(
    ("rate", "late"),
    [
        (1, 99),  # 300 a firing: 09:00, :05, :10 carry 900, :15 one on time, 99 late
        (2, 0),  # 600 a firing: two firings, the last message 8 min 19 s after 09:00
        (14, 0),
    ],
)
def test_given_a_burst_at_one_instant_when_checked_then_late_ones_counted(rate, late):
    checked = over_capacity({T: 1000}, rate=rate, interval_seconds=300, window=WINDOW)
    assert checked.over_capacity == late
    assert (checked.planned, checked.busiest_due, checked.per_firing) == (1000, 1000, rate * 300)
    assert checked.busiest_interval == "2027-03-14T09:00:00Z"
    assert checked.first_late == ("2027-03-14T09:00:00Z" if late else None)


def test_given_due_spread_over_the_day_when_checked_then_nothing_late():
    # 24 hourly bursts of 4,000 at 14/s (4,200 a firing): each drains in one firing
    due = {T + timedelta(hours=h): 4000 for h in range(24)}
    checked = over_capacity(due, rate=14, interval_seconds=300, window=WINDOW)
    assert (checked.over_capacity, checked.planned, checked.busiest_due) == (0, 96_000, 4000)


def test_given_backlog_when_a_later_burst_comes_then_older_go_first():
    # 700 at 09:00 and 500 at 09:07 at 1/s: firings 09:00 (300), 09:05 (300), 09:10
    # (100 old + 200 new), 09:15 (300 new: waited 8 min, slots to 7 min on time)
    due = [(T, 700), (T + timedelta(minutes=7), 500)]
    checked = over_capacity(due, rate=1, interval_seconds=300, window=WINDOW)
    assert checked.over_capacity == 0
    heavier = over_capacity(
        [(T, 700), (T + timedelta(minutes=7), 600)], rate=1, interval_seconds=300, window=WINDOW
    )
    # 09:15 carries 300 of the 400 left (waited 8 min: slots 0-419 on time), 09:20 the last
    # 100 (waited 13 min: slots 0-120 on time)
    assert heavier.over_capacity == 0
    assert over_capacity(
        [(T, 700), (T + timedelta(minutes=7), 900)], rate=1, interval_seconds=300, window=WINDOW
    ).over_capacity == (700 + 900) - (300 * 4 + 121)


def test_given_off_grid_instants_when_checked_then_the_wait_for_the_firing_counts():
    # Due at 09:04:30, first firing 09:05: 30 s already waited
    checked = over_capacity(
        {T + timedelta(minutes=4, seconds=30): 100},
        rate=1,
        interval_seconds=60,
        window=timedelta(minutes=1),
    )
    # firing 09:05 takes 60 (slots 0-30 on time: 31), 09:06 takes 40 (waited 90 s: none)
    assert checked.over_capacity == 100 - 31
    assert checked.busiest_interval == "2027-03-14T09:05:00Z"


def test_given_nothing_planned_when_checked_then_empty_figures():
    checked = over_capacity({}, rate=14, interval_seconds=300, window=WINDOW)
    assert checked.as_dict() == {
        "send_rate": 14,
        "dispatch_interval_seconds": 300,
        "per_dispatch_interval": 4200,
        "planned": 0,
        "busiest_interval": None,
        "busiest_interval_due": 0,
        "over_capacity": 0,
        "first_over_capacity": None,
    }
