"""Injected time.

Business logic never calls ``datetime.now()``: it asks a :class:`Clock`. Lambda uses
:class:`SystemClock`; the local runner installs a :class:`SimulatedClock` so that weeks of
schedules run in seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to (used by the local runner and tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("SimulatedClock needs timezone-aware instants")
        self._now = instant.astimezone(UTC)


class _Current:
    clock: Clock = SystemClock()


def get_clock() -> Clock:
    return _Current.clock


def set_clock(clock: Clock) -> None:
    """Replace the process-wide clock (local runner and tests only)."""
    _Current.clock = clock


def utc_iso(instant: datetime) -> str:
    """Sortable UTC ISO 8601 with a ``Z`` suffix and second precision."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 instant; a value without offset is rejected."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value.astimezone(UTC)
