"""Erasure of a customer's personal data (GDPR Art. 17, PIPL Art. 47).

What stays is what keeps the person suppressed and the books consistent:

* the customer item becomes a tombstone: ``customer_id``, ``erased_at``, consent withdrawn and
  every channel marked unsubscribed, so a later import of the same id sends nothing;
* ledger items keep ids, statuses and reasons (no PII by design) but lose their occasion
  context; queued ones are skipped with reason ``erased``;
* survey responses keep their score (aggregates stay right) but lose comment and order id;
* the consent trail (every recorded consent change) is deleted: the tombstone itself keeps
  the person unsubscribed;
* the messaging policy's send budget (what the caps counted for the person) is deleted.

What keeps it erased: imports never write over a tombstone (the line is rejected with reason
``erased``, see :mod:`lifecycle.features.importer`), and the customer's survey and
unsubscribe and preference links answer 410 and store nothing (:mod:`lifecycle.features.surveys`,
:mod:`lifecycle.features.unsubscribe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lifecycle.messages.channels import CHANNELS
from lifecycle.store import ledger
from lifecycle.store.consent import delete_events
from lifecycle.store.customers import write_tombstone
from lifecycle.store.dates import delete_dates
from lifecycle.store.policy import delete_budget
from lifecycle.store.responses import redact_customer_responses

ERASED = "erased"


@dataclass(frozen=True)
class ErasureReport:
    customer_found: bool
    deliveries_redacted: int
    deliveries_cancelled: int
    responses_redacted: int
    dates_removed: int = 0
    consent_events_removed: int = 0


def erase_customer(customer_id: str, now: datetime) -> ErasureReport:
    found = write_tombstone(customer_id, now, tuple(CHANNELS))
    redacted = cancelled = 0
    for full in ledger.by_customer(customer_id):
        if full.status == ledger.QUEUED:
            try:
                ledger.mark_skipped(full, now, ERASED, expected=ledger.QUEUED)
                cancelled += 1
            except ledger.LedgerConflictError:
                pass  # being sent right now: the sender finds the tombstone (unsubscribed)
        if ledger.redact(full):
            redacted += 1
    responses = redact_customer_responses(customer_id)
    dates = delete_dates(customer_id)
    delete_budget(customer_id)
    return ErasureReport(found, redacted, cancelled, responses, dates, delete_events(customer_id))
