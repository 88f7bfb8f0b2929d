"""Usage ingestion: EventBridge ``usage.recorded`` -> ``last_active_at`` (never backwards).

An event whose ``at`` lies more than a day after now is refused: it would move the last
activity into the future and suppress inactivity reminders for ever. "Now" is the clock, or
the event's own EventBridge ``time`` when that is later (a replayed or simulated event).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lifecycle.core.clock import get_clock, utc_iso
from lifecycle.rules.records import CUSTOMER_ID_RE, MAX_FUTURE, parse_instant
from lifecycle.store.customers import record_activity

DETAIL_TYPE = "usage.recorded"


class UsageEventError(ValueError):
    """The event is not a well-formed ``usage.recorded`` event."""


class UsageDetail(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    type: str = Field(min_length=1, max_length=100)
    at: datetime

    @field_validator("customer_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not CUSTOMER_ID_RE.match(value):
            raise ValueError("not a customer id")
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> datetime:
        return parse_instant(value)


def parse_usage_event(event: dict[str, Any]) -> UsageDetail:
    if event.get("detail-type") != DETAIL_TYPE:
        raise UsageEventError(f"detail-type must be {DETAIL_TYPE}")
    try:
        detail = UsageDetail.model_validate(event.get("detail"))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'detail'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageEventError(problems) from None
    # The clock only: the event's own "time" is set by its producer and proves nothing.
    reference = get_clock().now()
    if detail.at > reference + MAX_FUTURE:
        raise UsageEventError(
            f"at: {utc_iso(detail.at)} is in the future "
            f"(more than {MAX_FUTURE.days} day after {utc_iso(reference)})"
        )
    return detail


def ingest_usage_event(event: dict[str, Any]) -> str:
    """``updated`` | ``stale`` | ``unknown_customer``; duplicates are harmless."""
    detail = parse_usage_event(event)
    return record_activity(detail.customer_id, detail.at)
