"""Customer data access (PynamoDB). Logic receives plain dicts from here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from lifecycle.clock import utc_iso
from lifecycle.models import CustomerModel
from lifecycle.records import CustomerRecord


def to_dict(model: CustomerModel) -> dict[str, Any]:
    return {
        "customer_id": model.customer_id,
        "email": model.email,
        "phone": model.phone,
        "first_name": model.first_name,
        "last_name": model.last_name,
        "locale": model.locale,
        "timezone": model.timezone,
        "country": model.country,
        "birthday": model.birthday,
        "consent": {
            "email": bool(model.consent.email) if model.consent else False,
            "sms": bool(model.consent.sms) if model.consent else False,
        },
        "unsubscribed": dict(model.unsubscribed.as_dict()) if model.unsubscribed else {},
        "created_at": model.created_at,
        "last_active_at": model.last_active_at,
        "attributes": model.attributes or {},
    }


def to_model(record: CustomerRecord, now: datetime) -> CustomerModel:
    return CustomerModel(
        customer_id=record.customer_id,
        email=record.email,
        phone=record.phone,
        first_name=record.first_name,
        last_name=record.last_name,
        locale=record.locale,
        timezone=record.timezone,
        country=record.country,
        birthday=record.birthday,
        birthday_md=record.birthday_month_day,
        consent={"email": record.consent.email, "sms": record.consent.sms},
        created_at=utc_iso(record.created_at) if record.created_at else None,
        last_active_at=utc_iso(record.last_active_at) if record.last_active_at else None,
        attributes=record.attributes or None,
        updated_at=utc_iso(now),
    )


def get_customer(customer_id: str) -> dict[str, Any] | None:
    try:
        return to_dict(CustomerModel.get(customer_id, consistent_read=True))
    except DoesNotExist:
        return None


def customers_with_birthday(month_day: str) -> Iterator[dict[str, Any]]:
    """Customers whose birthday index key is ``month_day`` ("MM-DD"); a Query, never a Scan."""
    for model in CustomerModel.by_birthday.query(month_day):
        yield to_dict(model)


def record_unsubscribe(customer_id: str, channel: str, now: datetime) -> bool:
    """Withdraw consent for ``channel`` and remember when; False if the customer is unknown.

    Idempotent: a second call keeps the first unsubscribe time.
    """
    try:
        model = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return False
    unsubscribed = dict(model.unsubscribed.as_dict()) if model.unsubscribed else {}
    unsubscribed.setdefault(channel, utc_iso(now))
    try:
        model.update(
            actions=[
                CustomerModel.consent[channel].set(False),
                CustomerModel.unsubscribed.set(unsubscribed),
                CustomerModel.updated_at.set(utc_iso(now)),
            ],
            condition=CustomerModel.customer_id.exists(),
        )
    except UpdateError:
        return False
    return True
