"""The consent trail: every change of a customer's consent, one item each (ConsentEvents).

An item says what changed (``changes``: channel, action, topic), when (``at``), how (``via``)
and the consent state before and after (restoring ``before`` is an exact undo). Items are
keyed ``customer_id`` + ``event_id`` (``"<at>#<sequence>"``), so a customer's trail is one
Query in time order. The writes of the customer item and its record go together in one
transaction where the store can (:func:`lifecycle.store.customers.save_consent`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from lifecycle.core.clock import utc_iso
from lifecycle.store.models import ConsentEventModel

# How a change was made.
ONE_CLICK = "one_click"  # the List-Unsubscribe one-click POST (RFC 8058) or its page
PAGE = "page"  # the preference centre
UNDO = "undo"  # the preference centre's Undo button
API = "api"  # the marketer API's customer import
IMPORT = "import"  # an S3 or runner customer file
SMS_STOP = "sms_stop"  # the SMS provider's opt-out list (the customer replied STOP)
COMPLAINT = "complaint"  # the recipient marked a message as spam
BOUNCE = "bounce"  # the address bounced (suppressed)
VIA = frozenset({ONE_CLICK, PAGE, UNDO, API, IMPORT, SMS_STOP, COMPLAINT, BOUNCE})


@dataclass(frozen=True)
class ConsentEvent:
    customer_id: str
    event_id: str
    at: str
    via: str
    changes: list[dict[str, str]]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    campaign_id: str | None = None
    undoes: str | None = None

    def public(self) -> dict[str, Any]:
        """The record as the customer history shows it (no state snapshots)."""
        shown: dict[str, Any] = {
            "event_id": self.event_id,
            "at": self.at,
            "via": self.via,
            "changes": self.changes,
        }
        if self.campaign_id:
            shown["campaign_id"] = self.campaign_id
        if self.undoes:
            shown["undoes"] = self.undoes
        return shown


def new_event(
    customer_id: str,
    at: datetime,
    via: str,
    changes: list[dict[str, str]],
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    campaign_id: str | None = None,
    undoes: str | None = None,
) -> ConsentEvent:
    """A record with a fresh ``event_id`` (time first, so the trail sorts by time)."""
    if via not in VIA:
        raise ValueError(f"unknown consent channel of change {via!r}")
    return ConsentEvent(
        customer_id=customer_id,
        # Time first; then the wall clock's nanoseconds (orders changes made at the same
        # instant of a simulated clock) and random bits (two writers in the same nanosecond).
        event_id=f"{utc_iso(at)}#{time.time_ns():016x}{uuid.uuid4().hex[:8]}",
        at=utc_iso(at),
        via=via,
        changes=changes,
        before=before,
        after=after,
        campaign_id=campaign_id,
        undoes=undoes,
    )


def to_model(event: ConsentEvent) -> ConsentEventModel:
    return ConsentEventModel(
        customer_id=event.customer_id,
        event_id=event.event_id,
        at=event.at,
        via=event.via,
        changes=event.changes,
        before=event.before,
        after=event.after,
        campaign_id=event.campaign_id,
        undoes=event.undoes,
    )


def _event(model: ConsentEventModel) -> ConsentEvent:
    return ConsentEvent(
        customer_id=model.customer_id,
        event_id=model.event_id,
        at=model.at,
        via=model.via,
        changes=list(model.changes or []),
        before=model.before,
        after=model.after,
        campaign_id=model.campaign_id,
        undoes=model.undoes,
    )


def put_event(event: ConsentEvent) -> None:
    """Record a change made by a write of its own (import, SMS STOP, complaint)."""
    to_model(event).save(condition=ConsentEventModel.event_id.does_not_exist())


def events_of(customer_id: str) -> list[ConsentEvent]:
    """A customer's trail, oldest first (one Query)."""
    return [_event(m) for m in ConsentEventModel.query(customer_id, consistent_read=True)]


def get_event(customer_id: str, event_id: str) -> ConsentEvent | None:
    try:
        return _event(ConsentEventModel.get(customer_id, event_id, consistent_read=True))
    except DoesNotExist:
        return None


def delete_events(customer_id: str) -> int:
    """Delete a customer's whole trail (erasure); the number of records deleted."""
    keys = list(
        ConsentEventModel.query(
            customer_id,
            consistent_read=True,
            attributes_to_get=[ConsentEventModel.customer_id.attr_name, "event_id"],
        )
    )
    for model in keys:  # a handful per customer: one DeleteItem each
        model.delete()
    return len(keys)
