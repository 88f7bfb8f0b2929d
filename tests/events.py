"""``load_event(name)``: the sample trigger events in ``events/`` (the shapes AWS delivers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """``load_event("sender/sqs_batch.json")`` -> a fresh copy of that event."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data
