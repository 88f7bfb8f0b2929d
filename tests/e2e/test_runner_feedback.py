"""End to end: SES's mailbox simulator addresses through the runner, as SES would answer them.

The sender's e-mail reaches moto's SES; the runner's mailbox simulator puts the events SES
would publish on FeedbackQueue (delayed as SES and EventBridge would), and the real feedback
function moves the ledger and the suppression list. The next message to a bounced or
complaining address is skipped, and report.json counts the feedback per campaign.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig, simulate
from tests.builders import campaign_doc, customer_doc, email_content

pytestmark = pytest.mark.e2e

SIM = "simulator.amazonses.com"


def _run(tmp: Path, customers: list[dict[str, Any]], campaigns: list[dict[str, Any]], days: int):
    (tmp / "customers.jsonl").write_text(
        "\n".join(json.dumps(c) for c in customers) + "\n", encoding="utf-8"
    )
    (tmp / "campaigns.json").write_text(json.dumps(campaigns), encoding="utf-8")
    return simulate(
        SimulationConfig(
            customers=tmp / "customers.jsonl",
            campaigns=tmp / "campaigns.json",
            start=date(2027, 3, 1),
            days=days,
            out=tmp / "out",
        )
    )


def _customers() -> list[dict[str, Any]]:
    return [
        customer_doc("ok", email=f"success+ok@{SIM}", birthday="1990-03-01"),
        customer_doc("away", email=f"ooto@{SIM}", birthday="1990-03-01"),
        customer_doc("gone", email=f"bounce+gone@{SIM}", birthday="1990-03-01"),
        customer_doc("angry", email=f"complaint+angry@{SIM}", birthday="1990-03-01"),
        customer_doc("listed", email=f"suppressionlist@{SIM}", birthday="1990-03-01"),
        customer_doc("plain", email="plain@example.com", birthday="1990-03-01"),
    ]


def _campaigns() -> list[dict[str, Any]]:
    # Two birthday campaigns on the same day: the second sends two hours after the first,
    # when SES's events of the first have arrived (a complaint comes 10 minutes late).
    return [
        campaign_doc("bday", content=email_content("Hi", "Happy birthday")),
        campaign_doc("later", send_at_local="11:00", content=email_content("Hi", "Still")),
    ]


def test_given_simulator_addresses_when_simulated_then_ses_feedback_moves_ledger_and_suppresses(
    tmp_path,
):
    result = _run(tmp_path, _customers(), _campaigns(), days=1)
    report = result.report

    # 09:00: every birthday e-mail is accepted; SES's events then move the simulator ones.
    assert report["feedback"]["bday"] == {"delivered": 3, "bounced": 2, "complained": 1}
    assert report["by_campaign"]["bday"] == {
        "bounced:bounce_permanent": 2,
        "complained": 1,
        "delivered": 2,
        "sent": 1,  # plain@example.com: no simulator address, no events in the runner
    }
    # 11:00: the bounced and complaining addresses get nothing more.
    assert report["by_campaign"]["later"] == {
        "delivered": 2,
        "sent": 1,
        "skipped:suppressed_bounce": 2,
        "skipped:suppressed_complaint": 1,
    }
    assert report["feedback"]["later"] == {"delivered": 2, "bounced": 0, "complained": 0}
    later_to = sorted(m["to"] for m in result.messages if m["campaign_id"] == "later")
    assert later_to == ["ooto@" + SIM, "plain@example.com", "success+ok@" + SIM]
    assert report["integrity"]["lost"] == 0
    assert report["integrity"]["sent"] == 9
    assert report["integrity"]["skipped"] == 3
    assert report["integrity"]["received_not_sent"] == []
    assert report["invocations"]["FeedbackFunction"] >= 1


def test_given_redelivery_when_simulated_then_same_feedback_and_states(tmp_path):
    (tmp_path / "once").mkdir()
    (tmp_path / "twice").mkdir()
    once = _run(tmp_path / "once", _customers(), _campaigns(), days=1)
    twice = simulate(
        SimulationConfig(
            customers=tmp_path / "once" / "customers.jsonl",
            campaigns=tmp_path / "once" / "campaigns.json",
            start=date(2027, 3, 1),
            days=1,
            out=tmp_path / "twice" / "out",
            redeliver=True,
        )
    )
    assert twice.report["feedback"] == once.report["feedback"]
    assert twice.report["by_campaign"] == once.report["by_campaign"]
    assert twice.report["integrity"]["duplicates"] == 0


def test_given_no_simulator_address_when_simulated_then_no_events_and_empty_feedback(tmp_path):
    result = _run(
        tmp_path,
        [customer_doc("plain", birthday="1990-03-01")],
        [campaign_doc("bday")],
        days=1,
    )
    assert result.report["feedback"] == {"bday": {"delivered": 0, "bounced": 0, "complained": 0}}
    assert result.report["by_campaign"] == {"bday": {"sent": 1}}
    assert "FeedbackFunction" not in result.report["invocations"]
