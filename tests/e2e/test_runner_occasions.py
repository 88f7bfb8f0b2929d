"""End to end: holidays, reminders, surveys and SMS through the local runner."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig, simulate
from tests.builders import campaign_doc, email_content

pytestmark = pytest.mark.e2e


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def _run(
    tmp: Path,
    name: str,
    customers: list[Any],
    campaigns: list[Any],
    start: str,
    days: int,
    *,
    orders: list[Any] | None = None,
    events: list[Any] | None = None,
    responses: list[Any] | None = None,
    redeliver: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    folder = tmp / name
    folder.mkdir()
    campaigns_file = folder / "campaigns.json"
    campaigns_file.write_text(json.dumps(campaigns, ensure_ascii=False), encoding="utf-8")
    config = SimulationConfig(
        customers=_write(folder / "customers.jsonl", customers),
        campaigns=campaigns_file,
        start=date.fromisoformat(start),
        days=days,
        out=folder / "out",
        redeliver=redeliver,
        orders=_write(folder / "orders.jsonl", orders) if orders is not None else None,
        events=_write(folder / "events.jsonl", events) if events is not None else None,
        responses=_write(folder / "responses.jsonl", responses) if responses is not None else None,
    )
    simulate(config)
    lines = (folder / "out" / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines], json.loads(
        (folder / "out" / "report.json").read_text(encoding="utf-8")
    )


def _customer(cid: str, country: str, tz: str, locale: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "email": f"{cid}@example.org",
        "first_name": cid.upper(),
        "country": country,
        "timezone": tz,
        "locale": locale,
        "consent": {"email": True, "sms": True},
        **extra,
    }


def test_given_lunar_year_and_dst_when_holidays_simulated_then_greeted_once_on_the_day(tmp_path):
    customers = [
        _customer("cn", "CN", "Asia/Shanghai", "zh-CN", phone="+8613800138000"),
        _customer("de", "DE", "Europe/Berlin", "de-DE"),
        _customer("us", "US", "America/New_York", "en-US"),
        _customer("nocountry", "US", "UTC", "en") | {"country": None},
    ]
    campaign = campaign_doc(
        "greetings",
        name="Greetings",
        occasion={
            "type": "holiday",
            "countries": ["CN", "DE"],
            "holidays": ["Chinese New Year (Spring Festival)", "Easter Monday"],
        },
        channels=["email", "sms"],
        send_at_local="10:00",
        content={
            "email": {
                "en": {"subject": "Happy {{ holiday.name }}!", "text": "Best wishes."},
                "zh-CN": {"subject": "{{ holiday.name }}快乐！", "text": "祝福您。"},
            },
            "sms": {"zh-CN": {"text": "{{ holiday.name }}快乐！"}},
        },
    )
    lunar, _ = _run(tmp_path, "lunar", customers, [campaign], "2028-01-24", 6)
    got = sorted((m["customer_id"], m["channel"], m["local_time"], m["subject"]) for m in lunar)
    assert got == [
        ("cn", "email", "2028-01-26T10:00:00+08:00", "春节快乐！"),
        ("cn", "sms", "2028-01-26T10:00:00+08:00", None),
    ]
    sms = next(m for m in lunar if m["channel"] == "sms")
    assert sms["text"] == "春节快乐！ 回复TD退订。" and sms["to"] == "+8613800138000"
    easter, report = _run(tmp_path, "easter", customers, [campaign], "2027-03-27", 4)
    assert [(m["customer_id"], m["channel"], m["sent_at"], m["local_time"]) for m in easter] == [
        ("de", "email", "2027-03-29T08:00:00Z", "2027-03-29T10:00:00+02:00"),  # CEST since 28th
    ]
    assert report["by_campaign"]["greetings"] == {"sent": 1, "skipped:no_address": 1}


SHOP_CAMPAIGNS: list[dict[str, Any]] = [
    campaign_doc(
        "miss-you",
        name="We miss you",
        occasion={"type": "inactivity", "days": 30},
        send_at_local="18:00",
        content=email_content("We miss you", "{{ occasion.days }} days"),
    ),
    campaign_doc(
        "restock",
        name="Restock",
        occasion={"type": "replenishment", "days_after_purchase": 10, "skus": ["COFFEE-1KG"]},
        content=email_content("Restock {{ product.name }}?", "Order {{ order.order_id }}"),
    ),
    campaign_doc(
        "nps",
        name="NPS",
        occasion={
            "type": "post_purchase_survey",
            "delay_days": 3,
            "kind": "nps",
            "throttle_days": 30,
        },
        send_at_local="11:00",
        content=email_content("How did we do?", "{{ survey_url }}"),
    ),
]
SHOP_CUSTOMERS = [
    _customer("a", "DE", "Europe/Berlin", "de-DE", last_active_at="2027-01-01T12:00:00Z"),
    _customer("b", "US", "America/New_York", "en-US", last_active_at="2027-01-01T12:00:00Z"),
    _customer("c", "US", "UTC", "en", last_active_at="2026-06-01T12:00:00Z"),
    # No orders: "we miss you" 30 days after their last activity (d), unless they come back
    # the afternoon before (e). a and b ordered on Jan 10, which counts as activity.
    _customer("d", "DE", "Europe/Berlin", "de-DE", last_active_at="2027-01-01T12:00:00Z"),
    _customer("e", "US", "America/New_York", "en-US", last_active_at="2027-01-01T12:00:00Z"),
]
ORDERS = [
    {
        "order_id": "o-1",
        "customer_id": "a",
        "status": "delivered",
        "created_at": "2027-01-10T10:00:00Z",
        "delivered_at": "2027-01-12T15:00:00Z",
        "items": [{"sku": "COFFEE-1KG", "name": "Coffee", "qty": 1, "price": 15}],
        "total": 15,
        "currency": "EUR",
    },
    {
        "order_id": "o-2",
        "customer_id": "b",
        "status": "delivered",
        "created_at": "2027-01-10T10:00:00Z",
        "delivered_at": "2027-01-12T15:00:00Z",
        "items": [{"sku": "COFFEE-1KG", "name": "Coffee"}],
    },
    {
        "order_id": "o-3",
        "customer_id": "b",
        "status": "delivered",
        "created_at": "2027-01-18T10:00:00Z",
        "delivered_at": "2027-01-19T15:00:00Z",
        "items": [{"sku": "COFFEE-1KG", "name": "Coffee"}],
    },
    {
        "order_id": "o-4",
        "customer_id": "c",
        "status": "returned",
        "created_at": "2027-01-10T10:00:00Z",
        "delivered_at": "2027-01-11T15:00:00Z",
        "returned_at": "2027-01-13T10:00:00Z",
        "items": [{"sku": "MUG"}],
    },
    {
        "order_id": "o-5",
        "customer_id": "c",
        "status": "cancelled",
        "created_at": "2027-01-12T10:00:00Z",
        "items": [{"sku": "COFFEE-1KG"}],
    },
    {"order_id": "bad", "customer_id": "c", "status": "lost", "created_at": "2027-01-12T10:00:00Z"},
]
EVENTS = [
    {"customer_id": "e", "type": "login", "at": "2027-01-31T15:00:00Z"},  # before 18:00 EST
    {"customer_id": "e", "type": "login", "at": "2027-01-31T15:00:00Z"},  # duplicate
    {"customer_id": "ghost", "type": "login", "at": "2027-01-20T15:00:00Z"},
]
RESPONSES = [
    {"customer_id": "a", "campaign_id": "nps", "score": 10, "at": "2027-01-17T12:00:00Z"},
    {
        "customer_id": "b",
        "campaign_id": "nps",
        "score": 2,
        "comment": "late",
        "at": "2027-01-17T12:00:00Z",
    },
    {"customer_id": "b", "campaign_id": "nps", "score": 6, "at": "2027-01-18T12:00:00Z"},
    {"customer_id": "c", "campaign_id": "nps", "score": 9, "at": "2027-01-18T12:00:00Z"},
    {"customer_id": "a", "campaign_id": "nps", "score": 11, "at": "2027-01-19T12:00:00Z"},
]


def test_given_shop_activity_when_simulated_then_reminders_surveys_and_cancellations(tmp_path):
    messages, report = _run(
        tmp_path,
        "shop",
        SHOP_CUSTOMERS,
        SHOP_CAMPAIGNS,
        "2027-01-08",
        30,
        orders=ORDERS,
        events=EVENTS,
        responses=RESPONSES,
    )
    got = [(m["campaign_id"], m["customer_id"], m["local_time"]) for m in messages]
    assert got == [
        ("nps", "a", "2027-01-15T11:00:00+01:00"),
        ("nps", "b", "2027-01-15T11:00:00-05:00"),
        ("restock", "a", "2027-01-22T09:00:00+01:00"),
        ("restock", "b", "2027-01-29T09:00:00-05:00"),  # o-3's reminder; o-2's was repurchased
        ("miss-you", "d", "2027-01-31T18:00:00+01:00"),
    ]
    assert report["by_campaign"] == {
        "miss-you": {"sent": 1, "skipped:active_again": 1},
        "nps": {"sent": 2, "skipped:order_returned": 1, "skipped:survey_throttled": 1},
        "restock": {"sent": 2, "skipped:repurchased": 1},
    }
    assert report["surveys"]["nps"] == {
        "sent": 2,
        "responses": 2,
        "nps": -0.0,
        "csat": None,
        "promoters": 1,
        "passives": 0,
        "detractors": 1,
    }
    rejected = {(r["source"], r["line"]): r["reason"] for r in report["rejected"]}
    assert rejected[("orders.jsonl", 6)].startswith("status:")
    assert rejected[("responses.jsonl", 4)].startswith("no survey of nps received")
    assert rejected[("responses.jsonl", 5)] == "survey endpoint answered 400"
    assert report["inputs"]["survey_answers_accepted"] == 3  # a, b, b again (an update)


def test_given_redelivery_when_shop_simulated_then_output_identical(tmp_path):
    once, report_once = _run(
        tmp_path,
        "once",
        SHOP_CUSTOMERS,
        SHOP_CAMPAIGNS,
        "2027-01-08",
        30,
        orders=ORDERS,
        events=EVENTS,
        responses=RESPONSES,
    )
    twice, report_twice = _run(
        tmp_path,
        "twice",
        SHOP_CUSTOMERS,
        SHOP_CAMPAIGNS,
        "2027-01-08",
        30,
        orders=ORDERS,
        events=EVENTS,
        responses=RESPONSES,
        redeliver=True,
    )
    assert once == twice
    for key in ("by_campaign", "surveys", "rejected", "messages"):
        assert report_once[key] == report_twice[key]
