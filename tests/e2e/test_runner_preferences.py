"""End to end: customers use the links of their last e-mail (--preferences) and the pipeline
skips what they switched off (topic_unsubscribed, unsubscribed)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig, simulate
from tests.builders import campaign_doc, email_content

pytestmark = pytest.mark.e2e

# Two weekly reminders (inactivity 7 and 14 days, topic "inactivity"), a birthday e-mail
# (topic "birthday") and a custom-topic broadcast on a named date (topic "newsletter").
CAMPAIGNS = [
    campaign_doc(
        "miss-7",
        occasion={"type": "inactivity", "days": 7},
        content=email_content("We miss you", "Come back {{ preferences_url }}"),
    ),
    campaign_doc(
        "miss-14",
        occasion={"type": "inactivity", "days": 14},
        content=email_content("We still miss you", "Come back"),
    ),
    campaign_doc("bday", content=email_content("Happy birthday", "Hi")),
]


def _customer(cid: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "email": f"{cid}@example.com",
        "timezone": "UTC",
        "consent": {"email": True},
        "last_active_at": "2027-03-01T08:00:00Z",
        "birthday": "1990-03-12",
        **extra,
    }


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("redeliver", [False, True], ids=["once", "redelivered"])
def test_given_preference_changes_when_simulated_then_skips_follow_them(
    tmp_path: Path, redeliver: bool
):
    customers = [_customer(f"c-{n}") for n in range(1, 5)]
    prefs = [
        # After the first reminder (Mar 8, 09:00): one click in it switches "inactivity" off.
        {"customer_id": "c-1", "at": "2027-03-08T12:00:00Z", "action": "one_click"},
        # The page: birthday off (the reminder is still wanted).
        {
            "customer_id": "c-2",
            "at": "2027-03-08T12:00:00Z",
            "action": "topic_off",
            "topic": "birthday",
        },
        # Everything off.
        {"customer_id": "c-3", "at": "2027-03-08T12:00:00Z", "action": "all_off"},
        # Off, then on again before the next one.
        {
            "customer_id": "c-4",
            "at": "2027-03-08T12:00:00Z",
            "action": "topic_off",
            "topic": "inactivity",
        },
        {
            "customer_id": "c-4",
            "at": "2027-03-10T12:00:00Z",
            "action": "topic_on",
            "topic": "inactivity",
        },
        # Cannot be done: before any e-mail, a topic the page does not offer, unreadable.
        {"customer_id": "c-1", "at": "2027-03-07T12:00:00Z", "action": "all_off"},
        {
            "customer_id": "c-2",
            "at": "2027-03-09T12:00:00Z",
            "action": "topic_off",
            "topic": "newsletter",
        },
        {"customer_id": "c-2", "at": "2027-03-09T12:00:00Z", "action": "maybe"},
    ]
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS), encoding="utf-8")
    config = SimulationConfig(
        customers=_write(tmp_path / "customers.jsonl", customers),
        campaigns=campaigns,
        start=date(2027, 3, 7),
        days=9,
        out=tmp_path / "out",
        preferences=_write(tmp_path / "prefs.jsonl", prefs),
        redeliver=redeliver,  # every request twice (a double click): the same outcome
    )
    simulate(config)
    sent = [
        json.loads(line) for line in (tmp_path / "out" / "messages.jsonl").read_text().splitlines()
    ]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    got = sorted((m["customer_id"], m["campaign_id"]) for m in sent)
    assert got == [
        ("c-1", "bday"),
        ("c-1", "miss-7"),
        ("c-2", "miss-14"),
        ("c-2", "miss-7"),
        ("c-3", "miss-7"),
        ("c-4", "bday"),
        ("c-4", "miss-14"),
        ("c-4", "miss-7"),
    ]
    assert report["by_campaign"]["miss-14"]["skipped:topic_unsubscribed"] == 1  # c-1
    assert report["by_campaign"]["miss-14"]["skipped:unsubscribed"] == 1  # c-3
    assert report["by_campaign"]["bday"]["skipped:topic_unsubscribed"] == 1  # c-2
    assert report["by_campaign"]["bday"]["skipped:unsubscribed"] == 1  # c-3
    rejected = {(r["id"], r["line"]): r["reason"] for r in report["rejected"]}
    assert rejected[("c-1", 6)].startswith("no e-mail received before")
    assert rejected[("c-2", 7)] == "the page offers no topic newsletter on email"
    assert rejected[("c-2", 8)].startswith("action:")
    # The footer of every marketing e-mail links to the preference centre.
    assert all("/p/" in m["text"] for m in sent)
