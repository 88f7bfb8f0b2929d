"""Builders for the campaign and customer documents tests feed to the importer and runner,
and for the planner's ledger items and the sender's e-mails.

Each returns a new value (documents: the JSON a marketer or a customer file would give);
keyword arguments replace top-level fields, so a test states only what matters to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lifecycle.messages.channels.email import OutgoingEmail
from lifecycle.store.ledger import PlannedDelivery


def planned_delivery(customer_id: str, deliver_at: datetime, **overrides: Any) -> PlannedDelivery:
    """A birthday e-mail of campaign ``camp`` planned for ``deliver_at`` (UTC), as the planner
    hands it to ``ledger.create``."""
    fields: dict[str, Any] = {
        "campaign_id": "camp",
        "customer_id": customer_id,
        "occurrence": "2027",
        "occasion": "birthday",
        "channel": "email",
        "deliver_at": deliver_at,
        "local_send_time": deliver_at,
        "timezone": "UTC",
        "context": {},
    }
    return PlannedDelivery(**{**fields, **overrides})


def outgoing_email(**overrides: Any) -> OutgoingEmail:
    """A plain-text birthday e-mail to ``ana@example.com`` as the sender hands it to
    ``build_mime`` (campaign ``camp``, customer ``c-1``, 2027-03-13 00:00 UTC)."""
    fields: dict[str, Any] = {
        "sender": "messages@example.com",
        "to": "ana@example.com",
        "to_name": "Ana",
        "subject": "Hi",
        "text": "Hello",
        "html": None,
        "local_date": datetime(2027, 3, 13, 0, 0, tzinfo=UTC),
        "unsubscribe_url": "https://x/u/t",
        "delivery_id": "d-1",
        "campaign_id": "camp",
        "customer_id": "c-1",
        "occasion": "birthday",
        "locale": "en",
    }
    return OutgoingEmail(**{**fields, **overrides})


def email_content(subject: str, text: str, locale: str = "en") -> dict[str, Any]:
    """``content`` with one e-mail template."""
    return {"email": {locale: {"subject": subject, "text": text}}}


def campaign_doc(campaign_id: str = "camp", **overrides: Any) -> dict[str, Any]:
    """An active birthday campaign: one English e-mail at 09:00, UTC by default."""
    doc: dict[str, Any] = {
        "campaign_id": campaign_id,
        "name": campaign_id,
        "status": "active",
        "occasion": {"type": "birthday"},
        "channels": ["email"],
        "send_at_local": "09:00",
        "default_timezone": "UTC",
        "content": email_content("Hi", "Hello"),
    }
    doc.update(overrides)
    return doc


def birthday_campaign(campaign_id: str = "bday-2027", **overrides: Any) -> dict[str, Any]:
    """:func:`campaign_doc` with Feb 29 -> Feb 28 and a 20% coupon valid 14 days."""
    doc = campaign_doc(
        campaign_id,
        name="Birthday 20% off",
        occasion={"type": "birthday", "feb29": "feb28"},
        offer={"percent_off": 20, "valid_days": 14, "code_prefix": "BDAY"},
        content=email_content(
            "Happy birthday, {{ first_name }}!",
            "{{ offer.percent_off }}% off with {{ offer.code }}",
        ),
    )
    doc.update(overrides)
    return doc


def customer_doc(customer_id: str, **overrides: Any) -> dict[str, Any]:
    """A customer record with an e-mail address and e-mail consent (nothing else)."""
    record: dict[str, Any] = {
        "customer_id": customer_id,
        "email": f"{customer_id}@example.com",
        "consent": {"email": True},
    }
    record.update(overrides)
    return record
