"""Holdouts and conversions on moto: the planner holds back a fixed share, the stats compare
the recipients' orders with the holdout's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lifecycle.core.aws import client
from lifecycle.core.clock import utc_iso
from lifecycle.core.settings import get_settings
from lifecycle.features.conversions import campaign_conversions
from lifecycle.features.dryrun import estimate
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.features.insights import campaign_stats, explain_absence
from lifecycle.pipeline.planner import PlanSettings, plan_dated
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.rules.holdout import in_holdout
from lifecycle.store import ledger
from lifecycle.store.models import OrderModel
from tests.builders import birthday_campaign, customer_doc

KEY = b"integration-test-signing-key"
T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
SEND = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
SETTINGS = PlanSettings(shards=4, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15))
IDS = [f"c-{n:03d}" for n in range(40)]


def _order(order_id: str, customer_id: str, at: datetime, total: float, **extra: Any) -> None:
    OrderModel(
        order_id=order_id,
        customer_id=customer_id,
        status=extra.pop("status", "placed"),
        created_at=utc_iso(at),
        total=total,
        currency="EUR",
        **extra,
    ).save()


@pytest.fixture
def planned(aws):
    campaign = birthday_campaign(holdout_percent=50, attribution_days=7)
    import_campaigns(json.dumps([campaign]), "campaigns.json", T0)
    lines = [json.dumps(customer_doc(c, birthday="1990-03-14")) for c in IDS]
    lines.append(json.dumps(customer_doc("c-nocon", birthday="1990-03-14", consent={})))
    assert import_customers(lines, "customers.jsonl", T0).imported == len(IDS) + 1
    return plan_dated(T0, KEY, SETTINGS)


def _groups() -> tuple[list[str], list[str]]:
    held = [c for c in IDS if in_holdout("bday-2027", c, 50)]
    return [c for c in IDS if c not in held], held


def test_given_holdout_percent_when_planned_then_exactly_the_drawn_customers_are_held_out(
    planned,
):
    sending, held = _groups()
    assert 10 <= len(held) <= 30  # about half of 40
    assert planned.created == {"queued": len(sending), "holdout": len(held), "no_consent": 1}
    for customer_id in held:
        item = ledger.get(f"bday-2027#{customer_id}#2027#email")
        assert item is not None and (item.status, item.reason) == ("skipped", "holdout")
        assert item.coupon_code is None  # no code is minted for a held-back message
        assert item.deliver_at == "2027-03-14T09:00:00Z"  # when it would have been sent
    # Without consent nobody enters the experiment: the reason stays no_consent.
    item = ledger.get("bday-2027#c-nocon#2027#email")
    assert item is not None and item.reason == "no_consent"


def test_given_held_out_customer_when_asked_why_not_then_holdout_is_named(planned):
    _sending, held = _groups()
    assert "holdout" in explain_absence(held[0], "bday-2027")


def test_given_holdout_when_estimated_then_held_out_customers_are_counted_apart(planned):
    sending, held = _groups()
    from lifecycle.campaigns.repository import get_stored

    stored = get_stored("bday-2027")
    assert stored is not None
    result = estimate(stored.campaign, T0)
    assert result["reachable"] == {"email": len(sending)}
    assert result["holdout"] == {"email": len(held)}


def test_given_orders_after_sends_when_stats_read_then_conversions_and_lift(planned):
    deps = SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))
    sending, held = _groups()
    for customer_id in sending:
        assert process_delivery(f"bday-2027#{customer_id}#2027#email", SEND, deps) == "sent"
    # Recipients: 4 buy within 7 days (one twice), one after 8 days, one before the send.
    for n, customer_id in enumerate(sending[:4]):
        _order(f"o-r{n}", customer_id, SEND + timedelta(days=2), 20.0)
    _order("o-r-again", sending[0], SEND + timedelta(days=3), 10.0)
    _order("o-r-late", sending[4], SEND + timedelta(days=8), 99.0)
    _order("o-r-early", sending[5], SEND - timedelta(hours=1), 99.0)
    _order("o-r-cancel", sending[6], SEND + timedelta(days=1), 99.0, status="cancelled")
    # Holdout: 1 buys within the window of the moment it would have been sent.
    _order("o-h0", held[0], SEND + timedelta(days=6, hours=23), 30.0)
    _order("o-h-late", held[1], SEND + timedelta(days=7, minutes=1), 30.0)

    now = SEND + timedelta(days=10)
    result = campaign_conversions("bday-2027", 7, now)
    assert result["recipients"] == len(sending)
    assert result["holdout"] == len(held)
    assert result["recipient_conversions"] == 4
    assert result["holdout_conversions"] == 1
    assert result["recipient_rate"] == pytest.approx(4 / len(sending), abs=1e-6)
    assert result["holdout_rate"] == pytest.approx(1 / len(held), abs=1e-6)
    assert result["lift"] == pytest.approx(4 / len(sending) - 1 / len(held), abs=1e-6)
    low, high = result["lift_ci95"]
    assert low < result["lift"] < high
    assert result["revenue_per_recipient"] == {"EUR": round(90.0 / len(sending), 2)}
    assert result["revenue_per_holdout_member"] == {"EUR": round(30.0 / len(held), 2)}
    assert result["open_windows"] == 0

    # Two days after sending the windows are open and count the orders seen so far.
    early = campaign_conversions("bday-2027", 7, SEND + timedelta(days=2, hours=1))
    assert early["open_windows"] == len(sending) + len(held)
    assert early["recipient_conversions"] == 4
    assert early["holdout_conversions"] == 0

    stats = campaign_stats("bday-2027")
    assert stats["skipped"]["holdout"] == len(held)
    assert stats["conversions"]["attribution_days"] == 7


def test_given_no_holdout_when_stats_read_then_no_lift(aws):
    import_campaigns(json.dumps([birthday_campaign()]), "campaigns.json", T0)
    result = campaign_conversions("bday-2027", 7, T0)
    assert (result["recipients"], result["holdout"], result["lift"], result["lift_ci95"]) == (
        0,
        0,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"holdout_percent": 51}, "holdout_percent"),
        ({"holdout_percent": -1}, "holdout_percent"),
        ({"holdout_percent": True}, "holdout_percent"),
        ({"holdout_percent": "10"}, "holdout_percent"),
        ({"attribution_days": 0}, "attribution_days"),
        ({"attribution_days": 91}, "attribution_days"),
        ({"attribution_days": 7.0}, "attribution_days"),
    ],
)
def test_given_bad_holdout_fields_when_parsed_then_field_error(changes, field):
    from lifecycle.campaigns.model import CampaignError, parse_campaign

    with pytest.raises(CampaignError) as caught:
        parse_campaign(birthday_campaign(**changes))
    assert [error.field for error in caught.value.errors] == [field]
