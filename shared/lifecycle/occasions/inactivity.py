"""Inactivity reminders: ``days`` after the local day of the last activity, once per spell.

The spell is identified by the day of the last activity (the ledger occurrence key), so a
customer who comes back and goes quiet again gets a new reminder for the new spell. Activity
recorded after planning cancels the reminder at send time (``active_again``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from lifecycle.occasions import Occurrence
from lifecycle.store.customers import inactivity_anchor

ACTIVE_AGAIN = "active_again"


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


def still_inactive(customer: dict[str, Any], context: dict[str, Any]) -> bool:
    """False when the customer was active after the spell the reminder was planned for."""
    last = customer.get("last_active_at")
    return not last or last <= context["last_active_at"]
