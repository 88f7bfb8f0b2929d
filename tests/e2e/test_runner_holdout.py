"""End to end: a campaign's holdout through the runner, and the conversions in report.json."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from emulator.runner import SimulationConfig, dry_run, simulate
from lifecycle.rules.holdout import in_holdout
from tests.builders import birthday_campaign, customer_doc

pytestmark = pytest.mark.e2e

START = date(2027, 3, 1)
IDS = [f"c-{n:02d}" for n in range(24)]


def test_given_holdout_campaign_when_simulated_then_held_back_and_conversions_reported(
    tmp_path: Path,
):
    held = {c for c in IDS if in_holdout("bday", c, 50)}
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        "".join(json.dumps(customer_doc(c, birthday="1990-03-02")) + "\n" for c in IDS),
        encoding="utf-8",
    )
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps([birthday_campaign("bday", holdout_percent=50)]))
    # Two recipients and one held-back customer order within a week of 09:00 on Mar 2.
    buyers = sorted(set(IDS) - held)[:2] + sorted(held)[:1]
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        "".join(
            json.dumps(
                {
                    "order_id": f"o-{n}",
                    "customer_id": c,
                    "status": "placed",
                    "created_at": "2027-03-04T12:00:00Z",
                    "items": [{"sku": "S", "name": "Thing", "qty": 1, "price": 10.0}],
                    "total": 10.0,
                    "currency": "EUR",
                }
            )
            + "\n"
            for n, c in enumerate(buyers)
        ),
        encoding="utf-8",
    )
    config = SimulationConfig(customers, campaigns, START, 10, tmp_path / "sim", orders=orders)
    result = simulate(config)
    assert sorted(m["customer_id"] for m in result.messages) == sorted(set(IDS) - held)
    assert result.report["by_campaign"]["bday"] == {
        "sent": len(IDS) - len(held),
        "skipped:holdout": len(held),
    }
    figures = result.report["conversions"]["bday"]
    assert figures["recipients"] == len(IDS) - len(held)
    assert figures["holdout"] == len(held)
    assert (figures["recipient_conversions"], figures["holdout_conversions"]) == (2, 1)
    assert figures["lift"] == pytest.approx(2 / (len(IDS) - len(held)) - 1 / len(held), abs=1e-6)
    assert figures["open_windows"] == 0

    # The dry run predicts the same recipients (the holdout is a pure function).
    dry = SimulationConfig(customers, campaigns, START, 10, tmp_path / "dry")
    predicted = dry_run(dry)
    assert predicted["messages"] == len(IDS) - len(held)
    assert predicted["excluded"] == {"holdout": len(held)}
    plan = (tmp_path / "dry" / "plan.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["customer_id"] for line in plan) == sorted(set(IDS) - held)
