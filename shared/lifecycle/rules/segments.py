"""Segments: computed customer fields and RFM (recency, frequency, monetary) scores.

The audience evaluator sees a customer document extended by :func:`audience_view`, the same
way at plan time, in dry runs and in estimates. Computed fields:

* ``days_since_last_order`` - whole days between the last order and now (absent: no order);
* ``orders_count``, ``total_spent`` - over the last 365 days, cancelled orders excluded;
* ``rfm_segment`` - the named segment below; ``rfm.r``, ``rfm.f``, ``rfm.m`` - scores 1-5;
* ``nps_group`` - ``promoter`` (9-10), ``passive`` (7-8) or ``detractor`` (0-6) from the
  customer's latest NPS answer (stored by the survey endpoint; see :mod:`lifecycle.rules.nps`).

RFM scores are quintiles over the customers who ordered in the last 365 days, by rank (ties
share the lower rank): R from the most recent order (recent = 5), F from the number of
orders, M from the amount spent. Named segments, first match wins:

| segment | rule |
|---|---|
| ``champions`` | R >= 4 and F >= 4 and M >= 4 |
| ``new`` | R >= 4 and orders_count == 1 |
| ``loyal`` | F >= 4 |
| ``at_risk`` | R <= 2 and F >= 3 |
| ``hibernating`` | R <= 2 and F <= 2 |
| ``needs_attention`` | everything else |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.rules.orders import Order

WINDOW_DAYS = 365
SEGMENTS = ("champions", "new", "loyal", "at_risk", "hibernating", "needs_attention")


@dataclass(frozen=True)
class CustomerOrders:
    last_order_at: str
    orders_count: int
    total_spent: float


def summarize(orders: Iterable[Order], now: datetime) -> dict[str, CustomerOrders]:
    """Per customer: last order, count and spend over the last 365 days (not cancelled)."""
    since = utc_iso(now - timedelta(days=WINDOW_DAYS))
    last: dict[str, str] = {}
    counts: dict[str, int] = {}
    spent: dict[str, float] = {}
    for order in orders:
        if order.status == "cancelled" or order.created_at < since:
            continue
        customer = order.customer_id
        last[customer] = max(last.get(customer, ""), order.created_at)
        counts[customer] = counts.get(customer, 0) + 1
        spent[customer] = spent.get(customer, 0.0) + float(order.total or 0)
    return {c: CustomerOrders(last[c], counts[c], round(spent[c], 2)) for c in last}


def quintile_scores(values: Sequence[float] | Sequence[str]) -> list[int]:
    """Score 1-5 for each value by rank (higher value, higher score); equal values share the
    lower rank. One sort, then one pass: O(n log n)."""
    n = len(values)
    order = sorted(range(n), key=values.__getitem__)
    scores = [1] * n
    first = 0  # position of the first value equal to the current one
    previous: float | str | None = None
    for position, index in enumerate(order):
        value = values[index]
        if value != previous:
            first, previous = position, value
        scores[index] = min(5, 1 + 5 * first // n)
    return scores


def _quintiles(values: Mapping[str, float]) -> dict[str, int]:
    """Score 1-5 by rank per key (see :func:`quintile_scores`)."""
    keys = list(values)
    return dict(zip(keys, quintile_scores([values[k] for k in keys]), strict=True))


def segment_for(r: int, f: int, m: int, orders_count: int) -> str:
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 4 and orders_count == 1:
        return "new"
    if f >= 4:
        return "loyal"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r <= 2 and f <= 2:
        return "hibernating"
    return "needs_attention"


def rfm_ranks(summary: Mapping[str, CustomerOrders]) -> dict[str, tuple[int, int, int]]:
    """(R, F, M) per customer: three sorts over the customers who ordered in the window."""
    customers = list(summary)
    # UTC ISO instants of one format sort as the instants do (summarize compares them so too).
    r = quintile_scores([summary[c].last_order_at for c in customers])
    f = quintile_scores([float(summary[c].orders_count) for c in customers])
    m = quintile_scores([summary[c].total_spent for c in customers])
    return {c: (r[i], f[i], m[i]) for i, c in enumerate(customers)}


def rfm_document(
    orders: CustomerOrders, ranks: tuple[int, int, int], now: datetime
) -> dict[str, Any]:
    """The RFM document stored on one customer (``computed_at``: when it was last written)."""
    r, f, m = ranks
    return {
        "r": r,
        "f": f,
        "m": m,
        "score": f"{r}{f}{m}",
        "segment": segment_for(r, f, m, orders.orders_count),
        "orders_count": orders.orders_count,
        "total_spent": orders.total_spent,
        "last_order_at": orders.last_order_at,
        "computed_at": utc_iso(now),
    }


def same_rfm(stored: Mapping[str, Any] | None, document: Mapping[str, Any]) -> bool:
    """True when ``stored`` says what ``document`` says (the write time aside)."""
    if not stored:
        return False
    keys = (set(stored) | set(document)) - {"computed_at"}
    return all(stored.get(k) == document.get(k) for k in keys)


def rfm_scores(summary: Mapping[str, CustomerOrders], now: datetime) -> dict[str, dict[str, Any]]:
    """The RFM document stored on each customer who ordered in the window."""
    ranks = rfm_ranks(summary)
    return {customer: rfm_document(s, ranks[customer], now) for customer, s in summary.items()}


def audience_view(customer: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The customer as audience rules see it: stored fields plus computed ones."""
    view = dict(customer)
    rfm = customer.get("rfm") or {}
    if rfm.get("last_order_at") and now - parse_utc(rfm["last_order_at"]) > timedelta(
        days=WINDOW_DAYS
    ):
        rfm = {}  # every order left the 365-day window: no recent orders (the job clears it)
    if rfm.get("last_order_at"):
        view["days_since_last_order"] = (now - parse_utc(rfm["last_order_at"])).days
    view["orders_count"] = int(rfm.get("orders_count", 0))
    view["total_spent"] = float(rfm.get("total_spent", 0.0))
    if rfm.get("segment"):
        view["rfm_segment"] = rfm["segment"]
    if customer.get("nps_group"):
        view["nps_group"] = customer["nps_group"]
    return view
