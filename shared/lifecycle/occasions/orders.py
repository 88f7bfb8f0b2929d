"""Rules shared by the order-triggered occasions (replenishment, post-purchase survey).

Both start when an order *becomes* ``delivered`` (Orders table stream, NEW_AND_OLD_IMAGES)
and are cancelled at send time when the order was cancelled or returned in the meantime
(``order_cancelled`` / ``order_returned``), has disappeared (``order_not_found``) or now
belongs to another customer (``order_of_another_customer``: an order id reused by the shop).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from lifecycle.core.clock import parse_utc
from lifecycle.occasions.base import Check, Pending
from lifecycle.rules.orders import Order
from lifecycle.store.orders import get_order

DELIVERED = "delivered"
ORDER_CANCELLED = "order_cancelled"
ORDER_RETURNED = "order_returned"
ORDER_NOT_FOUND = "order_not_found"
ORDER_OF_ANOTHER_CUSTOMER = "order_of_another_customer"
STOPPING_STATUSES = {"cancelled": ORDER_CANCELLED, "returned": ORDER_RETURNED}

SAMPLE_ORDER = {
    "order_id": "o-sample",
    "created_at": "2027-03-01T10:00:00Z",
    "delivered_at": "2027-03-03T15:00:00Z",
    "total": 42.5,
    "currency": "EUR",
    "items": [{"sku": "COFFEE-1KG", "name": "Coffee beans 1 kg", "qty": 1, "price": 42.5}],
}


def became_delivered(old: Order | None, new: Order | None) -> bool:
    return new is not None and new.status == DELIVERED and (old is None or old.status != DELIVERED)


def days_after_delivery(order: Order, timezone: str, days: int) -> date | None:
    """The customer's local day ``days`` after the order was delivered."""
    if order.delivered_at is None:
        return None
    delivered = parse_utc(order.delivered_at).astimezone(ZoneInfo(timezone)).date()
    return delivered + timedelta(days=days)


def order_stop_reason(order: Order | None) -> str | None:
    if order is None:
        return ORDER_NOT_FOUND
    return STOPPING_STATUSES.get(order.status)


def check_order(pending: Pending) -> tuple[Order | None, Check | None]:
    """The order the occurrence is about, or a skip when it no longer stands.

    The order must still exist, not be cancelled or returned, and belong to the customer the
    message is for (an order id reused by another customer never leaks into this message).
    """
    order = get_order(str(pending.context["order_id"]))
    stop = order_stop_reason(order)
    if stop or order is None:
        return None, Check(reason=stop or ORDER_NOT_FOUND)
    if order.customer_id != pending.customer_id:
        return None, Check(reason=ORDER_OF_ANOTHER_CUSTOMER)
    return order, None
