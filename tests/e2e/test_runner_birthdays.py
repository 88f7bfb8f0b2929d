"""End to end through the local runner: real handlers, real event shapes, simulated clock."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import InputError, SimulationConfig, simulate
from tests.builders import birthday_campaign

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def campaign(cid: str, **overrides: Any) -> dict[str, Any]:
    doc = birthday_campaign(
        cid,
        name=f"Campaign {cid}",
        content={
            "email": {
                "en": {
                    "subject": "Happy birthday, {{ first_name or 'friend' }}!",
                    "text": "{{ offer.percent_off }}% off with {{ offer.code }} "
                    "until {{ offer.valid_until }}.",
                },
                "de": {"subject": "Alles Gute, {{ first_name }}!", "text": "Code {{ offer.code }}"},
                "zh-CN": {
                    "subject": "{{ first_name }}，生日快乐！",
                    "text": "优惠码 {{ offer.code }}",
                },
            }
        },
    )
    doc.update(overrides)
    return doc


def customer(cid: str, birthday: str, tz: str | None = "UTC", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "customer_id": cid,
        "email": f"{cid}@example.org",
        "first_name": "Kim",
        "birthday": birthday,
        "consent": {"email": True},
    }
    if tz:
        record["timezone"] = tz
    record.update(extra)
    return record


def run(
    tmp_path: Path,
    customers: list[Any],
    campaigns: list[Any],
    start: str,
    days: int,
    *,
    redeliver: bool = False,
    name: str = "out",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    customers_file = tmp_path / "customers.jsonl"
    customers_file.write_text(
        "\n".join(c if isinstance(c, str) else json.dumps(c, ensure_ascii=False) for c in customers)
        + "\n",
        encoding="utf-8",
    )
    campaigns_file = tmp_path / "campaigns.json"
    campaigns_file.write_text(json.dumps(campaigns, ensure_ascii=False, indent=2), encoding="utf-8")
    out = tmp_path / name
    simulate(
        SimulationConfig(
            customers_file,
            campaigns_file,
            date.fromisoformat(start),
            days,
            out,
            redeliver=redeliver,
        )
    )
    lines = (out / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return [json.loads(line) for line in lines], report


def by_customer(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        result.setdefault(message["customer_id"], []).append(message)
    return result


def test_given_non_leap_year_when_simulated_then_feb29_rules_and_extreme_timezones(tmp_path):
    customers = [
        customer("leap-kiri", "1996-02-29", "Pacific/Kiritimati"),
        customer("leap-pago", "--02-29", "Pacific/Pago_Pago"),
        customer("feb28-ny", "1980-02-28", "America/New_York"),
        customer("mar1-utc", "1970-03-01", None),
    ]
    campaigns = [
        campaign("feb28"),
        campaign("mar1", occasion={"type": "birthday", "feb29": "mar1"}, send_at_local="10:30"),
    ]
    messages, report = run(tmp_path, customers, campaigns, "2027-02-26", 5)
    got = {(m["campaign_id"], m["customer_id"]): (m["local_time"], m["sent_at"]) for m in messages}
    assert got == {
        ("feb28", "leap-kiri"): ("2027-02-28T09:00:00+14:00", "2027-02-27T19:00:00Z"),
        ("feb28", "leap-pago"): ("2027-02-28T09:00:00-11:00", "2027-02-28T20:00:00Z"),
        ("feb28", "feb28-ny"): ("2027-02-28T09:00:00-05:00", "2027-02-28T14:00:00Z"),
        ("feb28", "mar1-utc"): ("2027-03-01T09:00:00+00:00", "2027-03-01T09:00:00Z"),
        ("mar1", "leap-kiri"): ("2027-03-01T10:30:00+14:00", "2027-02-28T20:30:00Z"),
        ("mar1", "leap-pago"): ("2027-03-01T10:30:00-11:00", "2027-03-01T21:30:00Z"),
        ("mar1", "feb28-ny"): ("2027-02-28T10:30:00-05:00", "2027-02-28T15:30:00Z"),
        ("mar1", "mar1-utc"): ("2027-03-01T10:30:00+00:00", "2027-03-01T10:30:00Z"),
    }
    assert report["messages"] == 8
    assert report["by_campaign"] == {"feb28": {"sent": 4}, "mar1": {"sent": 4}}


def test_given_leap_year_when_simulated_then_feb29_birthdays_on_feb29(tmp_path):
    customers = [customer("leap", "2000-02-29", "Europe/Berlin"), customer("feb28", "1999-02-28")]
    campaigns = [
        campaign("feb28"),
        campaign("mar1", occasion={"type": "birthday", "feb29": "mar1"}),
    ]
    messages, _ = run(tmp_path, customers, campaigns, "2028-02-27", 4)
    got = sorted((m["campaign_id"], m["customer_id"], m["local_time"]) for m in messages)
    assert got == [
        ("feb28", "feb28", "2028-02-28T09:00:00+00:00"),
        ("feb28", "leap", "2028-02-29T09:00:00+01:00"),
        ("mar1", "feb28", "2028-02-28T09:00:00+00:00"),
        ("mar1", "leap", "2028-02-29T09:00:00+01:00"),
    ]


def test_given_consent_locale_and_dst_when_simulated_then_right_people_language_and_minute(
    tmp_path,
):
    customers = [
        customer("ny-dst", "1990-03-14", "America/New_York", locale="de-AT", first_name="Lena"),
        customer("no-consent", "1990-03-14", consent={"email": False}),
        customer("no-consent-object", "1990-03-14", consent=None),
        customer("no-email", "1990-03-14", email=None),
        customer("zh", "1990-03-14", "Asia/Shanghai", locale="zh-CN", first_name="王芳"),
        customer("ko", "1990-03-14", "Asia/Seoul", locale="ko-KR"),
        customer("other-day", "1990-03-20"),
    ]
    messages, report = run(tmp_path, customers, [campaign("bday")], "2027-03-13", 3)
    sent = by_customer(messages)
    assert set(sent) == {"ny-dst", "zh", "ko"}
    ny = sent["ny-dst"][0]
    assert (ny["sent_at"], ny["local_time"]) == (
        "2027-03-14T13:00:00Z",
        "2027-03-14T09:00:00-04:00",
    )
    assert ny["subject"] == "Alles Gute, Lena!"
    assert sent["zh"][0]["subject"] == "王芳，生日快乐！"
    assert sent["zh"][0]["local_time"] == "2027-03-14T09:00:00+08:00"
    assert sent["ko"][0]["subject"] == "Happy birthday, Kim!"  # falls back to the first locale
    assert ny["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ny["headers"]["List-Unsubscribe"].startswith("<https://")
    assert ny["to"] == "ny-dst@example.org"
    codes = {m["customer_id"]: m["text"].split("with ")[-1] for m in messages}
    assert len(set(codes.values())) == 3
    assert report["by_campaign"]["bday"] == {
        "sent": 3,
        "skipped:no_address": 1,
        "skipped:no_consent": 2,
    }


def test_given_redelivery_when_simulated_then_output_identical(tmp_path):
    customers = [
        customer(f"c-{i}", f"1990-03-{14 + i % 3:02d}", tz)
        for i, tz in enumerate(
            [
                "UTC",
                "Asia/Kolkata",
                "America/Los_Angeles",
                "Pacific/Kiritimati",
                "Pacific/Pago_Pago",
                "Asia/Kathmandu",
            ]
        )
    ]
    campaigns = [campaign("bday")]
    once, report_once = run(tmp_path, customers, campaigns, "2027-03-13", 5, name="once")
    twice, report_twice = run(
        tmp_path, customers, campaigns, "2027-03-13", 5, redeliver=True, name="twice"
    )
    assert len(once) == 6
    strip = [{k: v for k, v in m.items() if k != "headers"} for m in once]
    assert strip == [{k: v for k, v in m.items() if k != "headers"} for m in twice]
    assert [m["headers"]["Message-ID"] for m in once] == [m["headers"]["Message-ID"] for m in twice]
    assert report_once["by_campaign"] == report_twice["by_campaign"]
    assert (
        report_twice["invocations"]["PlannerFunction"]
        == 2 * report_once["invocations"]["PlannerFunction"]
    )


def test_given_invalid_records_when_simulated_then_rejected_with_reasons_and_rest_runs(tmp_path):
    customers: list[Any] = [
        customer("good", "1990-03-14"),
        customer("feb30", "1990-02-30"),
        customer("mars", "1990-03-14", "Mars/Olympus_Mons"),
        customer("bad-mail", "1990-03-14", email="ana@@example.com"),
        {"email": "nobody@example.com", "birthday": "1990-03-14"},
        '{"customer_id": "broken", ',
    ]
    campaigns = [
        campaign("bday"),
        campaign("broken", content={"email": {"en": {"subject": "Hi", "text": "{{ coupon }}"}}}),
    ]
    messages, report = run(tmp_path, customers, campaigns, "2027-03-13", 2)
    assert [m["customer_id"] for m in messages] == ["good"]
    rejected = {(r["source"], r["line"]): r for r in report["rejected"]}
    assert rejected[("customers.jsonl", 2)]["reason"].startswith("birthday:")
    assert rejected[("customers.jsonl", 2)]["id"] == "feb30"
    assert rejected[("customers.jsonl", 3)]["reason"].startswith("timezone:")
    assert rejected[("customers.jsonl", 4)]["reason"].startswith("email:")
    assert rejected[("customers.jsonl", 5)]["reason"].startswith("customer_id:")
    assert rejected[("customers.jsonl", 6)]["reason"].startswith("record:")
    broken = [r for r in report["rejected"] if r["source"] == "campaigns.json"]
    assert len(broken) == 1 and broken[0]["id"] == "broken" and "coupon" in broken[0]["reason"]
    assert broken[0]["line"] > 1
    assert report["imported"] == {"customers": 1, "campaigns": 1}


def test_given_malformed_campaigns_file_when_simulated_then_clear_error(tmp_path):
    (tmp_path / "customers.jsonl").write_text(json.dumps(customer("a", "1990-03-14")) + "\n")
    (tmp_path / "campaigns.json").write_text('[{"campaign_id": ')
    config = SimulationConfig(
        tmp_path / "customers.jsonl",
        tmp_path / "campaigns.json",
        date(2027, 3, 13),
        1,
        tmp_path / "out",
    )
    with pytest.raises(InputError, match=r"campaigns.json: not valid JSON"):
        simulate(config)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "missing.jsonl"], "customers file not found"),
        (["--start", "2027-02-30"], "is not a date"),
        (["--days", "0"], "--days must be between"),
    ],
)
def test_given_bad_command_line_when_run_then_exit_2_without_traceback(tmp_path, args, message):
    (tmp_path / "c.jsonl").write_text("")
    (tmp_path / "k.json").write_text("[]")
    base = {
        "--customers": str(tmp_path / "c.jsonl"),
        "--campaigns": str(tmp_path / "k.json"),
        "--start": "2027-03-01",
        "--days": "1",
        "--out": str(tmp_path / "o"),
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [sys.executable, "-m", "emulator", "simulate"]
    for key, value in base.items():
        argv += [key, value]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
