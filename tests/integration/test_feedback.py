"""Deliverability feedback end to end on moto: send -> SES event -> ledger, suppression list,
the next plan and send skip; reconciliation, duplicates, campaign pause and bad input.

The SES events are the fixtures of ``events/feedback/`` (EventBridge events as the rule puts
them on FeedbackQueue) with the message id and delivery tag of a message really sent here.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.campaigns.repository import change_status, get_stored
from lifecycle.core import settings as settings_module
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.features.insights import campaign_stats, customer_history
from lifecycle.messages.tags import delivery_tags
from lifecycle.rules.deliverability import address_key
from lifecycle.store import ledger, suppressions
from lifecycle.store.customers import get_customer
from tests.builders import campaign_doc, customer_doc, email_content
from tests.events import load_event

T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
SEND_0314 = datetime(2027, 3, 14, 9, 0, 30, tzinfo=UTC)
BDAY = campaign_doc("bday-2027", content=email_content("Happy birthday!", "Hi {{ first_name }}"))
RENEWAL = campaign_doc(
    "renewal",
    occasion={"type": "date", "date": "renewal", "repeat": "once"},
    content=email_content("Your plan renews", "Hi"),
)
SHARED = "c-001@example.com"


def _id(campaign: str, customer: str, occurrence: str = "2027") -> str:
    return f"{campaign}#{customer}#{occurrence}#email"


def ctx(name: str) -> FakeLambdaContext:
    return FakeLambdaContext(function_name=name)


@pytest.fixture
def world(aws, clock):
    import_campaigns(json.dumps([BDAY, RENEWAL]), "campaigns.json", T0)
    customers = [
        customer_doc(
            "c-001", birthday="1990-03-14", timezone="UTC", dates={"renewal": "2027-03-16"}
        ),
        customer_doc("c-002", birthday="1990-03-14", timezone="UTC"),
        customer_doc("c-003", birthday="1990-03-16", timezone="UTC", email=SHARED.upper()),
        customer_doc("c-004", birthday="1990-03-14", timezone="UTC"),
        customer_doc("c-005", birthday="1990-03-14", timezone="UTC"),
    ]
    result = import_customers([json.dumps(c) for c in customers], "customers.jsonl", T0)
    assert result.imported == 5, result.rejected
    plan(aws, clock, T0)
    return aws


def plan(aws: Any, clock: Any, at: datetime) -> dict[str, Any]:
    clock.set(at)
    function = load_handler(aws.functions["PlannerFunction"])
    report: dict[str, Any] = function(load_event("planner/scheduled.json"), ctx("planner"))
    return report


def send(aws: Any, clock: Any, at: datetime, *delivery_ids: str) -> dict[str, Any]:
    clock.set(at)
    event = load_event("sender/sqs_batch.json")
    template = event["Records"][0]
    event["Records"] = []
    for number, delivery_id in enumerate(delivery_ids):
        record = copy.deepcopy(template)
        record["messageId"] = f"send-{number}-{delivery_id}"
        record["body"] = json.dumps({"delivery_id": delivery_id})
        event["Records"].append(record)
    result: dict[str, Any] = load_handler(aws.functions["SenderFunction"])(event, ctx("sender"))
    return result


def ses_event(kind: str, delivery_id: str | None, to: str, **bounce: Any) -> dict[str, Any]:
    """The fixture ``events/feedback/<kind>.json`` for the message of ``delivery_id`` to
    ``to`` (its SES message id from the ledger); ``delivery_id`` None: no delivery tag."""
    envelope = load_event(f"feedback/{kind}.json")
    mail = envelope["detail"]["mail"]
    tags = {k: v for k, v in mail["tags"].items() if not k.startswith("delivery")}
    if delivery_id is not None:
        tags.update({t["Name"]: [t["Value"]] for t in delivery_tags(delivery_id)})
        item = ledger.get(delivery_id)
        if item is not None and item.provider_message_id:
            mail["messageId"] = item.provider_message_id
    mail["tags"] = tags
    mail["destination"] = [to]
    detail = envelope["detail"]
    for part, key in (("bounce", "bouncedRecipients"), ("complaint", "complainedRecipients")):
        if part in detail:
            detail[part][key] = [{**detail[part][key][0], "emailAddress": to}]
    if "delivery" in detail:
        detail["delivery"]["recipients"] = [to]
    if bounce:
        detail["bounce"].update(bounce)
    return envelope


def sqs(*envelopes: dict[str, Any] | str) -> dict[str, Any]:
    event = load_event("feedback/sqs_batch.json")
    template = event["Records"][0]
    records = []
    for number, envelope in enumerate(envelopes):
        record = copy.deepcopy(template)
        body = envelope if isinstance(envelope, str) else json.dumps(envelope)
        record["messageId"] = f"feedback-{number}"
        record["body"] = body
        record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()  # noqa: S324 - SQS's
        records.append(record)
    return {"Records": records}


def feedback(aws: Any, clock: Any, at: datetime, *envelopes: dict[str, Any] | str) -> Any:
    clock.set(at)
    return load_handler(aws.functions["FeedbackFunction"])(sqs(*envelopes), ctx("feedback"))


def status(delivery_id: str) -> tuple[str, str | None]:
    item = ledger.get(delivery_id)
    assert item is not None
    return item.status, item.reason


def history(delivery_id: str) -> list[tuple[str, str | None]]:
    item = ledger.get(delivery_id)
    assert item is not None
    return [(h.status, h.reason) for h in item.history]


NO_FAILURES: dict[str, list[Any]] = {"batchItemFailures": []}


# ---------------------------------------------------------------- delivered


def test_given_sent_email_when_ses_reports_delivery_then_item_delivered_history_and_stats(
    world, clock
):
    delivery = _id("bday-2027", "c-001")
    assert send(world, clock, SEND_0314, delivery) == NO_FAILURES
    later = SEND_0314 + timedelta(seconds=5)

    result = feedback(world, clock, later, ses_event("delivery", delivery, "c-001@example.com"))

    assert result == NO_FAILURES
    assert status(delivery) == ("delivered", None)
    assert history(delivery)[-2:] == [("sent", None), ("delivered", None)]
    stats = campaign_stats("bday-2027")
    counts = (stats["sent"], stats["delivered"], stats["bounced"], stats["complained"])
    assert counts == (1, 1, 0, 0)
    assert stats["delivery_rate"] == 1.0
    entry = customer_history("c-001", "bday-2027")["deliveries"][0]
    assert entry["status"] == "delivered"


def test_given_outcome_unknown_when_ses_reports_delivery_then_reconciled_to_delivered(world, clock):
    delivery = _id("bday-2027", "c-001")
    item = ledger.get(delivery)
    assert item is not None
    ledger.claim(item, SEND_0314, 300)
    ledger.mark_failed(item, SEND_0314, ledger.OUTCOME_UNKNOWN, "SES ReadTimeoutError")
    assert campaign_stats("bday-2027")["failed"] == {"outcome_unknown": 1}

    event = ses_event("delivery", delivery, "c-001@example.com")
    result = feedback(world, clock, SEND_0314 + timedelta(seconds=9), event)

    assert result == NO_FAILURES
    assert status(delivery) == ("delivered", None)
    assert history(delivery)[-3:] == [
        ("failed", "outcome_unknown"),
        ("sent", "outcome_unknown_reconciled"),
        ("delivered", None),
    ]
    reconciled = ledger.get(delivery)
    assert reconciled is not None
    assert reconciled.provider_message_id == event["detail"]["mail"]["messageId"]
    assert reconciled.sent_at == "2027-03-13T09:00:01Z"  # SES's mail.timestamp
    stats = campaign_stats("bday-2027")
    assert stats["failed"] == {} and stats["delivered"] == 1


def test_given_outcome_unknown_when_ses_reports_send_then_reconciled_to_sent(world, clock):
    delivery = _id("bday-2027", "c-001")
    item = ledger.get(delivery)
    assert item is not None
    ledger.claim(item, SEND_0314, 300)
    ledger.mark_failed(item, SEND_0314, ledger.OUTCOME_UNKNOWN, "SES ReadTimeoutError")

    feedback(world, clock, SEND_0314, ses_event("send", delivery, "c-001@example.com"))

    assert status(delivery) == ("sent", None)
    assert history(delivery)[-1] == ("sent", "outcome_unknown_reconciled")


def test_given_item_being_sent_when_event_arrives_then_retried_later_and_applied_after_lease(
    world, clock
):
    delivery = _id("bday-2027", "c-001")
    item = ledger.get(delivery)
    assert item is not None
    ledger.claim(item, SEND_0314, 300)  # a worker holds it (and may have died)
    event = ses_event("delivery", delivery, "c-001@example.com")

    early = feedback(world, clock, SEND_0314 + timedelta(seconds=5), event)
    assert early == {"batchItemFailures": [{"itemIdentifier": "feedback-0"}]}
    assert status(delivery) == ("sending", None)

    late = feedback(world, clock, SEND_0314 + timedelta(minutes=6), event)  # lease expired
    assert late == NO_FAILURES
    assert status(delivery) == ("delivered", None)
    assert ("sent", "outcome_unknown_reconciled") in history(delivery)
    assert send(world, clock, SEND_0314 + timedelta(minutes=7), delivery) == NO_FAILURES
    assert status(delivery) == ("delivered", None)  # the sender sees it final: no resend


# ---------------------------------------------------------------- bounces


def test_given_permanent_bounce_when_applied_then_address_suppressed_and_next_plan_and_send_skip(
    world, clock
):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    event = ses_event("bounce_permanent", delivery, "c-001@example.com")

    assert feedback(world, clock, SEND_0314 + timedelta(seconds=4), event) == NO_FAILURES

    assert status(delivery) == ("bounced", "bounce_permanent")
    key = address_key(SHARED)
    assert key is not None
    listed = suppressions.lookup(key)
    assert listed is not None and (listed.suppressed, listed.reason) == (True, "bounce")
    customer = get_customer("c-001")
    assert customer is not None and customer["suppressed"]["email"]["reason"] == "bounce"
    # Plan time: c-001's renewal (03-16) is planned as skipped; c-003 (same address, no flag
    # of its own) is planned and then skipped by the sender's look-up of the list.
    report = plan(world, clock, datetime(2027, 3, 15, 0, 0, tzinfo=UTC))
    assert report["created"].get("suppressed_bounce") == 1
    assert status(_id("renewal", "c-001", "renewal:2027-03-16")) == ("skipped", "suppressed_bounce")
    assert status(_id("bday-2027", "c-003")) == ("queued", None)
    send(world, clock, datetime(2027, 3, 16, 9, 0, 30, tzinfo=UTC), _id("bday-2027", "c-003"))
    assert status(_id("bday-2027", "c-003")) == ("skipped", "suppressed_bounce")
    stats = campaign_stats("bday-2027")
    assert (stats["bounced"], stats["bounced_by_type"]) == (1, {"bounce_permanent": 1})
    assert stats["skipped"] == {"suppressed_bounce": 1}


def test_given_suppression_list_bounce_when_applied_then_suppressed_like_a_permanent_bounce(
    world, clock
):
    delivery = _id("bday-2027", "c-002")
    send(world, clock, SEND_0314, delivery)
    feedback(
        world, clock, SEND_0314, ses_event("bounce_suppression_list", delivery, "c-002@example.com")
    )
    assert status(delivery) == ("bounced", "bounce_permanent")
    key = address_key("c-002@example.com")
    assert key is not None
    listed = suppressions.lookup(key)
    assert listed is not None and listed.suppressed


def test_given_transient_bounces_when_three_within_30_days_then_suppressed_not_before(world, clock):
    delivery = _id("bday-2027", "c-002")
    send(world, clock, SEND_0314, delivery)
    key = address_key("c-002@example.com")
    assert key is not None
    moments = ["2027-03-14T10:00:00Z", "2027-03-20T10:00:00Z", "2027-04-10T10:00:00Z"]
    events = [
        ses_event(
            "bounce_transient", delivery, "c-002@example.com", feedbackId=f"fb-{n}", timestamp=t
        )
        for n, t in enumerate(moments)
    ]
    feedback(world, clock, SEND_0314, events[0])
    feedback(world, clock, SEND_0314, events[0])  # the same bounce again: counted once
    feedback(world, clock, SEND_0314, events[1])
    listed = suppressions.lookup(key)
    assert listed is not None and (listed.suppressed, listed.transient_bounces) == (False, 2)
    assert status(delivery) == ("bounced", "bounce_transient")
    customer = get_customer("c-002")
    assert customer is not None and customer["suppressed"] == {}

    feedback(world, clock, SEND_0314, events[2])

    listed = suppressions.lookup(key)
    assert listed is not None and (listed.suppressed, listed.reason) == (True, "bounce")
    customer = get_customer("c-002")
    assert customer is not None and customer["suppressed"]["email"]["reason"] == "bounce"


def test_given_transient_bounces_spread_over_more_than_30_days_then_not_suppressed(world, clock):
    delivery = _id("bday-2027", "c-002")
    send(world, clock, SEND_0314, delivery)
    spread = ["2027-01-01T00:00:00Z", "2027-02-15T00:00:00Z", "2027-03-30T00:00:00Z"]
    for n, at in enumerate(spread):
        event = ses_event(
            "bounce_transient", delivery, "c-002@example.com", feedbackId=f"fb-{n}", timestamp=at
        )
        feedback(world, clock, SEND_0314, event)
    key = address_key("c-002@example.com")
    assert key is not None
    listed = suppressions.lookup(key)
    assert listed is not None and not listed.suppressed


# ---------------------------------------------------------------- complaints


def test_given_complaint_when_applied_then_complained_suppressed_and_next_plan_skips(world, clock):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    feedback(world, clock, SEND_0314, ses_event("delivery", delivery, "c-001@example.com"))

    result = feedback(
        world, clock, SEND_0314 + timedelta(hours=22), ses_event("complaint", delivery, SHARED)
    )

    assert result == NO_FAILURES
    assert status(delivery) == ("complained", None)
    customer = get_customer("c-001")
    assert customer is not None and customer["suppressed"]["email"]["reason"] == "complaint"
    plan(world, clock, datetime(2027, 3, 15, 0, 0, tzinfo=UTC))
    assert status(_id("renewal", "c-001", "renewal:2027-03-16")) == (
        "skipped",
        "suppressed_complaint",
    )
    stats = campaign_stats("bday-2027")
    assert (stats["delivered"], stats["complained"], stats["complaint_rate"]) == (1, 1, 1.0)


def test_given_not_spam_feedback_when_applied_then_nothing_changes(world, clock):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    event = ses_event("complaint", delivery, "c-001@example.com")
    event["detail"]["complaint"]["complaintFeedbackType"] = "not-spam"

    assert feedback(world, clock, SEND_0314, event) == NO_FAILURES

    assert status(delivery) == ("sent", None)
    customer = get_customer("c-001")
    assert customer is not None and customer["suppressed"] == {}


def test_given_customer_with_new_address_when_planned_then_flag_of_old_address_ignored(
    world, clock
):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    feedback(world, clock, SEND_0314, ses_event("bounce_permanent", delivery, SHARED))
    moved = customer_doc(
        "c-001",
        birthday="1990-03-14",
        timezone="UTC",
        dates={"renewal": "2027-03-16"},
        email="ana.new@example.com",
    )
    import_customers([json.dumps(moved)], "customers.jsonl", SEND_0314)

    plan(world, clock, datetime(2027, 3, 15, 0, 0, tzinfo=UTC))

    assert status(_id("renewal", "c-001", "renewal:2027-03-16")) == ("queued", None)


# ---------------------------------------------------------------- duplicates and order


def test_given_same_batch_twice_when_applied_then_counts_and_history_unchanged(world, clock):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    batch = [
        ses_event("delivery", delivery, "c-001@example.com"),
        ses_event("complaint", delivery, "c-001@example.com"),
    ]
    feedback(world, clock, SEND_0314, *batch)
    before = (history(delivery), suppressions.feedback_counts("bday-2027"))

    assert feedback(world, clock, SEND_0314, *batch) == NO_FAILURES

    assert (history(delivery), suppressions.feedback_counts("bday-2027")) == before
    assert status(delivery) == ("complained", None)


def test_given_delivery_after_bounce_when_applied_then_bounce_stays(world, clock):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    feedback(world, clock, SEND_0314, ses_event("bounce_permanent", delivery, "c-001@example.com"))

    feedback(world, clock, SEND_0314, ses_event("delivery", delivery, "c-001@example.com"))

    assert status(delivery) == ("bounced", "bounce_permanent")
    counts = suppressions.feedback_counts("bday-2027")
    assert (counts.delivered, counts.bounced) == (0, 1)


def test_given_bounce_after_delivery_when_applied_then_asynchronous_bounce_moves_the_counts(
    world, clock
):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    feedback(world, clock, SEND_0314, ses_event("delivery", delivery, "c-001@example.com"))

    feedback(world, clock, SEND_0314, ses_event("bounce_permanent", delivery, "c-001@example.com"))

    assert status(delivery) == ("bounced", "bounce_permanent")
    counts = suppressions.feedback_counts("bday-2027")
    assert (counts.delivered, counts.bounced) == (0, 1)
    stats = campaign_stats("bday-2027")
    assert (stats["delivered"], stats["bounced"]) == (0, 1)


def test_given_complaint_without_delivery_event_when_applied_then_complained_counts_as_delivered(
    world, clock
):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    feedback(world, clock, SEND_0314, ses_event("complaint", delivery, "c-001@example.com"))
    counts = suppressions.feedback_counts("bday-2027")
    assert (counts.delivered, counts.complained) == (1, 1)


# ---------------------------------------------------------------- automatic pause


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setenv("COMPLAINT_PAUSE_RATE", "0.3")
    monkeypatch.setenv("COMPLAINT_PAUSE_MIN_VOLUME", "3")
    settings_module.reset_settings()
    yield
    settings_module.reset_settings()


def test_given_complaint_rate_over_threshold_after_min_volume_when_applied_then_campaign_paused(
    world, clock, low_threshold
):
    ids = [_id("bday-2027", c) for c in ("c-001", "c-002", "c-004")]
    send(world, clock, SEND_0314, *ids)
    feedback(world, clock, SEND_0314, ses_event("complaint", ids[0], "c-001@example.com"))
    feedback(world, clock, SEND_0314, ses_event("delivery", ids[1], "c-002@example.com"))
    stored = get_stored("bday-2027")
    assert stored is not None and stored.campaign.status == "active"  # 2 delivered < 3

    feedback(world, clock, SEND_0314, ses_event("delivery", ids[2], "c-004@example.com"))

    stored = get_stored("bday-2027")
    assert stored is not None and stored.campaign.status == "paused"  # 1/3 = 33% > 30%
    pause = campaign_stats("bday-2027")["auto_pause"]
    assert pause["at"] == "2027-03-14T09:00:30Z"
    assert pause["reason"].startswith("complaint_rate: 1 complaints / 3 delivered = 33.33%")
    # Messages of the paused campaign still queued are not sent.
    send(world, clock, SEND_0314 + timedelta(minutes=1), _id("bday-2027", "c-005"))
    assert status(_id("bday-2027", "c-005")) == ("skipped", "campaign_inactive")


def test_given_auto_paused_campaign_reactivated_when_old_events_repeat_then_not_paused_again(
    world, clock, low_threshold
):
    ids = [_id("bday-2027", c) for c in ("c-001", "c-002", "c-004")]
    send(world, clock, SEND_0314, *ids)
    events = [
        ses_event("complaint", ids[0], "c-001@example.com"),
        ses_event("delivery", ids[1], "c-002@example.com"),
        ses_event("delivery", ids[2], "c-004@example.com"),
    ]
    feedback(world, clock, SEND_0314, *events)
    stored = get_stored("bday-2027")
    assert stored is not None and stored.campaign.status == "paused"
    change_status("bday-2027", "active", SEND_0314, stored.version)

    assert feedback(world, clock, SEND_0314, *events) == NO_FAILURES

    stored = get_stored("bday-2027")
    assert stored is not None and stored.campaign.status == "active"  # counts restart at the pause


def test_given_complaints_under_min_volume_when_applied_then_not_paused(world, clock):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    feedback(world, clock, SEND_0314, ses_event("complaint", delivery, "c-001@example.com"))
    stored = get_stored("bday-2027")
    assert stored is not None and stored.campaign.status == "active"  # 100%, but 1 < 1000


# ---------------------------------------------------------------- bad input


def test_given_event_for_unknown_delivery_when_applied_then_address_still_suppressed(world, clock):
    event = ses_event("bounce_permanent", _id("gone", "c-404"), "lost@example.com")
    assert feedback(world, clock, SEND_0314, event) == NO_FAILURES
    key = address_key("lost@example.com")
    assert key is not None
    listed = suppressions.lookup(key)
    assert listed is not None and listed.suppressed
    assert ledger.get(_id("gone", "c-404")) is None


def test_given_event_without_our_tag_when_applied_then_ignored(world, clock):
    event = ses_event("bounce_permanent", None, "someone@example.com")
    assert feedback(world, clock, SEND_0314, event) == NO_FAILURES
    key = address_key("someone@example.com")
    assert key is not None and suppressions.lookup(key) is None


def test_given_event_for_never_sent_item_when_applied_then_ledger_unchanged(world, clock):
    queued = _id("bday-2027", "c-002")  # planned, never sent
    feedback(world, clock, SEND_0314, ses_event("delivery", queued, "c-002@example.com"))
    assert status(queued) == ("queued", None)


@pytest.mark.parametrize("kind", ["reject", "delivery_delay"])
def test_given_reject_or_delay_when_applied_then_counted_only(world, clock, kind):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    assert feedback(world, clock, SEND_0314, ses_event(kind, delivery, "c-001@example.com")) == (
        NO_FAILURES
    )
    assert status(delivery) == ("sent", None)


def _broken(change: Any) -> dict[str, Any] | str:
    envelope = ses_event("bounce_permanent", _id("bday-2027", "c-001"), "c-001@example.com")
    result: dict[str, Any] | str = change(envelope)
    return result


BAD = {
    "not json": lambda e: "{not json",
    "deep json": lambda e: "[" * 5000,
    "not an object": lambda e: "[1, 2]",
    "other source": lambda e: {**e, "source": "aws.s3"},
    "no detail": lambda e: {k: v for k, v in e.items() if k != "detail"},
    "unknown event type": lambda e: {**e, "detail": {**e["detail"], "eventType": "Open"}},
    "bounce missing": lambda e: {
        **e,
        "detail": {k: v for k, v in e["detail"].items() if k != "bounce"},
    },
    "bad bounce type": lambda e: {
        **e,
        "detail": {**e["detail"], "bounce": {**e["detail"]["bounce"], "bounceType": "Soft"}},
    },
    "no recipients": lambda e: {
        **e,
        "detail": {**e["detail"], "bounce": {**e["detail"]["bounce"], "bouncedRecipients": []}},
    },
    "forged tag": lambda e: {
        **e,
        "detail": {
            **e["detail"],
            "mail": {**e["detail"]["mail"], "tags": {"delivery": ["not base64!"]}},
        },
    },
    "timestamp without offset": lambda e: {
        **e,
        "detail": {
            **e["detail"],
            "mail": {**e["detail"]["mail"], "timestamp": "2027-03-13T09:00:01"},
        },
    },
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_given_malformed_event_when_applied_then_dropped_others_in_batch_still_applied(
    world, clock, name
):
    delivery = _id("bday-2027", "c-001")
    send(world, clock, SEND_0314, delivery)
    good = ses_event("delivery", _id("bday-2027", "c-001"), "c-001@example.com")

    result = feedback(world, clock, SEND_0314, _broken(BAD[name]), good)

    assert result == NO_FAILURES  # a retry cannot fix it: dropped, not redelivered
    assert status(delivery) == ("delivered", None)  # the good one in the batch applied
    customer = get_customer("c-001")
    assert customer is not None and customer["suppressed"] == {}
