"""Occasions: who has an occurrence on a given local date.

Every occasion plugs into the same planner through :class:`Occurrence`; adding an occasion
means adding one module and registering it in :mod:`lifecycle.pipeline.planner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an occasion for one customer.

    ``key`` is the part of the ledger id that makes the delivery unique per campaign and
    customer (the celebration year for birthdays, the date for holidays, ...).
    """

    key: str
    local_date: date
    context: dict[str, Any] = field(default_factory=dict)
