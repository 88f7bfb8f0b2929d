"""The messaging policy at send time, on moto: quiet hours hold or skip, the daily limit by
priority, the frequency cap; never more than the limits under concurrent senders and
redelivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from lifecycle.campaigns.model import parse_campaign
from lifecycle.campaigns.repository import save_campaign
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_customers
from lifecycle.messages.channels.base import ProviderError
from lifecycle.pipeline import policy as policy_step
from lifecycle.pipeline.policy import HoldError
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.store import ledger
from lifecycle.store import policy as store
from tests.builders import campaign_doc, customer_doc, email_content

KEY = b"policy-test-key"
T0 = datetime(2027, 3, 19, 0, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"  # UTC+1 in March 2027 until the 28th
POLICY: dict[str, Any] = {
    "quiet_hours": {"email": {"from": "21:00", "to": "08:00"}},
    "daily_limit": 1,
    "priority": ["post_purchase_survey", "birthday", "holiday", "inactivity"],
}


def deps() -> SendDependencies:
    from lifecycle.core.aws import client

    return SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))


def sent_count() -> int:
    from moto.ses.models import ses_backends

    return len(ses_backends["123456789012"]["us-east-1"].sent_messages)


def given_policy(document: dict[str, Any]) -> None:
    store.put_policy_record(document, T0, store.get_policy_record().version)
    store.forget_cached_policy()


def given_campaign(campaign_id: str, occasion: str, **overrides: Any) -> None:
    kinds = {"birthday": {"type": "birthday"}, "inactivity": {"type": "inactivity", "days": 30}}
    doc = campaign_doc(
        campaign_id, occasion=kinds[occasion], content=email_content("Hi", "Hello"), **overrides
    )
    save_campaign(parse_campaign(doc), T0)


def given_customer(customer_id: str = "gold") -> None:
    line = json.dumps(customer_doc(customer_id, timezone=BERLIN))
    assert import_customers([line], "customers.jsonl", T0).imported == 1


def given_item(campaign_id: str, occasion: str, local: str, customer_id: str = "gold") -> str:
    """A queued ledger item for ``local`` (Berlin wall time "YYYY-MM-DD HH:MM")."""
    at = datetime.fromisoformat(local).replace(tzinfo=UTC) - timedelta(hours=1)
    planned = ledger.PlannedDelivery(
        campaign_id=campaign_id,
        customer_id=customer_id,
        occurrence=local[:10],
        occasion=occasion,
        channel="email",
        deliver_at=at,
        local_send_time=at.astimezone(ZoneInfo(BERLIN)),
        timezone=BERLIN,
        context={"type": occasion, "date": local[:10], "days": 30, "last_active_at": None},
    )
    assert ledger.create(planned, T0, shards=1, ttl_days=400)
    return planned.delivery_id


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - timedelta(hours=1)


def item(delivery_id: str) -> ledger.Delivery:
    found = ledger.get(delivery_id)
    assert found is not None
    return found


@pytest.fixture(name="setup")
def setup_fixture(aws: Any) -> None:
    store.forget_cached_policy()
    given_customer()
    given_campaign("vip", "birthday", send_at_local="10:30")
    given_campaign("miss", "inactivity", send_at_local="09:30")
    given_campaign("bday", "birthday", send_at_local="09:00")


def test_given_lower_priority_due_earlier_when_sent_then_outranked_naming_the_later_winner(setup):
    given_policy(POLICY)
    miss = given_item("miss", "inactivity", "2027-03-20 09:30")
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    assert process_delivery(miss, at("2027-03-20 09:30"), deps()) == "skipped:outranked"
    history = item(miss).history[-1]
    assert (history.status, history.reason, history.detail) == ("skipped", "outranked", "vip")
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == ledger.SENT
    assert sent_count() == 1


def test_given_same_priority_when_both_due_then_campaign_id_decides(setup):
    given_policy(POLICY)
    bday = given_item("bday", "birthday", "2027-03-20 10:30")
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == "skipped:outranked"
    assert process_delivery(bday, at("2027-03-20 10:30"), deps()) == ledger.SENT


def test_given_no_policy_when_several_due_the_same_day_then_all_are_sent(setup):
    miss = given_item("miss", "inactivity", "2027-03-20 09:30")
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    assert process_delivery(miss, at("2027-03-20 09:30"), deps()) == ledger.SENT
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == ledger.SENT


def test_given_service_campaign_when_limit_reached_then_it_is_not_counted_or_capped(setup):
    given_policy(POLICY)
    given_campaign("receipt", "inactivity", send_at_local="09:30", category="service")
    receipt = given_item("receipt", "inactivity", "2027-03-20 10:30")
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == ledger.SENT
    assert process_delivery(receipt, at("2027-03-20 10:31"), deps()) == ledger.SENT


def test_given_two_senders_interleaved_when_cap_has_one_slot_then_exactly_one_is_sent(
    setup, monkeypatch
):
    # Given a frequency cap of one message and a worker sending "vip" whose list of the day's
    # messages was read before "bday" (same priority, first by campaign id) was planned
    given_policy({"frequency_cap": {"max_messages": 1, "per_days": 7}})
    first = given_item("vip", "birthday", "2027-03-20 10:30")
    real_count_in = store.count_in
    outcomes: list[str] = []
    interleaving: list[bool] = []

    def interleaved(budget: store.Budget, *args: Any) -> bool:
        # A second worker plans and sends "bday" between the first one's read and write.
        if not interleaving:
            interleaving.append(True)
            second = given_item("bday", "birthday", "2027-03-20 10:30")
            outcomes.append(process_delivery(second, at("2027-03-20 10:30"), deps()))
        return real_count_in(budget, *args)

    monkeypatch.setattr(store, "count_in", interleaved)
    outcomes.append(process_delivery(first, at("2027-03-20 10:30"), deps()))
    # Then the first worker's conditional write lost, it read again and was capped
    assert outcomes == ["sent", "skipped:frequency_cap"]
    assert sent_count() == 1
    assert store.get_budget("gold").counted == {"2027-03-20": ["bday#gold#2027-03-20"]}


def test_given_two_due_together_when_cap_has_one_slot_then_priority_decides_in_any_order(setup):
    given_policy({"frequency_cap": {"max_messages": 1, "per_days": 7}})
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    bday = given_item("bday", "birthday", "2027-03-20 10:30")
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == "skipped:frequency_cap"
    assert process_delivery(bday, at("2027-03-20 10:30"), deps()) == ledger.SENT


def test_given_redelivered_and_retried_message_when_sent_then_counted_once(setup, monkeypatch):
    given_policy({"daily_limit": 2, "frequency_cap": {"max_messages": 2, "per_days": 7}})
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    calls = {"n": 0}
    from lifecycle.messages.channels import email

    real_send = email.Email.send

    def flaky(self: Any, deps_: Any, message: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ProviderError("throttled", permanent=False, throttled=True)
        return real_send(self, deps_, message)

    monkeypatch.setattr(email.Email, "send", flaky)
    with pytest.raises(Exception, match="throttled"):
        process_delivery(vip, at("2027-03-20 10:30"), deps())
    assert process_delivery(vip, at("2027-03-20 10:31"), deps()) == ledger.SENT
    assert process_delivery(vip, at("2027-03-20 10:32"), deps()) == "duplicate"
    assert store.get_budget("gold").counted == {"2027-03-20": ["vip#gold#2027-03-20"]}


def test_given_provider_refuses_for_good_when_counted_then_the_slot_is_given_back(
    setup, monkeypatch
):
    given_policy(POLICY)
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    from lifecycle.messages.channels import email

    def refuse(self: Any, deps_: Any, message: Any) -> str:
        raise ProviderError("MessageRejected", permanent=True)

    monkeypatch.setattr(email.Email, "send", refuse)
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == "failed:provider_rejected"
    assert store.get_budget("gold").counted == {"2027-03-20": []}


def test_given_retry_inside_quiet_hours_when_they_end_within_the_window_then_held(setup):
    given_policy(POLICY)
    early = given_item("vip", "birthday", "2027-03-20 07:55")
    with pytest.raises(HoldError) as held:
        process_delivery(early, at("2027-03-20 07:55"), deps())
    assert held.value.seconds == 300
    assert item(early).status == ledger.QUEUED  # never claimed
    assert process_delivery(early, at("2027-03-20 08:00"), deps()) == ledger.SENT


def test_given_late_retry_after_quiet_hours_began_when_window_too_short_then_skipped(setup):
    given_policy(POLICY)
    late = given_item("vip", "birthday", "2027-03-20 20:50")
    assert process_delivery(late, at("2027-03-20 21:01"), deps()) == "skipped:quiet_hours"
    assert (item(late).status, item(late).reason) == ("skipped", "quiet_hours")
    assert sent_count() == 0


def test_given_policy_step_when_day_is_listed_then_skipped_messages_rank_nowhere(setup):
    given_policy(POLICY)
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    miss = given_item("miss", "inactivity", "2027-03-20 09:30")
    loaded = item(vip)
    loaded.update(actions=[ledger.DeliveryModel.status.set("skipped")])
    contenders = policy_step.planned_contenders(item(miss), policy_step.local_day(item(miss)))
    assert [c.campaign_id for c in contenders] == ["miss"]
    assert process_delivery(miss, at("2027-03-20 09:30"), deps()) == ledger.SENT


def test_given_counted_customer_when_erased_then_the_budget_is_deleted(setup):
    from lifecycle.features.erasure import erase_customer

    given_policy(POLICY)
    vip = given_item("vip", "birthday", "2027-03-20 10:30")
    assert process_delivery(vip, at("2027-03-20 10:30"), deps()) == ledger.SENT
    assert store.get_budget("gold").version == 1
    erase_customer("gold", at("2027-03-21 10:00"))
    assert store.get_budget("gold") == store.Budget("gold", {}, 0)


def test_given_held_message_when_sender_function_runs_then_record_fails_and_returns_when_quiet_ends(
    setup, aws, clock, monkeypatch
):
    from emulator.template import FakeLambdaContext, load_handler
    from tests.events import load_event

    given_policy(POLICY)
    early = given_item("vip", "birthday", "2027-03-20 07:55")
    clock.set(at("2027-03-20 07:55"))
    send = load_handler(aws.functions["SenderFunction"])
    inner = send
    while hasattr(inner, "__wrapped__"):
        inner = inner.__wrapped__
    delays: list[int] = []
    monkeypatch.setitem(inner.__globals__, "delay", lambda record, seconds: delays.append(seconds))
    event = load_event("sender/sqs_batch.json")
    event["Records"] = event["Records"][:1]
    event["Records"][0]["body"] = json.dumps({"delivery_id": early})
    # The record fails (a batch of one: the whole invocation), so the queue keeps it, visible
    # again when the quiet hours end (08:00)
    with pytest.raises(BatchProcessingError):
        send(event, FakeLambdaContext("SenderFunction"))
    assert delays == [300]
    assert item(early).status == ledger.QUEUED


def test_given_tables_rebound_when_policy_read_within_a_minute_then_not_served_from_cache(setup):
    from lifecycle.store import models

    given_policy(POLICY)
    now = at("2027-03-20 10:30")
    assert store.current_policy(now) is not None
    assert store.current_policy(now + timedelta(seconds=30)) is not None  # cached
    models.MessagingPolicyModel(policy_id=store.POLICY_ID).delete()
    models.configure_tables()  # as a new deployment (a test, the runner) does
    assert store.current_policy(now + timedelta(seconds=31)) is None
