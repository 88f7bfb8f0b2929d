"""The integrity check: final states, pending vs. lost, duplicates at the providers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.integrity import Received, integrity, outcomes

END = datetime(2027, 3, 15, 0, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def item(delivery_id: str, status: str, deliver_at: str, **extra: str | bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "delivery_id": {"S": delivery_id},
        "status": {"S": status},
        "deliver_at": {"S": deliver_at},
        "channel": {"S": "sms" if delivery_id.endswith("#sms") else "email"},
    }
    for name, value in extra.items():
        result[name] = {"BOOL": value} if isinstance(value, bool) else {"S": value}
    return result


LEDGER = [
    item("a#1#2027#email", "sent", "2027-03-14T09:00:00Z"),
    item("b#1#2027#email", "skipped", "2027-03-14T09:00:00Z", reason="no_consent"),
    item("c#1#2027#email", "failed", "2027-03-14T09:00:00Z", reason="outcome_unknown"),
    item("d#1#2027#email", "queued", "2027-03-14T23:50:00Z"),  # window open at the end
    item("e#1#2027#email", "sending", "2027-03-14T10:00:00Z"),  # window closed: lost
    item("f#1#2027#email", "queued", "2027-03-14T23:45:00Z"),  # closes exactly at the end
    item("g#1#2027#sms", "sent", "2027-03-14T09:00:00Z", provider_message_id="m-1"),
    item("t#1#test#email", "sent", "2027-03-14T09:00:00Z", test=True),
]


def test_given_final_pending_and_unfinished_items_then_counted_apart():
    received = Received(
        email=["a#1#2027#email", "c#1#2027#email"], sms=[("m-1", "+4915112345678", "Hi")]
    )
    checks = integrity(LEDGER, received, END, WINDOW)
    assert (checks["planned"], checks["sent"], checks["skipped"], checks["failed"]) == (7, 2, 1, 1)
    assert checks["pending"] == 1
    assert checks["lost"] == 2
    assert [i["delivery_id"] for i in checks["lost_items"]] == ["e#1#2027#email", "f#1#2027#email"]
    assert checks["duplicates"] == 0
    assert checks["received_not_sent"] == [
        {"delivery_id": "c#1#2027#email", "status": "failed", "reason": "outcome_unknown"}
    ]
    assert checks["sent_not_received"] == []


def test_given_a_final_state_without_reason_then_not_final():
    ledger = [item("x#1#2027#email", "skipped", "2027-03-14T09:00:00Z")]
    assert integrity(ledger, Received([], []), END, WINDOW)["lost"] == 1


def test_given_copies_at_the_providers_then_duplicates_by_delivery_id_and_by_phone_and_text():
    received = Received(
        email=["a#1#2027#email", "a#1#2027#email", "a#1#2027#email"],
        sms=[("m-1", "+4915112345678", "Hi"), ("m-9", "+4915112345678", "Hi")],
    )
    checks = integrity(LEDGER, received, END, WINDOW)
    assert checks["duplicates"] == 2
    first = checks["duplicate_items"][0]
    assert first == {"channel": "email", "key": "a#1#2027#email", "copies": 3}
    assert checks["duplicate_items"][1]["channel"] == "sms"
    assert checks["sms_without_ledger_id"] == 1


def test_given_sent_without_a_provider_copy_then_listed():
    checks = integrity(LEDGER, Received([], [("m-1", "+49", "Hi")]), END, WINDOW)
    assert checks["sent_not_received"] == ["a#1#2027#email"]


def test_outcomes_name_the_state_and_reason_and_a_received_unsent_message():
    states = outcomes(LEDGER, Received(["c#1#2027#email"], []))
    assert states["a#1#2027#email"] == "sent"
    assert states["b#1#2027#email"] == "skipped:no_consent"
    assert states["c#1#2027#email"] == "failed:outcome_unknown+received"
    assert "t#1#test#email" not in states
