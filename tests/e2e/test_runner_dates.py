"""End to end: customers' named dates (signup anniversaries, renewal reminders) in the runner."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig, dry_run, simulate
from tests.builders import campaign_doc, customer_doc, email_content

pytestmark = pytest.mark.e2e

START = date(2027, 2, 22)  # Monday; 2027 is not a leap year
DAYS = 28  # up to 2027-03-22 00:00 UTC

CAMPAIGNS = [
    campaign_doc(
        "anniv",
        name="Signup anniversary",
        occasion={"type": "date", "date": "signup", "repeat": "yearly", "feb29": "mar1"},
        content=email_content(
            "Year {{ occasion.years }} with us, {{ first_name }}!",
            "You joined on {{ occasion.date }}; today is {{ occasion.on }}.",
        ),
    ),
    campaign_doc(
        "renew",
        name="Renewal reminder",
        occasion={"type": "date", "date": "renewal", "repeat": "once", "offset_days": -7},
        send_at_local="10:00",
        content=email_content(
            "Your plan renews on {{ occasion.on }}", "In a week, {{ first_name }}."
        ),
    ),
]


def _c(cid: str, tz: str, dates: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    record = customer_doc(cid, first_name=cid.title(), timezone=tz, **extra)
    if dates is not None:
        record["dates"] = dates
    return record


CUSTOMERS = [
    _c("leap", "UTC", {"signup": "2024-02-29"}),  # Mar 1 in 2027 (feb29: mar1)
    _c("berlin", "Europe/Berlin", {"signup": "2020-03-05"}),
    _c("ny", "America/New_York", {"signup": "2015-03-14"}),  # US DST starts that day
    _c("tokyo", "Asia/Tokyo", {"signup": "2026-02-25"}),  # first anniversary
    _c("both", "UTC", {"signup": "2010-03-20", "renewal": "2027-03-20"}),
    _c("kiri", "Pacific/Kiritimati", {"signup": "2019-03-22"}),  # 03-21 19:00 UTC: inside
    _c("kiri-early", "Pacific/Kiritimati", {"signup": "2020-02-22"}),  # before the start
    _c("this-year", "UTC", {"signup": "2027-03-10"}),  # never in the year of the date
    _c("future", "UTC", {"signup": "2029-03-10"}),
    _c("april", "UTC", {"signup": "2020-04-15"}),  # after the period
    _c("no-dates", "UTC"),
    _c("no-consent", "UTC", {"signup": "2020-03-02"}, consent={"email": False}),
    _c("renew-a", "UTC", {"renewal": "2027-03-10"}),
    _c("renew-b", "Europe/Berlin", {"renewal": "2027-03-01"}),  # reminder on the first day
    _c("renew-past", "UTC", {"renewal": "2027-02-25"}),  # its reminder day had passed
    _c("renew-late", "UTC", {"renewal": "2027-04-01"}),  # reminder after the period
    _c("renew-2028", "UTC", {"renewal": "2028-03-10"}),
    _c("bad", "UTC", {"signup": "2027-02-30"}),  # rejected
]

EXPECTED = [
    # (customer, campaign, local time, subject)
    ("renew-b", "renew", "2027-02-22T10:00:00+01:00", "Your plan renews on 2027-03-01"),
    ("tokyo", "anniv", "2027-02-25T09:00:00+09:00", "Year 1 with us, Tokyo!"),
    ("leap", "anniv", "2027-03-01T09:00:00+00:00", "Year 3 with us, Leap!"),
    ("renew-a", "renew", "2027-03-03T10:00:00+00:00", "Your plan renews on 2027-03-10"),
    ("berlin", "anniv", "2027-03-05T09:00:00+01:00", "Year 7 with us, Berlin!"),
    ("both", "renew", "2027-03-13T10:00:00+00:00", "Your plan renews on 2027-03-20"),
    ("ny", "anniv", "2027-03-14T09:00:00-04:00", "Year 12 with us, Ny!"),
    ("both", "anniv", "2027-03-20T09:00:00+00:00", "Year 17 with us, Both!"),
    ("kiri", "anniv", "2027-03-22T09:00:00+14:00", "Year 8 with us, Kiri!"),
]
FIELDS = ("customer_id", "campaign_id", "occasion", "channel", "to", "subject", "text")


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    customers = tmp_path / "customers.jsonl"
    customers.write_text("".join(json.dumps(c) + "\n" for c in CUSTOMERS), encoding="utf-8")
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS, indent=2), encoding="utf-8")
    return customers, campaigns


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_given_named_dates_when_simulated_then_anniversaries_and_reminders_on_the_day(
    tmp_path: Path, inputs: tuple[Path, Path]
):
    customers, campaigns = inputs
    result = simulate(SimulationConfig(customers, campaigns, START, DAYS, tmp_path / "sim"))
    got = sorted(
        (m["customer_id"], m["campaign_id"], m["local_time"], m["subject"]) for m in result.messages
    )
    assert got == sorted(EXPECTED)
    by_id = {(m["customer_id"], m["campaign_id"]): m for m in result.messages}
    assert by_id[("ny", "anniv")]["sent_at"] == "2027-03-14T13:00:00Z"  # 09:00 EDT
    assert by_id[("kiri", "anniv")]["sent_at"] == "2027-03-21T19:00:00Z"
    assert by_id[("leap", "anniv")]["text"].startswith(
        "You joined on 2024-02-29; today is 2027-03-01."
    )
    assert all(m["channel"] == "email" and m["occasion"] == "date" for m in result.messages)
    report = result.report
    assert report["by_campaign"] == {
        "anniv": {"sent": 6, "skipped:no_consent": 1},
        "renew": {"sent": 3},
    }
    assert [(r["id"], r["reason"].split(":")[0]) for r in report["rejected"]] == [
        ("bad", "dates.signup")
    ]
    assert report["imported"] == {"customers": len(CUSTOMERS) - 1, "campaigns": 2}
    planner = report["planner"]
    assert planner["ledger_items_created"] == len(EXPECTED) + 1
    assert planner["customers_read"] <= 1.5 * planner["ledger_items_created"], planner


def test_given_named_dates_when_dry_run_then_plan_equals_what_simulate_sends(
    tmp_path: Path, inputs: tuple[Path, Path]
):
    customers, campaigns = inputs
    outcome = dry_run(SimulationConfig(customers, campaigns, START, DAYS, tmp_path / "dry"))
    result = simulate(SimulationConfig(customers, campaigns, START, DAYS, tmp_path / "sim"))
    plan = _rows(tmp_path / "dry" / "plan.jsonl")
    sent = _rows(tmp_path / "sim" / "messages.jsonl")
    key = (*FIELDS, "sent_at", "local_time")
    assert sorted(tuple(p[f] for f in key) for p in plan) == sorted(
        tuple(s[f] for f in key) for s in sent
    )
    assert len(plan) == len(result.messages) == len(EXPECTED)
    assert outcome["messages"] == len(EXPECTED)
    assert outcome["excluded"] == {"no_consent": 1}
    assert [
        (e["campaign_id"], e["customer_id"]) for e in _rows(tmp_path / "dry" / "excluded.jsonl")
    ] == [("anniv", "no-consent")]
    assert [(r["id"], r["reason"].split(":")[0]) for r in outcome["rejected"]] == [
        ("bad", "dates.signup")
    ]
    assert not (tmp_path / "dry" / "messages.jsonl").exists()
