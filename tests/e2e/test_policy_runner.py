"""The runner with --policy: the simulation outranks, caps and keeps quiet hours, and the dry
run predicts exactly what it sends and why it skips."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.config import InputError
from emulator.runner import SimulationConfig, dry_run, simulate
from tests.builders import campaign_doc, email_content

pytestmark = pytest.mark.e2e

CUSTOMERS = [
    {
        "customer_id": "gold",
        "email": "gold@example.org",
        "phone": "+4915112345678",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "birthday": "1990-03-20",
        "consent": {"email": True, "sms": True},
        "last_active_at": "2027-02-20T10:00:00Z",
        "attributes": {"tier": "gold"},
    },
    {
        "customer_id": "night",
        "email": "night@example.org",
        "timezone": "Europe/Berlin",
        "birthday": "1985-03-28",  # the day Berlin skips 02:00-03:00
        "consent": {"email": True},
    },
]
CAMPAIGNS = [
    campaign_doc(
        "bday",
        channels=["email", "sms"],
        content={**email_content("Happy birthday", "Hi"), "sms": {"en": {"text": "Happy bday"}}},
        audience={"attr": "customer_id", "in": ["gold"]},
    ),
    campaign_doc(
        "vip",
        send_at_local="10:30",
        audience={"attr": "attributes.tier", "eq": "gold"},
        content=email_content("VIP birthday", "Hi"),
    ),
    campaign_doc(
        "miss",
        occasion={"type": "inactivity", "days": 30},
        send_at_local="18:00",
        content=email_content("We miss you", "Hi"),
    ),
    campaign_doc(
        "night",
        send_at_local="02:30",  # outside 03:00-08:00, but 03:30 on the DST day
        audience={"attr": "customer_id", "in": ["night"]},
        content=email_content("Early bird", "Hi"),
    ),
]
POLICY: dict[str, Any] = {
    "quiet_hours": {"email": {"from": "03:00", "to": "08:00"}},
    "daily_limit": 1,
    "frequency_cap": {"max_messages": 1, "per_days": 7},
    "priority": ["birthday", "inactivity"],
}
FIELDS = ("customer_id", "campaign_id", "channel", "to", "subject", "text", "sent_at", "local_time")


def files(tmp_path: Path, policy: dict[str, Any] | str) -> tuple[Path, Path, Path]:
    customers = tmp_path / "customers.jsonl"
    customers.write_text("\n".join(json.dumps(c) for c in CUSTOMERS) + "\n", encoding="utf-8")
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS), encoding="utf-8")
    policy_file = tmp_path / "policy.json"
    text = policy if isinstance(policy, str) else json.dumps(policy)
    policy_file.write_text(text, encoding="utf-8")
    return customers, campaigns, policy_file


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_given_policy_when_simulated_then_dry_run_predicts_sends_and_skips_exactly(tmp_path):
    customers, campaigns, policy = files(tmp_path, POLICY)

    def config(out: str) -> SimulationConfig:
        return SimulationConfig(
            customers, campaigns, date(2027, 3, 18), 12, tmp_path / out, policy=policy
        )

    dry_run(config("dry"))
    result = simulate(config("sim"))
    plan = lines(tmp_path / "dry" / "plan.jsonl")
    sent = lines(tmp_path / "sim" / "messages.jsonl")
    assert sorted(tuple(p[f] for f in FIELDS) for p in plan) == sorted(
        tuple(s[f] for f in FIELDS) for s in sent
    )
    # On 2027-03-20 the gold customer gets one birthday message (e-mail and SMS of one
    # occurrence; "bday" ranks before "vip" by campaign id), "we miss you" is outranked; the
    # inactivity reminder of Mar 22 finds the 7-day cap used; the 02:30 send of Mar 28 falls
    # at 03:30 (DST) inside the quiet hours.
    assert {(s["campaign_id"], s["customer_id"], s["channel"]) for s in sent} == {
        ("bday", "gold", "email"),
        ("bday", "gold", "sms"),
    }
    excluded = sorted(
        (e["campaign_id"], e["customer_id"], e["reason"])
        for e in lines(tmp_path / "dry" / "excluded.jsonl")
    )
    assert ("vip", "gold", "outranked") in excluded
    assert ("night", "night", "quiet_hours") in excluded
    skipped = {
        (campaign, status)
        for campaign, counts in result.report["by_campaign"].items()
        for status in counts
        if status.startswith("skipped:")
    }
    assert {
        ("vip", "skipped:outranked"),
        ("night", "skipped:quiet_hours"),
    } <= skipped
    miss_reasons = {e[2] for e in excluded if e[0] == "miss" and e[1] == "gold"}
    miss_simulated = {s for c, s in skipped if c == "miss"}
    assert {f"skipped:{r}" for r in miss_reasons} == miss_simulated
    assert miss_reasons <= {"outranked", "frequency_cap"} and miss_reasons


def test_given_bad_policy_file_when_simulated_then_clear_error_naming_the_field(tmp_path):
    customers, campaigns, policy = files(tmp_path, {"daily_limit": 0, "priorty": []})
    config = SimulationConfig(
        customers, campaigns, date(2027, 3, 18), 1, tmp_path / "o", policy=policy
    )
    with pytest.raises(InputError) as caught:
        simulate(config)
    assert "daily_limit" in str(caught.value) and "priorty: unknown field" in str(caught.value)
    customers, campaigns, policy = files(tmp_path, "{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        simulate(config)
