"""Through the runner: a burst bigger than one dispatcher firing is sent in the firings that
follow (none left queued), and what the send rate cannot carry is in the planner's report.

The send rate is scaled down (MAX_SEND_RATE=1: 300 messages a 5-minute firing) so 320
birthdays at 09:00 need two firings.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig, simulated
from tests.builders import birthday_campaign, customer_doc

pytestmark = pytest.mark.e2e
BURST = 320


def _run(tmp_path: Path, environment: dict[str, str]) -> tuple[dict[str, Any], Counter[str]]:
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        "".join(
            json.dumps(customer_doc(f"c-{n:03d}", birthday="1990-03-14", timezone="UTC")) + "\n"
            for n in range(BURST)
        ),
        encoding="utf-8",
    )
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps([birthday_campaign("bday")]), encoding="utf-8")
    config = SimulationConfig(customers, campaigns, date(2027, 3, 13), 2, tmp_path / "out")
    with simulated(config, environment) as (_, result):
        counts = Counter(
            {
                key: n
                for per_status in result.report["by_campaign"].values()
                for key, n in per_status.items()
            }
        )
        return result.report, counts


def test_given_a_burst_over_one_firing_when_the_window_allows_then_all_sent(tmp_path):
    # Given 320 birthdays at 09:00 UTC and a send rate of 1/s (300 a firing, window 15 min)
    report, counts = _run(tmp_path, {"MAX_SEND_RATE": "1"})
    # Then the 20 the first firing could not carry go in the next one: all sent, none queued
    assert counts == {"sent": BURST}
    send_rate = report["planner"]["send_rate"]
    assert send_rate["over_capacity"] == 0
    assert (send_rate["busiest_interval_due"], send_rate["per_dispatch_interval"]) == (BURST, 300)


def test_given_a_burst_the_window_cannot_hold_then_known_at_plan_time(tmp_path):
    # Given the same burst with a 5-minute send window: the second firing (09:05) has one
    # slot on time (0 s after the window's end), 19 reach the sender too late
    report, counts = _run(tmp_path, {"MAX_SEND_RATE": "1", "MAX_SEND_DELAY_MINUTES": "5"})
    # Then the planner's report said so the day before, and the sender skipped exactly those
    assert report["planner"]["send_rate"]["over_capacity"] == 19
    assert counts == {"sent": BURST - 19, "skipped:send_window_missed": 19}
