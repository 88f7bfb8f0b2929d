"""Customers' named dates (``"dates": {"signup": "2024-02-29"}``) and their anniversary index.

The customer item keeps the ``dates`` map (the truth, read at plan and send time); the
CustomerDates table holds one item per (customer, name) so the "date" occasion can Query
``by-anniversary`` (``name#MM-DD``, range: the full date) instead of scanning customers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from lifecycle.store.models import CustomerDateModel


def anniversary_key(name: str, month_day: str) -> str:
    """The index key of a named date: ``name#MM-DD``."""
    return f"{name}#{month_day}"


def save_dates(customer_id: str, dates: Mapping[str, str]) -> None:
    """Make the index items of a customer equal to ``dates`` (idempotent)."""
    stale = {item.name for item in CustomerDateModel.query(customer_id)} - set(dates)
    for name in sorted(stale):
        CustomerDateModel(customer_id=customer_id, name=name).delete()
    for name, value in sorted(dates.items()):
        CustomerDateModel(
            customer_id=customer_id,
            name=name,
            date=value,
            anniversary_key=anniversary_key(name, value[5:]),
        ).save()


def delete_dates(customer_id: str) -> int:
    """Remove every index item of a customer (erasure); return how many there were."""
    names = [item.name for item in CustomerDateModel.query(customer_id)]
    for name in names:
        CustomerDateModel(customer_id=customer_id, name=name).delete()
    return len(names)


def customer_ids_with_date(
    name: str, month_day: str, *, on: str | None = None, before: str | None = None
) -> Iterator[str]:
    """Ids of customers whose date ``name`` falls on ``month_day`` (a Query, never a Scan).

    ``on`` keeps only that exact date (YYYY-MM-DD); ``before`` only dates before it.
    """
    condition = None
    if on is not None:
        condition = CustomerDateModel.date == on
    elif before is not None:
        condition = CustomerDateModel.date < before
    for item in CustomerDateModel.by_anniversary.query(
        anniversary_key(name, month_day), range_key_condition=condition
    ):
        yield item.customer_id
