"""Post-purchase surveys (NPS 0-10 or CSAT 1-5), ``delay_days`` after delivery.

Planned from the Orders stream when the order becomes ``delivered``; cancelled at send time
when the order was cancelled or returned. At most one survey per customer in
``throttle_days``: the sender reserves the customer's survey slot in its write step (an
atomic claim, idempotent for the same survey), else skips with ``survey_throttled``.
Template variables: ``order`` and ``survey_url`` (a signed link; the survey feature owns the
page and the answers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from lifecycle.core.tokens import sign
from lifecycle.occasions.base import (
    BaseOccasion,
    Check,
    Customer,
    LinkSigner,
    OccasionSpec,
    Occurrence,
    Pending,
    Sample,
)
from lifecycle.occasions.orders import SAMPLE_ORDER, check_order, days_after_delivery
from lifecycle.rules.orders import Order
from lifecycle.store.customers import claim_survey_slot

SURVEY_THROTTLED = "survey_throttled"
# As long as a real link (API host + signed token), so SMS length checks are honest.
SAMPLE_SURVEY_URL = "https://abcdefghij.execute-api.us-east-1.amazonaws.com/v1/s/" + "x" * 130


class SurveyOccasion(OccasionSpec):
    type: Literal["post_purchase_survey"]
    delay_days: int = Field(default=3, ge=0, le=365)
    kind: Literal["nps", "csat"] = "nps"
    throttle_days: int = Field(default=30, ge=0, le=3650)


def survey(order: Order, timezone: str, delay_days: int, kind: str) -> Occurrence | None:
    when = days_after_delivery(order, timezone, delay_days)
    if when is None:
        return None
    return Occurrence(
        key=order.order_id,
        local_date=when,
        context={
            "type": "post_purchase_survey",
            "date": when.isoformat(),
            "kind": kind,
            "order_id": order.order_id,
            "delivered_at": order.delivered_at,
        },
    )


def survey_url(links: LinkSigner, survey_id: str, kind: str, now: datetime) -> str:
    """The signed link to the survey page (the survey id carries everything else)."""
    token = sign(
        links.key, "survey", {"s": survey_id, "q": kind}, now, links.settings.survey_token_ttl_days
    )
    return f"{links.settings.public_base_url}/s/{token}"


class Survey(BaseOccasion):
    type = "post_purchase_survey"
    spec_model = SurveyOccasion
    trigger = "order"
    variables = frozenset({"survey_url", "order"})
    transactional = True

    def from_order(self, spec: SurveyOccasion, order: Order, timezone: str) -> Occurrence | None:
        return survey(order, timezone, spec.delay_days, spec.kind)

    def check(
        self,
        spec: SurveyOccasion,
        pending: Pending,
        customer: Customer,
        now: datetime,
        links: LinkSigner,
    ) -> Check:
        order, stop = check_order(pending)
        if stop or order is None:
            return stop or Check()
        return Check(
            variables={
                "order": order.public(),
                "survey_url": survey_url(links, pending.occurrence_id, spec.kind, now),
            }
        )

    def reserve(self, spec: SurveyOccasion, pending: Pending, now: datetime) -> str | None:
        if not claim_survey_slot(
            pending.customer_id, now, spec.throttle_days, pending.occurrence_id
        ):
            return SURVEY_THROTTLED
        return None

    def sample(self, spec: SurveyOccasion) -> Sample:
        return Sample(
            occasion={"kind": spec.kind},
            variables={"order": SAMPLE_ORDER, "survey_url": SAMPLE_SURVEY_URL},
        )


OCCASION = Survey()
