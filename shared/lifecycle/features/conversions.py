"""Conversions and holdout lift of one campaign, from the ledger and the orders table.

The unit is one occurrence of the campaign for one customer (a birthday, a holiday, one
order's survey): it was *sent* when at least one of its channels reached the provider
(``sent``, ``delivered``, ``bounced`` or ``complained``), and *held out* when the planner
skipped it with ``holdout``. The unit converted when the customer placed an order (any order
not cancelled) within ``attribution_days`` after the unit's planned send time
(``deliver_at``): when its message was sent (the sender sends at that time or within
``max_send_delay_minutes`` of it, else not at all) or, for the holdout, when it would have
been sent. One reference moment for both groups keeps the comparison symmetric, and every
ledger item has it (the by-campaign Query, then the items behind its keys).
Each campaign attributes independently: an order that follows two campaigns' messages counts
for both (no last-touch model).

Units whose attribution window is still open at ``now`` count with the orders seen so far;
``open_windows`` says how many. Revenue is summed per currency (order totals are never
converted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.rules.holdout import HOLDOUT, lift
from lifecycle.store import ledger
from lifecycle.store.orders import orders_since

NOT_A_CONVERSION = frozenset({"cancelled"})


@dataclass
class _Group:
    units: int = 0
    conversions: int = 0
    open_windows: int = 0
    revenue: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def per_member(self) -> dict[str, float]:
        if not self.units:
            return {}
        return {currency: round(total / self.units, 2) for currency, total in self.revenue.items()}


def _units(
    items: Iterable[ledger.Delivery],
) -> tuple[dict[tuple[str, str], datetime], dict[tuple[str, str], datetime]]:
    """(customer, occurrence) -> its planned send time, for sent and for held-back units."""
    sent: dict[tuple[str, str], datetime] = {}
    held: dict[tuple[str, str], datetime] = {}
    for item in items:
        if item.test:
            continue
        unit = (item.customer_id, ledger.occurrence_id(item.delivery_id))
        at = parse_utc(item.deliver_at)
        if item.status in ledger.ACCEPTED_STATUSES:
            sent[unit] = min(at, sent.get(unit, at))
        elif item.status == ledger.SKIPPED and item.reason == HOLDOUT:
            held[unit] = at
    for unit in sent:
        held.pop(unit, None)  # cannot happen (one decision per customer); never count twice
    return sent, held


def _measure(units: dict[tuple[str, str], datetime], days: int, now: datetime) -> _Group:
    group = _Group()
    window = timedelta(days=days)
    for (customer_id, _occurrence), start in sorted(units.items()):
        if start > now:
            continue
        group.units += 1
        end = start + window
        if end > now:
            group.open_windows += 1
            end = now
        orders = [
            order
            for order in orders_since(customer_id, utc_iso(start))
            if order.status not in NOT_A_CONVERSION and parse_utc(order.created_at) <= end
        ]
        if orders:
            group.conversions += 1
        for order in orders:
            if order.total is not None and order.currency:
                group.revenue[order.currency] += float(order.total)
    return group


def campaign_conversions(
    campaign_id: str,
    attribution_days: int,
    now: datetime,
    items: Iterable[ledger.Delivery] | None = None,
) -> dict[str, Any]:
    """Recipients and holdout, their conversions and rates, the lift with its 95% interval,
    revenue per member of each group. ``items``: the campaign's ledger items when the caller
    has them already (the local runner's read-back), else they are read."""
    sent, held = _units(ledger.by_campaign(campaign_id) if items is None else items)
    recipients = _measure(sent, attribution_days, now)
    holdout = _measure(held, attribution_days, now)
    measured = lift(recipients.conversions, recipients.units, holdout.conversions, holdout.units)

    def rate(group: _Group) -> float | None:
        return round(group.conversions / group.units, 6) if group.units else None

    return {
        "attribution_days": attribution_days,
        "recipients": recipients.units,
        "holdout": holdout.units,
        "recipient_conversions": recipients.conversions,
        "holdout_conversions": holdout.conversions,
        "recipient_rate": rate(recipients),
        "holdout_rate": rate(holdout),
        "lift": None if measured is None else measured.difference,
        "lift_ci95": None if measured is None else [measured.low, measured.high],
        "relative_lift": None if measured is None else measured.relative,
        "revenue_per_recipient": recipients.per_member(),
        "revenue_per_holdout_member": holdout.per_member(),
        "open_windows": recipients.open_windows + holdout.open_windows,
    }
