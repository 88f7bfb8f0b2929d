"""Birthday occasion, including the Feb 29 rule.

A customer born on Feb 29 is celebrated on Feb 29 in leap years and, in other years, on
Feb 28 (``"feb28"``, the default) or Mar 1 (``"mar1"``), as the campaign says.

Candidates come from the sparse ``by-birthday`` index (``MM-DD``): one Query per key, plus
``02-29`` on the day the rule moves leap-day birthdays to. Template variables:
``occasion.date`` and ``occasion.age`` (None when the year of birth is unknown).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date
from typing import Literal

from lifecycle.occasions.base import (
    BaseOccasion,
    Customer,
    OccasionSpec,
    Occurrence,
    Reader,
    Sample,
)

Feb29Rule = Literal["feb28", "mar1"]
LEAP_DAY = "02-29"
NO_BIRTHDAY = "no_birthday"


class BirthdayOccasion(OccasionSpec):
    type: Literal["birthday"]
    feb29: Feb29Rule = "feb28"


def celebration_date(month_day: str, year: int, feb29: Feb29Rule = "feb28") -> date:
    """The local date on which a birthday ``"MM-DD"`` is celebrated in ``year``."""
    month, day = (int(part) for part in month_day.split("-"))
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28) if feb29 == "feb28" else date(year, 3, 1)
    return date(year, month, day)


def month_days_for(local_date: date, feb29: Feb29Rule) -> list[str]:
    """Birthday index keys ("MM-DD") whose celebration falls on ``local_date``."""
    keys = [local_date.strftime("%m-%d")]
    if not calendar.isleap(local_date.year):
        rule_day = date(local_date.year, 2, 28) if feb29 == "feb28" else date(local_date.year, 3, 1)
        if local_date == rule_day:
            keys.append(LEAP_DAY)
    return keys


def occurrence(birthday: str, local_date: date, feb29: Feb29Rule) -> Occurrence | None:
    """The occurrence of ``birthday`` on ``local_date``, or None if it is not celebrated then."""
    month_day = birthday[2:] if birthday.startswith("--") else birthday[5:]
    if celebration_date(month_day, local_date.year, feb29) != local_date:
        return None
    age: int | None = None
    if not birthday.startswith("--"):
        age = local_date.year - int(birthday[:4])
        if age < 0:
            return None  # celebrated before being born: bad data, never a message
    return Occurrence(
        key=str(local_date.year),
        local_date=local_date,
        context={"type": "birthday", "date": local_date.isoformat(), "age": age},
    )


class Birthday(BaseOccasion):
    type = "birthday"
    spec_model = BirthdayOccasion

    def candidates(
        self, spec: BirthdayOccasion, day: date, partition: str, read: Reader
    ) -> Iterator[tuple[Customer, Occurrence]]:
        for month_day in month_days_for(day, spec.feb29):
            for customer in read("by-birthday", month_day):
                found = occurrence(customer["birthday"], day, spec.feb29)
                if found:
                    yield customer, found

    def sample(self, spec: BirthdayOccasion) -> Sample:
        return Sample(occasion={"age": 30})

    def explain(self, spec: BirthdayOccasion, customer: Customer) -> list[str]:
        return [] if customer.get("birthday") else [NO_BIRTHDAY]


OCCASION = Birthday()
