"""Date occasion: a customer's named date (``"dates": {"renewal": "2027-04-10"}``).

The "date property" trigger of other tools. Campaign part::

    {"type": "date", "date": "renewal", "repeat": "once", "offset_days": -7}
    {"type": "date", "date": "signup", "repeat": "yearly", "feb29": "mar1"}

* ``yearly``: on every anniversary of the date shifted by ``offset_days``, from the first
  anniversary on (never in the year of the date itself). A Feb 29 date is marked on Feb 28
  (``feb29: "feb28"``, the default) or Mar 1 in other years, like birthdays.
* ``once``: on the date shifted by ``offset_days`` (-7: "your plan renews in a week"). Like
  every occasion it is planned for today and later only, so a date whose day has passed
  when it is planned is never sent.

Candidates come from the ``by-anniversary`` index of the customers' named dates (hash
``name#MM-DD``, range the full date): yearly reads only dates of earlier years, once only
the exact date. Template variables: ``occasion.date`` (the customer's date), ``occasion.on``
(the anniversary or date being marked) and, for yearly, ``occasion.years``. At send time the
message is skipped with ``date_changed`` when the customer's date is no longer the one it
was planned for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import Field, StrictInt

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
from lifecycle.occasions.birthday import Feb29Rule, celebration_date, month_days_for
from lifecycle.rules.records import DATE_NAME_PATTERN

DATE_CHANGED = "date_changed"
NO_DATE = "no_date"


class DateOccasion(OccasionSpec):
    type: Literal["date"]
    date: str = Field(pattern=DATE_NAME_PATTERN, description="the name of the customer's date")
    repeat: Literal["yearly", "once"] = "yearly"
    offset_days: StrictInt = Field(default=0, ge=-365, le=365)
    feb29: Feb29Rule = "feb28"


def _customer_date(customer: Customer, name: str) -> date | None:
    value = (customer.get("dates") or {}).get(name)
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def occurrence(spec: DateOccasion, value: date, local_date: date) -> Occurrence | None:
    """The occurrence of a customer's date ``value`` sent on ``local_date``, or None."""
    marked = local_date - timedelta(days=spec.offset_days)
    context: dict[str, object] = {
        "type": "date",
        "name": spec.date,
        "date": value.isoformat(),
        "on": marked.isoformat(),
    }
    if spec.repeat == "once":
        if value != marked:
            return None
        return Occurrence(
            key=f"{spec.date}:{value.isoformat()}", local_date=local_date, context=context
        )
    if marked.year <= value.year:
        return None  # never in the year of the date itself (nor before it)
    if celebration_date(value.strftime("%m-%d"), marked.year, spec.feb29) != marked:
        return None
    context["years"] = marked.year - value.year
    return Occurrence(key=f"{spec.date}:{marked.year}", local_date=local_date, context=context)


class NamedDate(BaseOccasion):
    type = "date"
    spec_model = DateOccasion

    def candidates(
        self, spec: DateOccasion, day: date, partition: str, read: Reader
    ) -> Iterator[tuple[Customer, Occurrence]]:
        marked = day - timedelta(days=spec.offset_days)
        if spec.repeat == "once":
            keys = [f"{spec.date}|{marked:%m-%d}|on|{marked.isoformat()}"]
        else:
            before = f"{marked.year:04d}-01-01"
            keys = [
                f"{spec.date}|{md}|before|{before}" for md in month_days_for(marked, spec.feb29)
            ]
        for key in keys:
            for customer in read("by-anniversary", key):
                value = _customer_date(customer, spec.date)
                found = occurrence(spec, value, day) if value else None
                if found:
                    yield customer, found

    def check(
        self,
        spec: DateOccasion,
        pending: Pending,
        customer: Customer,
        now: datetime,
        links: LinkSigner,
    ) -> Check:
        value = _customer_date(customer, spec.date)
        if value is None or value.isoformat() != pending.context.get("date"):
            return Check(reason=DATE_CHANGED)
        return PROCEED

    def sample(self, spec: DateOccasion) -> Sample:
        sample: dict[str, object] = {"name": spec.date, "date": "2024-03-14", "on": "2027-03-14"}
        if spec.repeat == "yearly":
            sample["years"] = 3
        return Sample(occasion=sample)

    def explain(self, spec: DateOccasion, customer: Customer) -> list[str]:
        return [] if _customer_date(customer, spec.date) else [f"{NO_DATE}:{spec.date}"]


OCCASION = NamedDate()
