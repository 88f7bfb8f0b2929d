"""Local send time -> UTC instant, DST-correct, for any IANA timezone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

# ASCII digits only (\d and int() also take other scripts' digits, int() a sign and spaces).
HHMM_RE = re.compile(r"([0-9]{2}):([0-9]{2})")


def parse_hhmm(value: str) -> time:
    """``"09:00"`` -> time(9, 0); raises ValueError for anything else."""
    match = HHMM_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time 'HH:MM'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"{value!r} is not a time 'HH:MM'")
    return time(hour, minute)


def local_send_instant(local_date: date, send_at: time, timezone: str) -> datetime:
    """The instant (aware, in ``timezone``) of ``send_at`` on ``local_date``.

    A wall time skipped by a DST jump (02:30 on a spring-forward day) is moved forward by the
    jump (03:30); an ambiguous one (fall-back) takes its first occurrence.
    """
    zone = ZoneInfo(timezone)
    naive = datetime.combine(local_date, send_at)
    candidate = naive.replace(tzinfo=zone, fold=0)
    # Round-trip through UTC to normalize times that do not exist in this zone.
    return candidate.astimezone(UTC).astimezone(zone)


def to_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def local_date_in(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()
