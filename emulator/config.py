"""What a run is asked to do and the error that stops it.

Owns :class:`SimulationConfig` (the input files, period and output directory of one run) and
the checks that an input file exists; hands on :class:`InputError` (defined in
:mod:`emulator.errors`: a missing or unusable input, reported to the user as such). A leaf
module: it imports nothing of the runner (the chaos spec's type only for the type checker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.errors import InputError

if TYPE_CHECKING:
    from emulator.chaos import ChaosSpec


@dataclass(frozen=True)
class SimulationConfig:
    customers: Path
    campaigns: Path
    start: date
    days: int
    out: Path
    redeliver: bool = False
    orders: Path | None = None
    events: Path | None = None
    responses: Path | None = None
    preferences: Path | None = None  # preference changes through the e-mails' links
    chaos: ChaosSpec | None = None  # faults to inject at the handlers' AWS calls
    progress: bool = False  # one line per simulated day on stderr
    policy: Path | None = None  # the messaging policy, PUT /policy before anything runs


def existing(path: Path, what: str) -> Path:
    """``path`` if it is a file, else :class:`InputError` naming ``what`` is missing."""
    if not path.is_file():
        raise InputError(f"{what} file not found: {path}")
    return path


def read_input(path: Path, what: str) -> bytes:
    return existing(path, what).read_bytes()
