"""Replenishment reminders: ``days_after_purchase`` after an order with one of the SKUs.

Planned from the Orders stream when the order becomes ``delivered``. Cancelled at send time
by a later order of the same SKU (``repurchased``) or when the order was cancelled/returned.
Template variables: ``order`` (the order, no customer data) and ``product`` (sku, name, qty).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lifecycle.occasions.base import (
    BaseOccasion,
    Check,
    Customer,
    LinkSigner,
    OccasionSpec,
    Occurrence,
    Pending,
    Sample,
)
from lifecycle.occasions.orders import (
    SAMPLE_ORDER,
    STOPPING_STATUSES,
    check_order,
    days_after_delivery,
)
from lifecycle.rules.orders import Order
from lifecycle.store.orders import orders_since

REPURCHASED = "repurchased"


class ReplenishmentOccasion(OccasionSpec):
    type: Literal["replenishment"]
    days_after_purchase: int = Field(ge=1, le=3650)
    skus: list[str] = Field(min_length=1)


def replenishment(order: Order, timezone: str, days: int, skus: list[str]) -> Occurrence | None:
    match = next((item for item in order.items if item.get("sku") in skus), None)
    when = days_after_delivery(order, timezone, days)
    if match is None or when is None:
        return None
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


def repurchased(orders: list[Order], context: Any) -> bool:
    """A later order (not cancelled) contains the reminded SKU."""
    for order in orders:
        if order.order_id == context["order_id"] or order.created_at <= context["ordered_at"]:
            continue
        if order.status in STOPPING_STATUSES:
            continue
        if any(item.get("sku") == context["sku"] for item in order.items):
            return True
    return False


class Replenishment(BaseOccasion):
    type = "replenishment"
    spec_model = ReplenishmentOccasion
    trigger = "order"
    variables = frozenset({"product", "order"})

    def from_order(
        self, spec: ReplenishmentOccasion, order: Order, timezone: str
    ) -> Occurrence | None:
        return replenishment(order, timezone, spec.days_after_purchase, spec.skus)

    def check(
        self,
        spec: ReplenishmentOccasion,
        pending: Pending,
        customer: Customer,
        now: datetime,
        links: LinkSigner,
    ) -> Check:
        order, stop = check_order(pending)
        if stop or order is None:
            return stop or Check()
        context = pending.context
        if repurchased(orders_since(pending.customer_id, context["ordered_at"]), context):
            return Check(reason=REPURCHASED)
        return Check(
            variables={
                "order": order.public(),
                "product": {
                    "sku": context["sku"],
                    "name": context["product_name"],
                    "qty": context.get("qty", 1),
                },
            }
        )

    def sample(self, spec: ReplenishmentOccasion) -> Sample:
        return Sample(
            occasion={"days_after_purchase": spec.days_after_purchase},
            variables={
                "order": SAMPLE_ORDER,
                "product": {"sku": spec.skus[0], "name": "Coffee beans 1 kg", "qty": 1},
            },
        )


OCCASION = Replenishment()
