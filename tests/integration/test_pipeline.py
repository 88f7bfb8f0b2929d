"""Plan -> ledger -> dispatch -> send on moto tables built from template.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.pipeline import sender as sender_module
from lifecycle.pipeline.dispatcher import dispatch_due
from lifecycle.pipeline.planner import PlanSettings, plan_dated
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.store import ledger

KEY = b"integration-test-signing-key"
T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
SETTINGS = PlanSettings(shards=4, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15))

CAMPAIGN = {
    "campaign_id": "bday-2027",
    "name": "Birthday 20% off",
    "status": "active",
    "occasion": {"type": "birthday", "feb29": "feb28"},
    "channels": ["email"],
    "send_at_local": "09:00",
    "default_timezone": "UTC",
    "offer": {"percent_off": 20, "valid_days": 14, "code_prefix": "BDAY"},
    "content": {
        "email": {
            "en": {
                "subject": "Happy birthday, {{ first_name }}!",
                "text": "{{ offer.percent_off }}%: {{ offer.code }} until {{ offer.valid_until }}",
            },
            "de": {"subject": "Alles Gute, {{ first_name }}!", "text": "{{ offer.code }}"},
        }
    },
}


def _customer(cid: str, **extra: object) -> str:
    record: dict[str, object] = {
        "customer_id": cid,
        "email": f"{cid}@example.com",
        "first_name": "Ana",
        "timezone": "America/New_York",
        "birthday": "1990-03-14",
        "consent": {"email": True},
        "locale": "de-DE",
    }
    record.update(extra)
    return json.dumps(record)


def _sent_raw() -> list[str]:
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends["123456789012"]["us-east-1"].sent_messages]


@pytest.fixture
def deps(aws):
    return SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))


@pytest.fixture
def seeded(aws):
    import_campaigns(json.dumps([CAMPAIGN]), "campaigns.json", T0)
    lines = [
        _customer("c-001"),
        _customer("c-002", consent={"email": False}),
        _customer("c-003", birthday="1990-03-15"),
        _customer("c-004", timezone=None),
    ]
    result = import_customers(lines, "customers.jsonl", T0)
    assert result.imported == 4 and not result.rejected
    report = plan_dated(T0, KEY, SETTINGS)
    return report


def test_given_birthdays_when_planned_then_one_ledger_item_each_with_reason_for_skips(seeded):
    assert seeded.created == {"queued": 2, "no_consent": 1}
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None
    assert item.deliver_at == "2027-03-14T13:00:00Z"  # 09:00 EDT, first day of DST
    assert item.local_send_time == "2027-03-14T09:00:00-04:00"
    assert item.coupon_code and item.coupon_code.startswith("BDAY-")
    assert item.offer_valid_until == "2027-03-27"
    fallback = ledger.get("bday-2027#c-004#2027#email")
    assert fallback is not None and fallback.deliver_at == "2027-03-14T09:00:00Z"  # default UTC
    skipped = ledger.get("bday-2027#c-002#2027#email")
    assert skipped is not None and (skipped.status, skipped.reason) == ("skipped", "no_consent")


def test_given_planned_when_planner_runs_again_then_nothing_new(seeded):
    again = plan_dated(T0, KEY, SETTINGS)
    assert sum(again.created.values()) == 0
    assert again.customers_read == 0  # the cursor already covers these dates


def test_given_due_items_when_dispatched_then_queued_once(aws, seeded):
    sqs = client("sqs")
    url = get_settings().send_queue_url
    early = dispatch_due(T0 + timedelta(hours=8, minutes=55), sqs=sqs, queue_url=url, shards=4)
    assert early.enqueued == 0
    at = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    first = dispatch_due(at, sqs=sqs, queue_url=url, shards=4)
    assert first.enqueued == 2  # c-004 (09:00 UTC) and c-001 (13:00 UTC)
    again = dispatch_due(at, sqs=sqs, queue_url=url, shards=4)
    assert again.enqueued == 0


def test_given_claimed_item_when_processed_twice_then_one_message(seeded, deps):
    now = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    assert process_delivery("bday-2027#c-001#2027#email", now, deps) == "sent"
    assert process_delivery("bday-2027#c-001#2027#email", now, deps) == "duplicate"
    raw = _sent_raw()
    assert len(raw) == 1
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw[0]
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None and item.status == "sent" and item.sent_at == "2027-03-14T13:00:00Z"
    # One write after the planner's put: sent, recorded just before the provider call.
    assert [h.status for h in item.history] == ["queued", "sent"]


def test_given_crash_after_provider_accepted_when_retried_then_no_second_send(
    seeded, deps, monkeypatch
):
    now = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)

    def crash(*args, **kwargs):
        raise RuntimeError("Lambda timed out")

    # The worker dies right after SES accepted the e-mail (nothing is written after it).
    monkeypatch.setattr(sender_module, "_emit_sent", crash)
    with pytest.raises(RuntimeError):
        process_delivery("bday-2027#c-001#2027#email", now, deps)
    monkeypatch.undo()
    # The queue delivers the id again: the item already says sent.
    assert process_delivery("bday-2027#c-001#2027#email", now + timedelta(seconds=30), deps) == (
        "duplicate"
    )
    assert len(_sent_raw()) == 1
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None and item.status == "sent"


def test_given_provider_call_dies_unexpectedly_when_sending_email_then_outcome_unknown_not_resent(
    seeded, deps, monkeypatch
):
    now = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    email = sender_module.channel_for("email")

    def broken(*args, **kwargs):
        raise ConnectionResetError("connection reset mid-request")

    monkeypatch.setattr(type(email), "send", broken)
    assert process_delivery("bday-2027#c-001#2027#email", now, deps) == "failed:outcome_unknown"
    monkeypatch.undo()
    assert process_delivery("bday-2027#c-001#2027#email", now, deps) == "duplicate"
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None and (item.status, item.reason) == ("failed", "outcome_unknown")
    assert item.sent_at is None
    assert _sent_raw() == []


def test_given_unsubscribe_after_planning_when_sending_then_skipped(seeded, deps):
    from lifecycle.store.customers import record_unsubscribe

    now = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    assert record_unsubscribe("c-001", "email", now - timedelta(hours=1))
    assert process_delivery("bday-2027#c-001#2027#email", now, deps) == "skipped:unsubscribed"
    assert _sent_raw() == []


def test_given_reimport_after_unsubscribe_when_sending_then_still_skipped(seeded, deps):
    from lifecycle.store.customers import record_unsubscribe

    now = datetime(2027, 3, 14, 12, 0, tzinfo=UTC)
    record_unsubscribe("c-001", "email", now)
    import_customers([_customer("c-001")], "again.jsonl", now)  # says consent true again
    assert (
        process_delivery("bday-2027#c-001#2027#email", now + timedelta(hours=1), deps)
        == "skipped:unsubscribed"
    )


def test_given_paused_campaign_when_sending_then_skipped_campaign_inactive(seeded, deps):
    paused = dict(CAMPAIGN, status="paused")
    import_campaigns(json.dumps([paused]), "campaigns.json", T0)
    now = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    assert process_delivery("bday-2027#c-001#2027#email", now, deps) == "skipped:campaign_inactive"


def test_given_late_queue_message_when_sending_then_skipped_send_window_missed(seeded, deps):
    late = datetime(2027, 3, 14, 13, 16, tzinfo=UTC)
    assert (
        process_delivery("bday-2027#c-001#2027#email", late, deps) == "skipped:send_window_missed"
    )


def test_given_message_when_sent_then_localized_with_coupon_and_local_date(seeded, deps):
    from email import message_from_string, policy

    now = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    process_delivery("bday-2027#c-001#2027#email", now, deps)
    message = message_from_string(_sent_raw()[0], policy=policy.default)
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None
    assert message["Subject"] == "Alles Gute, Ana!"
    assert message["Date"] == "Sun, 14 Mar 2027 09:00:00 -0400"
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    body = part.get_content()
    assert item.coupon_code in body
    assert message["X-LCM-Delivery-Id"] == "bday-2027#c-001#2027#email"
    assert message["List-Unsubscribe"].startswith("<https://")
