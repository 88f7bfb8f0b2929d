"""Chaos mode end to end: faults at the handlers' AWS calls lose nothing, duplicate nothing,
and the same seed gives the same run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.chaos import ChaosSpec
from emulator.runner import SimulationConfig, SimulationResult, simulate
from tests.builders import birthday_campaign

pytestmark = pytest.mark.e2e

SPEC = "ses_throttle=0.3,ses_transient=0.1,crash_after_send=0.1,ddb_throttle=0.02,seed=5"
TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def customers() -> list[dict[str, Any]]:
    rows = []
    for n in range(15):
        rows.append(
            {
                "customer_id": f"c-{n:02d}",
                "email": f"c-{n:02d}@example.org",
                "phone": f"+120155504{n:02d}" if n % 3 == 0 else None,
                "first_name": f"Kim{n}",
                "birthday": f"1990-03-{13 + n % 3:02d}",
                "timezone": TIMEZONES[n % len(TIMEZONES)],
                "consent": {"email": True, "sms": n % 3 == 0},
            }
        )
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def campaigns() -> list[dict[str, Any]]:
    campaign = birthday_campaign(channels=["email", "sms"])
    text = "Happy birthday {{ first_name }}: {{ offer.code }}"
    campaign["content"]["sms"] = {"en": {"text": text}}
    return [campaign]


def run(tmp_path: Path, name: str, spec: str | None) -> tuple[SimulationResult, bytes]:
    folder = tmp_path / name
    folder.mkdir()
    people = folder / "customers.jsonl"
    people.write_text("\n".join(json.dumps(c) for c in customers()) + "\n", encoding="utf-8")
    offers = folder / "campaigns.json"
    offers.write_text(json.dumps(campaigns()), encoding="utf-8")
    config = SimulationConfig(
        people,
        offers,
        date(2027, 3, 12),
        4,
        folder / "out",
        chaos=ChaosSpec.parse(spec) if spec else None,
    )
    result = simulate(config)
    return result, (folder / "out" / "messages.jsonl").read_bytes()


def test_given_chaos_when_simulated_then_nothing_lost_or_doubled_and_the_same_seed_repeats(
    tmp_path: Path,
):
    # Given a run without faults and two runs with the same faults
    calm, _ = run(tmp_path, "calm", None)
    first, first_messages = run(tmp_path, "first", SPEC)
    second, second_messages = run(tmp_path, "second", SPEC)
    checks = first.report["integrity"]
    # Then every kind of fault happened, and nothing was lost or received twice
    assert all(first.report["chaos"]["injected"].values()), first.report["chaos"]
    assert checks["duplicates"] == 0, checks["duplicate_items"]
    assert checks["lost"] == 0, checks["lost_items"]
    assert checks["planned"] == calm.report["integrity"]["planned"]
    # And every delivery sent without faults was sent with them, or ended with a reason
    # (a message the provider got before the worker died ends failed(outcome_unknown))
    for delivery, outcome in calm.outcomes.items():
        if outcome == "sent":
            assert first.outcomes[delivery] == "sent" or ":" in first.outcomes[delivery]
    # And the same seed gives the same messages and the same figures
    assert first_messages == second_messages
    assert checks == second.report["integrity"]
    assert first.report["chaos"] == second.report["chaos"]


def test_given_chaos_on_the_command_line_when_demo_asked_then_spec_checked_before_running(
    tmp_path: Path, capsys
):
    from emulator.cli import main

    assert main(["demo", "--out", str(tmp_path), "--chaos", "ddb_throttle=0.1,seed=1,x=1"]) == 2
    assert capsys.readouterr().err.startswith("error: --chaos: unknown key 'x'")
