"""Did every planned message end well? The ``integrity`` section of ``report.json``.

Compares the ledger (what the system believes) with what the providers received (what
customers got), on plain values:

* ``planned``: ledger items (test sends left out); ``sent``/``skipped``/``failed``: items in
  that final state;
* ``pending``: items not final whose send window was still open when the period ended (they
  would still be sent or settled; not a loss);
* ``lost``: items that ended without a final state and reason although their send window
  (``deliver_at`` + the sender's ``MAX_SEND_DELAY_MINUTES``) closed inside the period;
* ``duplicates``: deliveries a provider received more than once. E-mail is keyed by the
  ``X-LCM-Delivery-Id`` header the sender puts on every message; SNS keeps no id of ours for an
  SMS, so SMS are keyed by (phone, text);
* ``received_not_sent``: deliveries a provider has whose ledger item does not say ``sent``
  (e.g. ``failed(outcome_unknown)`` after a worker died right after the hand-over: the
  customer got it, the ledger records that it may have);
* ``sent_not_received``: ledger items marked ``sent`` the provider never got (e-mail only:
  an SMS is matched through the provider message id the ledger keeps).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

FINAL = frozenset({"sent", "skipped", "failed"})
# SES feedback moves an accepted e-mail on from ``sent``: these states count as sent here.
ACCEPTED = frozenset({"sent", "delivered", "bounced", "complained"})
DUPLICATE_KEYS = {
    "email": "X-LCM-Delivery-Id header",
    "sms": "(phone, text): SNS keeps no delivery id of ours",
}


@dataclass(frozen=True)
class Received:
    """What the providers accepted: e-mail delivery ids, and SMS (message id, phone, text)."""

    email: list[str | None]
    sms: list[tuple[str, str, str]]


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    if isinstance(value, dict) and "S" in value:
        return str(value["S"])
    return None


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def integrity(
    ledger: Iterable[dict[str, Any]], received: Received, end: datetime, window: timedelta
) -> dict[str, Any]:
    """The integrity figures of a run that ended at ``end`` (ledger items as DynamoDB JSON)."""
    items = [i for i in ledger if not (i.get("test") or {}).get("BOOL")]
    status: Counter[str] = Counter()
    lost: list[dict[str, Any]] = []
    pending = 0
    by_id = {}
    for item in items:
        delivery_id = _text(item, "delivery_id") or "?"
        by_id[delivery_id] = item
        state = _text(item, "status") or "?"
        reason = _text(item, "reason")
        if state in ACCEPTED:
            state = "sent"
        if state in FINAL and (state == "sent" or reason):
            status[state] += 1
            continue
        deliver_at = _text(item, "deliver_at")
        closes = _instant(deliver_at) + window if deliver_at else None
        if closes is not None and closes > end:
            pending += 1
            continue
        lost.append(
            {
                "delivery_id": delivery_id,
                "status": state,
                "reason": reason,
                "deliver_at": deliver_at,
                "window_closed": closes.strftime("%Y-%m-%dT%H:%M:%SZ") if closes else None,
            }
        )
    email = Counter(received.email)
    sms = Counter((phone, text) for _, phone, text in received.sms)
    duplicates = [
        {"channel": "email", "key": key, "copies": copies}
        for key, copies in sorted(email.items(), key=lambda kv: str(kv[0]))
        if copies > 1
    ] + [
        {"channel": "sms", "key": f"{phone} {text[:40]}", "copies": copies}
        for (phone, text), copies in sorted(sms.items())
        if copies > 1
    ]
    sms_ids = {
        _text(i, "provider_message_id"): _text(i, "delivery_id")
        for i in items
        if _text(i, "channel") == "sms" and _text(i, "provider_message_id")
    }
    received_ids: set[str] = {key for key in email if key} | {
        str(sms_ids[message_id]) for message_id, _, _ in received.sms if sms_ids.get(message_id)
    }
    received_not_sent = [
        {
            "delivery_id": delivery_id,
            "status": _text(by_id[delivery_id], "status"),
            "reason": _text(by_id[delivery_id], "reason"),
        }
        for delivery_id in sorted(received_ids)
        if delivery_id in by_id and _text(by_id[delivery_id], "status") not in ACCEPTED
    ]
    unknown = sorted(key for key in received_ids if key not in by_id)
    sent_not_received = sorted(
        delivery_id
        for delivery_id, item in by_id.items()
        if _text(item, "status") in ACCEPTED
        and _text(item, "channel") == "email"
        and delivery_id not in email
    )
    unattributed_sms = sum(1 for message_id, _, _ in received.sms if message_id not in sms_ids)
    return {
        "planned": len(items),
        "sent": status["sent"],
        "skipped": status["skipped"],
        "failed": status["failed"],
        "pending": pending,
        "lost": len(lost),
        "duplicates": len(duplicates),
        "duplicate_key": DUPLICATE_KEYS,
        "received": {"email": len(received.email), "sms": len(received.sms)},
        "lost_items": lost,
        "duplicate_items": duplicates,
        "received_not_sent": received_not_sent,
        "received_unknown": unknown,
        "sent_not_received": sent_not_received,
        "sms_without_ledger_id": unattributed_sms,
    }


def outcomes(ledger: Iterable[dict[str, Any]], received: Received) -> dict[str, str]:
    """delivery id -> ``status[:reason]`` (``+received`` when a provider has it, not sent)."""
    email = set(received.email)
    result = {}
    for item in ledger:
        if (item.get("test") or {}).get("BOOL"):
            continue
        delivery_id = _text(item, "delivery_id") or "?"
        state = _text(item, "status") or "?"
        reason = _text(item, "reason")
        outcome = f"{state}:{reason}" if reason and state != "sent" else state
        if state not in ACCEPTED and delivery_id in email:
            outcome += "+received"
        result[delivery_id] = outcome
    return result
