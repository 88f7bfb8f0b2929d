"""Inactivity reminders: ``days`` after the local day of the last activity, once per spell.

The spell is identified by the day of the last activity (the ledger occurrence key), so a
customer who comes back and goes quiet again gets a new reminder for the new spell. Activity
recorded after planning cancels the reminder at send time (``active_again``). Candidates come
from the ``by-last-active`` index (the customer's local day of last activity).

Orders are activity (:func:`record_order_activity`, called by the orders stream): a new order
(placed) at its ``created_at``, an order that becomes delivered at its ``delivered_at``. The
last activity only moves forward, so duplicate and out-of-order stream records change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from lifecycle.core.clock import parse_utc
from lifecycle.core.observability import logger
from lifecycle.occasions.base import (
    PROCEED,
    BaseOccasion,
    Check,
    Customer,
    LinkSigner,
    OccasionSpec,
    Occurrence,
    Pending,
    Reader,
    Sample,
)
from lifecycle.occasions.orders import became_delivered
from lifecycle.rules.orders import Order
from lifecycle.store.customers import last_active_day_key, record_activity

ACTIVE_AGAIN = "active_again"
NO_ACTIVITY_RECORDED = "no_activity_recorded"


class InactivityOccasion(OccasionSpec):
    type: Literal["inactivity"]
    days: int = Field(ge=1, le=3650)


def inactivity_anchor(customer: dict[str, Any]) -> date | None:
    """The customer's local day of last activity (the index key), or None."""
    if not customer.get("last_active_at"):
        return None
    return date.fromisoformat(
        last_active_day_key(parse_utc(customer["last_active_at"]), customer.get("timezone"))
    )


def anchor_day(local_date: date, days: int) -> date:
    """The last-active day whose reminder falls on ``local_date``."""
    return local_date - timedelta(days=days)


def occurrence(customer: dict[str, Any], local_date: date, days: int) -> Occurrence | None:
    anchor = inactivity_anchor(customer)
    if anchor is None or anchor + timedelta(days=days) != local_date:
        return None
    return Occurrence(
        key=anchor.isoformat(),
        local_date=local_date,
        context={
            "type": "inactivity",
            "date": local_date.isoformat(),
            "days": days,
            "last_active_at": customer["last_active_at"],
            "last_active_date": anchor.isoformat(),
        },
    )


def still_inactive(customer: dict[str, Any], context: Any) -> bool:
    """False when the customer was active after the spell the reminder was planned for."""
    last = customer.get("last_active_at")
    return not last or last <= context["last_active_at"]


def order_activity(old: Order | None, new: Order | None, now: datetime) -> datetime | None:
    """The instant an orders stream record shows the customer active, or None.

    A new order: its ``created_at`` (its ``delivered_at`` if inserted delivered and later);
    an order that became delivered: its ``delivered_at`` (now when missing). Other changes
    (shipped, cancelled, returned) are not activity. Never later than ``now``.
    """
    if new is None:
        return None
    instants = []
    if old is None:
        instants.append(new.created_at)
    if became_delivered(old, new):
        instants.append(new.delivered_at or now.isoformat())
    parsed = []
    for text in instants:
        try:
            parsed.append(parse_utc(text))
        except ValueError:
            logger.warning(
                "order instant unreadable; not counted as activity", order_id=new.order_id
            )
    return min(max(parsed), now) if parsed else None


def record_order_activity(old: Order | None, new: Order | None, now: datetime) -> str | None:
    """Move the customer's last activity to the order's (``updated``, ``stale``,
    ``unknown_customer``), or None when the record is not activity."""
    instant = order_activity(old, new, now)
    if instant is None or new is None:
        return None
    return record_activity(new.customer_id, instant)


class Inactivity(BaseOccasion):
    type = "inactivity"
    spec_model = InactivityOccasion

    def candidates(
        self, spec: InactivityOccasion, day: date, partition: str, read: Reader
    ) -> Iterator[tuple[Customer, Occurrence]]:
        for customer in read("by-last-active", anchor_day(day, spec.days).isoformat()):
            found = occurrence(customer, day, spec.days)
            if found:
                yield customer, found

    def check(
        self,
        spec: InactivityOccasion,
        pending: Pending,
        customer: Customer,
        now: datetime,
        links: LinkSigner,
    ) -> Check:
        if not still_inactive(customer, pending.context):
            return Check(reason=ACTIVE_AGAIN)
        return PROCEED

    def sample(self, spec: InactivityOccasion) -> Sample:
        return Sample(occasion={"days": spec.days, "last_active_date": "2027-02-12"})

    def explain(self, spec: InactivityOccasion, customer: Customer) -> list[str]:
        return [] if customer.get("last_active_at") else [NO_ACTIVITY_RECORDED]


OCCASION = Inactivity()
