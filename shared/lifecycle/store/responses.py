"""Survey responses (PynamoDB): one item per survey, revised when the customer answers again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from lifecycle.core.clock import utc_iso
from lifecycle.store.models import SurveyResponseModel


@dataclass(frozen=True)
class Response:
    survey_id: str
    campaign_id: str
    customer_id: str
    kind: str
    score: int
    comment: str | None
    revisions: int
    first_answered_at: str | None
    answered_at: str | None = None


def _response(model: SurveyResponseModel) -> Response:
    return Response(
        survey_id=model.survey_id,
        campaign_id=model.campaign_id,
        customer_id=model.customer_id,
        kind=model.kind,
        score=int(model.score),
        comment=model.comment,
        revisions=int(model.revisions or 1),
        first_answered_at=model.first_answered_at,
        answered_at=model.answered_at,
    )


def get_response(survey_id: str) -> Response | None:
    try:
        return _response(SurveyResponseModel.get(survey_id, consistent_read=True))
    except DoesNotExist:
        return None


def save_response(
    *,
    survey_id: str,
    campaign_id: str,
    customer_id: str,
    order_id: str | None,
    kind: str,
    score: int,
    comment: str | None,
    now: datetime,
    previous: Response | None,
) -> int:
    """Store an answer (a resubmission replaces it); return its revision number."""
    revision = previous.revisions + 1 if previous else 1
    SurveyResponseModel(
        survey_id=survey_id,
        campaign_id=campaign_id,
        customer_id=customer_id,
        order_id=order_id,
        kind=kind,
        score=score,
        comment=comment,
        answered_at=utc_iso(now),
        first_answered_at=previous.first_answered_at if previous else utc_iso(now),
        revisions=revision,
    ).save()
    return revision


def campaign_scores(campaign_id: str) -> Iterator[tuple[str, int]]:
    """(kind, score) of every answer to a campaign (a Query on ``by-campaign``)."""
    for response in SurveyResponseModel.by_campaign.query(campaign_id):
        yield response.kind, int(response.score)


def campaign_responses(campaign_id: str) -> Iterator[Response]:
    """Every answer to a campaign with its comment and times (a Query on ``by-campaign``)."""
    for model in SurveyResponseModel.by_campaign.query(campaign_id):
        yield _response(model)


def redact_customer_responses(customer_id: str) -> int:
    """Drop comment and order id from a customer's answers (scores stay for aggregates)."""
    count = 0
    for key in SurveyResponseModel.by_customer.query(customer_id):
        SurveyResponseModel(survey_id=key.survey_id).update(
            actions=[
                SurveyResponseModel.comment.remove(),
                SurveyResponseModel.order_id.remove(),
            ]
        )
        count += 1
    return count
