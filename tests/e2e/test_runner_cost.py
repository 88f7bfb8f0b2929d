"""Every run reports what it cost: per message, per function, in dollars (report.json ``cost``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator import prices
from emulator.runner import SimulationConfig, simulate
from tests.builders import birthday_campaign

pytestmark = pytest.mark.e2e


def tiny_run(tmp_path: Path) -> dict[str, Any]:
    customers = [
        {
            "customer_id": f"c{i}",
            "email": f"c{i}@example.org",
            "first_name": "Kim",
            "birthday": f"1990-03-0{1 + i % 2}",
            "timezone": "UTC",
            "consent": {"email": True},
        }
        for i in range(4)
    ]
    (tmp_path / "customers.jsonl").write_text("\n".join(json.dumps(c) for c in customers) + "\n")
    (tmp_path / "campaigns.json").write_text(json.dumps([birthday_campaign("bday")]))
    result = simulate(
        SimulationConfig(
            customers=tmp_path / "customers.jsonl",
            campaigns=tmp_path / "campaigns.json",
            start=date(2027, 3, 1),
            days=2,
            out=tmp_path / "out",
        )
    )
    assert result.report["messages"] == 4
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert written["cost"] == json.loads(json.dumps(result.report["cost"]))
    cost: dict[str, Any] = result.report["cost"]
    return cost


def test_given_a_tiny_run_when_reported_then_the_cost_figures_add_up(tmp_path: Path) -> None:
    # Given four birthday e-mails sent over two simulated days
    cost = tiny_run(tmp_path)
    per, totals = cost["per_message"], cost["totals"]
    # Then the per-message figures are the totals over the messages sent
    assert cost["messages"] == 4
    for name in ("dynamodb_write_units", "dynamodb_read_units", "sqs_requests", "events"):
        assert per[name] == pytest.approx(totals[name] / 4, abs=1e-3)
    # and the totals are the sum of the functions (the import is set-up, not per message)
    functions = cost["by_function"]
    assert sum(sum(f["dynamodb_write_units"].values()) for f in functions.values()) == (
        pytest.approx(totals["dynamodb_write_units"])
    )
    assert sum(f["invocations"] for f in functions.values()) == totals["lambda_invocations"]
    assert "ImporterFunction" in cost["setup"] and "ImporterFunction" not in functions
    # and every sent e-mail needed exactly one write on the ledger (sent, before the call),
    # none on its index; the planner's put wrote the table and the index once each
    sender = functions["SenderFunction"]["dynamodb_write_units"]
    assert sender["DeliveriesTable"] == 4
    assert "DeliveriesTable/by-send-time" not in sender
    planner = functions["PlannerFunction"]["dynamodb_write_units"]
    assert planner["DeliveriesTable"] == planner["DeliveriesTable/by-send-time"] >= 4
    assert functions["SenderFunction"]["dynamodb_read_units"]["SuppressionsTable"] > 0
    # and the dollars follow from the one price table
    usd = prices.usd(
        write_units=totals["dynamodb_write_units"],
        read_units=totals["dynamodb_read_units"],
        sqs_requests=totals["sqs_requests"],
        events=totals["events"],
        gb_seconds=totals["lambda_gb_seconds"],
        invocations=totals["lambda_invocations"],
    )["total"]
    assert cost["usd_per_million_emails_excluding_ses"] == pytest.approx(usd / 4 * 1e6, rel=1e-3)
    assert cost["prices"] == prices.PRICES
    # and the naive planner read every customer once per simulated day
    naive = cost["naive_daily_scan_planner"]
    assert naive["items_read_per_day"] == 4
    assert naive["read_units"] == pytest.approx(naive["read_units_per_day"] * 2)
