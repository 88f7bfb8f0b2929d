"""The store side of deliverability feedback on moto: ledger states after SES's word, the
campaign counts written with them, the suppression list, and the sender and planner skipping
suppressed addresses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.rules.deliverability import address_key
from lifecycle.store import ledger, ledger_feedback, suppressions
from lifecycle.store.customers import flag_suppressed, get_customer
from tests.builders import campaign_doc, customer_doc
from tests.events import load_event

NOW = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


def _planned(customer: str, campaign: str = "camp") -> ledger.PlannedDelivery:
    return ledger.PlannedDelivery(
        campaign_id=campaign,
        customer_id=customer,
        occurrence="2027",
        occasion="birthday",
        channel="email",
        deliver_at=NOW,
        local_send_time=NOW,
        timezone="UTC",
        context={},
    )


def _item(customer: str, status: str = ledger.SENT, **kwargs: object) -> str:
    planned = _planned(customer)
    assert ledger.create(planned, NOW, shards=1, ttl_days=400)
    item = ledger.get(planned.delivery_id)
    assert item is not None
    if status == ledger.QUEUED:
        return planned.delivery_id
    ledger.claim(item, NOW, 300)
    if status == ledger.SENT:
        ledger.mark_sent(item, NOW, "ses-1")
    elif status == ledger.FAILED:
        ledger.mark_failed(item, NOW, str(kwargs.get("reason", ledger.OUTCOME_UNKNOWN)))
    return planned.delivery_id


def _counts() -> tuple[int, int, int]:
    counts = suppressions.feedback_counts("camp")
    return counts.delivered, counts.bounced, counts.complained


@pytest.mark.parametrize(
    ("steps", "outcomes", "final", "counts"),
    [
        (["delivered"], ["changed"], "delivered", (1, 0, 0)),
        (["delivered", "delivered"], ["changed", "duplicate"], "delivered", (1, 0, 0)),
        (["bounced", "delivered"], ["changed", "stale"], "bounced", (0, 1, 0)),
        (["delivered", "bounced"], ["changed", "changed"], "bounced", (0, 1, 0)),
        (["delivered", "complained"], ["changed", "changed"], "complained", (1, 0, 1)),
        (["complained", "delivered"], ["changed", "stale"], "complained", (1, 0, 1)),
        (["sent"], ["duplicate"], "sent", (0, 0, 0)),
    ],
)
def test_given_sent_item_when_feedback_applied_then_only_forward_and_counts_follow(
    aws, steps, outcomes, final, counts
):
    delivery = _item("c-1")
    results = [ledger_feedback.apply_feedback(delivery, step, NOW) for step in steps]
    assert results == outcomes
    item = ledger.get(delivery)
    assert item is not None and item.status == final
    assert _counts() == counts


def test_given_outcome_unknown_when_bounce_reported_then_reconciled_with_history(aws):
    delivery = _item("c-1", ledger.FAILED)
    result = ledger_feedback.apply_feedback(
        delivery, ledger.BOUNCED, NOW, reason="bounce_permanent", provider_message_id="m-9"
    )
    assert result == "reconciled"
    item = ledger.get(delivery)
    assert item is not None
    assert (item.status, item.reason, item.provider_message_id) == (
        "bounced",
        "bounce_permanent",
        "m-9",
    )
    assert [(h.status, h.reason) for h in item.history][-2:] == [
        ("sent", "outcome_unknown_reconciled"),
        ("bounced", "bounce_permanent"),
    ]
    assert _counts() == (0, 1, 0)


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [(ledger.QUEUED, {}), (ledger.FAILED, {"reason": "template_error"})],
)
def test_given_never_sent_item_when_feedback_applied_then_not_sent_and_unchanged(
    aws, status, kwargs
):
    delivery = _item("c-1", status, **kwargs)
    assert ledger_feedback.apply_feedback(delivery, ledger.DELIVERED, NOW) == "not_sent"
    item = ledger.get(delivery)
    assert item is not None and item.status == status
    assert _counts() == (0, 0, 0)


def test_given_unknown_item_when_feedback_applied_then_unknown(aws):
    assert (
        ledger_feedback.apply_feedback("camp#nobody#2027#email", ledger.DELIVERED, NOW) == "unknown"
    )


def test_given_item_with_live_lease_when_feedback_applied_then_not_ready(aws):
    delivery = _item("c-1", ledger.QUEUED)
    item = ledger.get(delivery)
    assert item is not None
    ledger.claim(item, NOW, 300)
    with pytest.raises(ledger_feedback.FeedbackNotReadyError):
        ledger_feedback.apply_feedback(delivery, ledger.DELIVERED, NOW + timedelta(seconds=10))
    assert ledger_feedback.apply_feedback(
        delivery, ledger.DELIVERED, NOW + timedelta(minutes=6)
    ) == ("reconciled")


def test_given_test_send_when_feedback_applied_then_ledger_moves_counts_do_not(aws):
    ledger.record_test_send(
        "camp#test#2027-03-14T09:00:00Z#email",
        campaign_id="camp",
        occasion="birthday",
        channel="email",
        now=NOW,
        provider_message_id="m-t",
    )
    result = ledger_feedback.apply_feedback(
        "camp#test#2027-03-14T09:00:00Z#email", "delivered", NOW
    )
    assert result == "changed"
    assert _counts() == (0, 0, 0)


def test_given_suppression_when_repeated_then_idempotent_and_complaint_wins(aws):
    key = address_key("ana@example.com")
    assert key is not None
    first = suppressions.suppress(key, "bounce", NOW, "c-1")
    again = suppressions.suppress(key, "bounce", NOW + timedelta(days=1), "c-1")
    assert first == again
    assert (first.suppressed, first.reason) == (True, "bounce")
    stronger = suppressions.suppress(key, "complaint", NOW, "c-2")
    assert stronger.reason == "complaint"
    assert suppressions.suppress(key, "bounce", NOW, "c-2").reason == "complaint"


def test_given_transient_bounce_ids_when_counted_then_each_feedback_id_once(aws):
    key = address_key("ana@example.com")
    assert key is not None
    for feedback_id in ("a", "a", "b", "b"):
        state = suppressions.count_transient_bounce(key, feedback_id, NOW, NOW, "c-1")
    assert (state.suppressed, state.transient_bounces) == (False, 2)
    state = suppressions.count_transient_bounce(key, "c", NOW + timedelta(days=29), NOW, None)
    assert (state.suppressed, state.reason) == (True, "bounce")


def test_given_customer_flag_when_set_then_customer_dict_carries_it(aws):
    import_customers([json.dumps(customer_doc("c-1"))], "customers.jsonl", NOW)
    key = address_key("c-1@example.com")
    assert key is not None
    assert flag_suppressed("c-1", "email", key, "complaint", NOW)
    assert flag_suppressed("nobody", "email", key, "complaint", NOW) is False
    customer = get_customer("c-1")
    assert customer is not None
    assert customer["suppressed"] == {
        "email": {"address": key, "reason": "complaint", "at": "2027-03-14T09:00:00Z"}
    }
    # A re-import keeps the flag (imports never clear what feedback recorded).
    import_customers([json.dumps(customer_doc("c-1", first_name="Ana"))], "c.jsonl", NOW)
    again = get_customer("c-1")
    assert again is not None and again["suppressed"] == customer["suppressed"]


def test_given_address_on_the_list_when_another_customer_is_sent_to_then_skipped(aws, clock):
    start = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
    import_campaigns(json.dumps([campaign_doc("camp")]), "campaigns.json", start)
    customers = [
        customer_doc("c-1", birthday="1990-03-14", timezone="UTC", email="Shared@example.com"),
        customer_doc("c-2", birthday="1990-03-14", timezone="UTC"),
    ]
    import_customers([json.dumps(c) for c in customers], "customers.jsonl", start)
    clock.set(start)
    context = FakeLambdaContext(function_name="planner")
    load_handler(aws.functions["PlannerFunction"])(load_event("planner/scheduled.json"), context)
    key = address_key("shared@example.com")
    assert key is not None
    suppressions.suppress(key, "complaint", start, "someone-else")
    clock.set(NOW + timedelta(seconds=30))
    event = load_event("sender/sqs_batch.json")
    event["Records"][0]["body"] = json.dumps({"delivery_id": "camp#c-1#2027#email"})
    event["Records"][1]["body"] = json.dumps({"delivery_id": "camp#c-2#2027#email"})

    result = load_handler(aws.functions["SenderFunction"])(event, FakeLambdaContext("sender"))

    assert result == {"batchItemFailures": []}
    skipped = ledger.get("camp#c-1#2027#email")
    assert skipped is not None and (skipped.status, skipped.reason) == (
        "skipped",
        "suppressed_complaint",
    )
    sent = ledger.get("camp#c-2#2027#email")
    assert sent is not None and sent.status == "sent"
