"""Order-triggered occasions: replenishment reminders and post-purchase surveys.

Both start when an order *becomes* ``delivered`` (Orders table stream, NEW_AND_OLD_IMAGES):
replenishment ``days_after_purchase`` later for orders with one of the campaign's SKUs,
surveys ``delay_days`` later. Send-time checks cancel them: a new order of the same SKU
(``repurchased``), an order cancelled or returned in the meantime (``order_cancelled`` /
``order_returned``), or a survey in the last ``throttle_days`` (``survey_throttled``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lifecycle.core.clock import parse_utc
from lifecycle.occasions import Occurrence

DELIVERED = "delivered"
REPURCHASED = "repurchased"
ORDER_CANCELLED = "order_cancelled"
ORDER_RETURNED = "order_returned"
SURVEY_THROTTLED = "survey_throttled"
ORDER_NOT_FOUND = "order_not_found"
STOPPING_STATUSES = {"cancelled": ORDER_CANCELLED, "returned": ORDER_RETURNED}


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    status: str
    created_at: str
    delivered_at: str | None
    items: list[dict[str, Any]]
    total: float | None = None
    currency: str | None = None

    def public(self) -> dict[str, Any]:
        """What templates may show (no customer data)."""
        return {
            "order_id": self.order_id,
            "created_at": self.created_at,
            "delivered_at": self.delivered_at,
            "total": self.total,
            "currency": self.currency,
            "items": self.items,
        }


def became_delivered(old: Order | None, new: Order | None) -> bool:
    return new is not None and new.status == DELIVERED and (old is None or old.status != DELIVERED)


def _local_day(instant: str, timezone: str) -> date:
    return parse_utc(instant).astimezone(ZoneInfo(timezone)).date()


def replenishment(order: Order, timezone: str, days: int, skus: list[str]) -> Occurrence | None:
    match = next((item for item in order.items if item.get("sku") in skus), None)
    if match is None or order.delivered_at is None:
        return None
    when = _local_day(order.delivered_at, timezone) + timedelta(days=days)
    return Occurrence(
        key=order.order_id,
        local_date=when,
        context={
            "type": "replenishment",
            "date": when.isoformat(),
            "days_after_purchase": days,
            "order_id": order.order_id,
            "sku": match["sku"],
            "product_name": match.get("name") or match["sku"],
            "qty": match.get("qty", 1),
            "ordered_at": order.created_at,
            "delivered_at": order.delivered_at,
        },
    )


def survey(order: Order, timezone: str, delay_days: int, kind: str) -> Occurrence | None:
    if order.delivered_at is None:
        return None
    when = _local_day(order.delivered_at, timezone) + timedelta(days=delay_days)
    return Occurrence(
        key=order.order_id,
        local_date=when,
        context={
            "type": "post_purchase_survey",
            "date": when.isoformat(),
            "kind": kind,
            "order_id": order.order_id,
            "delivered_at": order.delivered_at,
        },
    )


def repurchased(orders: list[Order], context: dict[str, Any]) -> bool:
    """A later order (not cancelled) contains the reminded SKU."""
    for order in orders:
        if order.order_id == context["order_id"] or order.created_at <= context["ordered_at"]:
            continue
        if order.status in STOPPING_STATUSES:
            continue
        if any(item.get("sku") == context["sku"] for item in order.items):
            return True
    return False


def order_stop_reason(order: Order | None) -> str | None:
    if order is None:
        return ORDER_NOT_FOUND
    return STOPPING_STATUSES.get(order.status)
