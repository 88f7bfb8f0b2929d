"""Erasure of a customer's personal data (GDPR Art. 17, PIPL Art. 47).

What stays is what keeps the person suppressed and the books consistent:

* the customer item becomes a tombstone: ``customer_id``, ``erased_at``, consent withdrawn and
  every channel marked unsubscribed, so a later import of the same id sends nothing;
* ledger items keep ids, statuses and reasons (no PII by design) but lose their occasion
  context; queued ones are skipped with reason ``erased``;
* survey responses keep their score (aggregates stay right) but lose comment and order id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import UpdateError

from lifecycle.core.clock import utc_iso
from lifecycle.store import ledger
from lifecycle.store.dates import delete_dates
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import CustomerModel, DeliveryModel, SurveyResponseModel

ERASED = "erased"
CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class ErasureReport:
    customer_found: bool
    deliveries_redacted: int
    deliveries_cancelled: int
    responses_redacted: int
    dates_removed: int = 0


def erase_customer(customer_id: str, now: datetime) -> ErasureReport:
    stamp = utc_iso(now)
    found = CustomerModel.count(customer_id) > 0
    CustomerModel(
        customer_id=customer_id,
        consent={"email": False, "sms": False},
        unsubscribed=dict.fromkeys(CHANNELS, stamp),
        attributes={"erased_at": stamp},
        updated_at=stamp,
    ).save()
    redacted = cancelled = 0
    for item in DeliveryModel.by_customer.query(customer_id):
        full = ledger.get(item.delivery_id)
        if full is None:
            continue
        if full.status == ledger.QUEUED:
            try:
                ledger.mark_skipped(full, now, ERASED, expected=ledger.QUEUED)
                cancelled += 1
            except ledger.LedgerConflictError:
                pass  # being sent right now: the sender finds the tombstone (unsubscribed)
        try:
            full.update(
                actions=[DeliveryModel.context.remove(), DeliveryModel.error.remove()],
                condition=DeliveryModel.delivery_id.exists(),
            )
            redacted += 1
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            continue  # deleted (TTL) since it was read
    responses = 0
    for key in SurveyResponseModel.by_customer.query(customer_id):
        SurveyResponseModel(survey_id=key.survey_id).update(
            actions=[
                SurveyResponseModel.comment.remove(),
                SurveyResponseModel.order_id.remove(),
            ]
        )
        responses += 1
    return ErasureReport(found, redacted, cancelled, responses, delete_dates(customer_id))
