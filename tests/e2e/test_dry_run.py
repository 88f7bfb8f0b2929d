"""The dry run lists exactly what the simulation then sends, and sends nothing itself."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from emulator.runner import SimulationConfig, dry_run, simulate
from tests.builders import campaign_doc, email_content

pytestmark = pytest.mark.e2e

CUSTOMERS = [
    {
        "customer_id": "kiri",
        "email": "kiri@example.org",
        "first_name": "Tebwa",
        "timezone": "Pacific/Kiritimati",
        "country": "KI",
        "birthday": "1996-02-29",
        "consent": {"email": True},
        "attributes": {"tier": "gold"},
    },
    {
        "customer_id": "ny",
        "email": "ny@example.org",
        "first_name": "Kim",
        "locale": "de-AT",
        "timezone": "America/New_York",
        "country": "US",
        "birthday": "1990-03-14",
        "consent": {"email": True, "sms": True},
        "phone": "+12025550143",
        "last_active_at": "2027-02-01T12:00:00Z",
    },
    {
        "customer_id": "cn",
        "email": "cn@example.org",
        "first_name": "芳",
        "last_name": "王",
        "locale": "zh-CN",
        "timezone": "Asia/Shanghai",
        "country": "CN",
        "birthday": "--03-01",
        "consent": {"email": False},
    },
    {
        "customer_id": "de",
        "email": "de@example.org",
        "first_name": "Lena",
        "locale": "de-DE",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "consent": {"email": True},
        "last_active_at": "2027-02-10T08:00:00Z",
    },
]
CAMPAIGNS = [
    campaign_doc(
        "bday",
        name="Birthday",
        occasion={"type": "birthday", "feb29": "mar1"},
        channels=["email", "sms"],
        offer={"percent_off": 15, "valid_days": 10, "code_prefix": "HB"},
        content={
            "email": {
                "en": {
                    "subject": "Happy birthday {{ first_name }}",
                    "text": "{{ offer.code }} until {{ offer.valid_until }}",
                },
                "zh-CN": {"subject": "生日快乐", "text": "{{ offer.code }}"},
            },
            "sms": {"en": {"text": "Happy birthday {{ first_name }}: {{ offer.code }}"}},
        },
    ),
    campaign_doc(
        "easter",
        name="Easter",
        occasion={"type": "holiday", "countries": ["DE", "US"], "holidays": ["Easter Monday"]},
        send_at_local="10:00",
        content=email_content("{{ holiday.name }}", "Hi"),
    ),
    campaign_doc(
        "miss",
        name="Miss you",
        occasion={"type": "inactivity", "days": 30},
        audience={"attr": "country", "in": ["DE"]},
        send_at_local="18:00",
        content=email_content("We miss you", "{{ occasion.days }}"),
    ),
]


def test_given_same_data_when_dry_run_then_plan_equals_what_simulate_sends(tmp_path: Path):
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in CUSTOMERS) + "\n", encoding="utf-8"
    )
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS, ensure_ascii=False), encoding="utf-8")

    def config(out: str) -> SimulationConfig:
        return SimulationConfig(customers, campaigns, date(2027, 2, 27), 35, tmp_path / out)

    outcome = dry_run(config("dry"))
    simulate(config("sim"))
    fields = (
        "customer_id",
        "campaign_id",
        "occasion",
        "channel",
        "to",
        "subject",
        "text",
        "sent_at",
        "local_time",
    )
    plan = [json.loads(line) for line in (tmp_path / "dry" / "plan.jsonl").read_text().splitlines()]
    sent = [
        json.loads(line)
        for line in (tmp_path / "sim" / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(tuple(p[f] for f in fields) for p in plan) == sorted(
        tuple(s[f] for f in fields) for s in sent
    )
    assert {(p["campaign_id"], p["customer_id"], p["channel"]) for p in plan} == {
        ("bday", "kiri", "email"),
        ("bday", "ny", "email"),
        ("bday", "ny", "sms"),
        ("easter", "de", "email"),
        ("miss", "de", "email"),
    }
    excluded = [
        json.loads(line) for line in (tmp_path / "dry" / "excluded.jsonl").read_text().splitlines()
    ]
    assert sorted((e["campaign_id"], e["customer_id"], e["reason"]) for e in excluded) == [
        ("bday", "cn", "no_consent"),  # e-mail consent refused
        ("bday", "cn", "no_consent"),  # no SMS consent given
        ("bday", "kiri", "no_consent"),  # SMS: consent is checked before the address
        ("miss", "ny", "not_in_audience"),
    ]
    assert outcome["messages"] == 5
    assert not (tmp_path / "dry" / "messages.jsonl").exists()


def test_given_csv_customers_when_simulated_then_imported_like_jsonl(tmp_path: Path):
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "customer_id,email,first_name,timezone,birthday,consent_email,attr_tier\n"
        "c-1,ana@example.org,Ana,Europe/Madrid,1990-03-01,true,gold\n"
        "c-2,bad,Bob,UTC,1990-03-01,true,\n"
        "c-3,cy@example.org,Cy,UTC,1990-03-01,no,\n",
        encoding="utf-8",
    )
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps([dict(CAMPAIGNS[0], channels=["email"])]), encoding="utf-8")
    result = simulate(SimulationConfig(csv_file, campaigns, date(2027, 2, 28), 3, tmp_path / "o"))
    assert [m["customer_id"] for m in result.messages] == ["c-1"]
    assert [(r["line"], r["id"]) for r in result.report["rejected"]] == [(3, "c-2")]
    assert result.report["by_campaign"]["bday"] == {"sent": 1, "skipped:no_consent": 1}
