"""Inactivity reminders: ``days`` after the local day of the last activity, once per spell.

The spell is identified by the day of the last activity (the ledger occurrence key), so a
customer who comes back and goes quiet again gets a new reminder for the new spell. Activity
recorded after planning cancels the reminder at send time (``active_again``). Candidates come
from the ``by-last-active`` index (the customer's local day of last activity).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from lifecycle.core.clock import parse_utc
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
from lifecycle.store.customers import last_active_day_key

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
