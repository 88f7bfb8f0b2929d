"""The daily RFM job: score every customer who ordered in the last 365 days.

The scoring rules live in :mod:`lifecycle.rules.segments`; this job reads the orders and
stores each customer's scores.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lifecycle.core.clock import utc_iso
from lifecycle.rules.segments import SEGMENTS, WINDOW_DAYS, rfm_scores, summarize
from lifecycle.store.customers import store_rfm
from lifecycle.store.orders import all_orders


def run_rfm_job(now: datetime) -> dict[str, int]:
    """Score every customer who ordered in the last 365 days and store it on the customer."""
    summary = summarize(all_orders(utc_iso(now - timedelta(days=WINDOW_DAYS))), now)
    scores = rfm_scores(summary, now)
    stored = sum(1 for customer, rfm in scores.items() if store_rfm(customer, rfm))
    counts = {segment: 0 for segment in SEGMENTS}
    for rfm in scores.values():
        counts[rfm["segment"]] += 1
    return {"customers_scored": stored, **counts}
