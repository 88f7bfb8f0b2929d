"""What a run tells while it runs: ``lambda.log`` with simulated time, one progress line a day.

Owns :class:`SimulatedTimeLog`, the buffer behind ``lambda.log``: every JSON line written to it
(the handlers' Powertools lines, whose ``timestamp`` is the real time, and the runner's own)
gains ``"simulated_time"`` first, the simulated clock's instant when the line was written; and
:class:`Progress`, which prints one line per simulated day on stderr (the day, the messages the
providers have received so far, the ledger items waiting for their send time, the real time
spent). A leaf module: it imports nothing of the runner.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TextIO


class SimulatedTimeLog(io.StringIO):
    """A text buffer that stamps each JSON line with the simulated time it was written at."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        super().__init__()
        self._now = now
        self._line_start = True

    def write(self, text: str) -> int:
        if not text:
            return 0
        pieces = text.split("\n")
        stamp = ""
        for index, piece in enumerate(pieces):
            if (index or self._line_start) and piece[:1] == "{" and piece.strip() not in "{}":
                stamp = stamp or self._now().strftime("%Y-%m-%dT%H:%M:%SZ")
                pieces[index] = f'{{"simulated_time": "{stamp}", {piece[1:]}'
        self._line_start = text.endswith("\n")
        super().write("\n".join(pieces))
        return len(text)


class Progress:
    """One line per simulated day on ``stream`` (stderr), or nothing when not ``enabled``."""

    def __init__(
        self,
        first: date,
        days: int,
        enabled: bool,
        stream: TextIO | None = None,
    ) -> None:
        self.first = first
        self.days = days
        self.enabled = enabled
        self.stream = stream
        self.started = time.perf_counter()
        self.reported = 0  # days reported so far

    def day_done(self, day: date, sent: int, waiting: int) -> None:
        """Report ``day`` (and nothing again for it)."""
        number = (day - self.first).days + 1
        if not self.enabled or number <= self.reported:
            return
        self.reported = number
        seconds = time.perf_counter() - self.started
        stream = self.stream or sys.stderr
        stream.write(
            f"day {number}/{self.days} {day.isoformat()}: {sent} messages sent so far, "
            f"{waiting} queued (planned, waiting for their send time), {seconds:.1f} s\n"
        )
        stream.flush()
