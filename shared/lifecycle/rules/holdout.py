"""Holdout groups and conversion lift: who is held back, and what sending earned.

Assignment is a pure function of the campaign and the customer: the first 64 bits of
SHA-256(``campaign_id`` NUL ``customer_id``) as a fraction of 2**64, compared with
``holdout_percent / 100``. It does not depend on any customer attribute (so it is unbiased),
it is the same on every channel and every occurrence of the campaign (a customer is either in
the experiment's control group or not), and the planner, the dry run and the explanation
compute the same answer without storing anything.

Lift is the difference of two conversion rates (recipients minus holdout) with a 95%
confidence interval by Newcombe's hybrid score method (Wilson intervals of each rate
combined), which stays inside [-1, 1] and behaves with small groups and rates near 0 where
the textbook Wald interval does not.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

HOLDOUT = "holdout"  # the skip reason of a held-back message
Z_95 = 1.959963984540054  # two-sided 95% normal quantile
_SCALE = float(2**64)


def holdout_fraction(campaign_id: str, customer_id: str) -> float:
    """A uniform number in [0, 1) fixed by the campaign and the customer."""
    digest = hashlib.sha256(f"{campaign_id}\0{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def in_holdout(campaign_id: str, customer_id: str, percent: float) -> bool:
    """Whether the customer belongs to the campaign's holdout (``percent`` of 0-100)."""
    if percent <= 0:
        return False
    return holdout_fraction(campaign_id, customer_id) < percent / 100


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when nothing was observed."""
    if total <= 0:
        return (0.0, 1.0)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Lift:
    """Recipients' minus the holdout's conversion rate, with its 95% interval."""

    difference: float
    low: float
    high: float
    relative: float | None  # difference / holdout rate; None when the holdout never converted


def lift(
    recipient_conversions: int, recipients: int, holdout_conversions: int, holdout: int
) -> Lift | None:
    """The absolute lift and Newcombe's 95% interval; None when either group is empty."""
    if recipients <= 0 or holdout <= 0:
        return None
    p1 = recipient_conversions / recipients
    p2 = holdout_conversions / holdout
    l1, u1 = wilson_interval(recipient_conversions, recipients)
    l2, u2 = wilson_interval(holdout_conversions, holdout)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    relative = difference / p2 if p2 > 0 else None
    return Lift(
        difference=round(difference, 6),
        low=round(max(-1.0, low), 6),
        high=round(min(1.0, high), 6),
        relative=None if relative is None else round(relative, 6),
    )
