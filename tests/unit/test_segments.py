"""RFM on a known order set, named segments, computed audience fields."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from lifecycle.rules.audience import evaluate
from lifecycle.rules.nps import nps_group
from lifecycle.rules.orders import Order
from lifecycle.rules.segments import (
    audience_view,
    quintile_scores,
    rfm_scores,
    same_rfm,
    segment_for,
    summarize,
)

NOW = datetime(2027, 3, 1, tzinfo=UTC)


def _order(cid: str, day: str, total: float, status: str = "delivered") -> Order:
    return Order(f"{cid}-{day}", cid, status, f"{day}T10:00:00Z", None, [], total=total)


# Five customers with distinct recency, frequency and spend, plus noise that must not count.
ORDERS = [
    *[_order("champ", f"2027-02-{d:02d}", 100) for d in (20, 22, 24, 26, 28)],  # 5 orders, 500
    *[_order("loyal", f"2026-{m:02d}-15", 50) for m in (6, 7, 8, 9)],  # 4 orders, 200, old
    _order("new", "2027-02-27", 30),  # 1 order, very recent
    *[_order("risk", f"2026-0{m}-01", 40) for m in (4, 5, 6)],  # 3 orders, old
    _order("sleepy", "2026-04-01", 10),  # 1 old order
    _order("sleepy", "2027-02-25", 999, status="cancelled"),  # cancelled: ignored
    _order("gone", "2025-12-01", 500),  # outside 365 days
]


def test_given_known_orders_when_scored_then_quintiles_and_segments():
    summary = summarize(ORDERS, NOW)
    assert set(summary) == {"champ", "loyal", "new", "risk", "sleepy"}
    assert (summary["champ"].orders_count, summary["champ"].total_spent) == (5, 500.0)
    assert summary["sleepy"].orders_count == 1
    scores = rfm_scores(summary, NOW)
    got = {c: (s["r"], s["f"], s["m"], s["segment"]) for c, s in scores.items()}
    assert got == {
        "champ": (5, 5, 5, "champions"),
        "new": (4, 1, 2, "new"),
        "loyal": (3, 4, 4, "loyal"),
        "risk": (2, 3, 3, "at_risk"),
        "sleepy": (1, 1, 1, "hibernating"),
    }


@pytest.mark.parametrize(
    ("r", "f", "m", "count", "segment"),
    [
        (4, 4, 4, 6, "champions"),
        (5, 1, 1, 1, "new"),
        (3, 5, 1, 9, "loyal"),
        (1, 3, 5, 3, "at_risk"),
        (2, 2, 2, 2, "hibernating"),
        (3, 3, 3, 3, "needs_attention"),
        (4, 1, 5, 2, "needs_attention"),
    ],
)
def test_given_scores_when_segmented_then_first_matching_rule(r, f, m, count, segment):
    assert segment_for(r, f, m, count) == segment


def test_given_stored_rfm_when_audience_evaluated_then_computed_fields_usable():
    summary = summarize(ORDERS, NOW)
    customer = {
        "customer_id": "champ",
        "rfm": rfm_scores(summary, NOW)["champ"],
        "nps_group": nps_group(9),
    }
    view = audience_view(customer, NOW)
    # Last order Feb 28 10:00, now Mar 1 00:00: 14 hours, 0 whole days.
    assert (view["days_since_last_order"], view["orders_count"], view["total_spent"]) == (
        0,
        5,
        500.0,
    )
    assert evaluate(
        {
            "all": [
                {"attr": "rfm_segment", "eq": "champions"},
                {"attr": "nps_group", "eq": "promoter"},
                {"attr": "total_spent", "gte": 100},
            ]
        },
        view,
    )
    # Scores are written only when they change, so their age says nothing; a last order
    # that left the 365-day window does: no recent orders.
    later = audience_view(customer, datetime(2027, 3, 20, tzinfo=UTC))
    assert later["orders_count"] == 5 and later["rfm_segment"] == "champions"
    stale = audience_view(customer, datetime(2028, 3, 1, tzinfo=UTC))
    assert stale["orders_count"] == 0 and "rfm_segment" not in stale
    assert not evaluate({"attr": "days_since_last_order", "lte": 30}, audience_view({}, NOW))


@pytest.mark.parametrize(
    ("score", "group"),
    [
        (10, "promoter"),
        (9, "promoter"),
        (8, "passive"),
        (7, "passive"),
        (6, "detractor"),
        (0, "detractor"),
    ],
)
def test_given_nps_score_when_grouped_then_standard_groups(score, group):
    assert nps_group(score) == group


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], []),
        ([7.0], [1]),
        ([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 3, 4, 5]),
        ([5.0, 1.0, 5.0, 5.0, 2.0], [3, 1, 3, 3, 2]),  # ties share the lower rank
        ([3.0] * 10, [1] * 10),
        ([float(v) for v in range(10)], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
    ],
)
def test_given_values_when_ranked_then_quintile_of_first_equal_position(values, expected):
    assert quintile_scores(values) == expected


def test_given_random_values_when_ranked_then_same_as_first_index_rule():
    # The O(n log n) ranking agrees with the definition (first index in the sorted list).
    rng = random.Random(7)
    values = [float(rng.randint(0, 40)) for _ in range(500)]
    ordered = sorted(values)
    expected = [min(5, 1 + 5 * ordered.index(v) // len(values)) for v in values]
    assert quintile_scores(values) == expected


def test_given_unchanged_document_when_compared_then_only_write_time_ignored():
    summary = summarize(ORDERS, NOW)
    first = rfm_scores(summary, NOW)["champ"]
    again = rfm_scores(summary, datetime(2027, 3, 2, tzinfo=UTC))["champ"]
    assert same_rfm(first, again)
    assert not same_rfm(None, again) and not same_rfm({}, again)
    assert not same_rfm({**first, "segment": "loyal"}, again)
    assert not same_rfm({**first, "total_spent": 499.0}, again)
    assert not same_rfm({k: v for k, v in first.items() if k != "m"}, again)
