"""Results over time and segments: what the console's Results and Segments pages read.

``GET /campaigns/{id}/timeline``, ``GET /campaigns/{id}/survey`` and ``GET /segments``;
the figures come from :mod:`lifecycle.features.results`.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from lifecycle.api.common import responses
from lifecycle.campaigns.repository import require_stored
from lifecycle.core.clock import get_clock
from lifecycle.features.results import (
    MAX_TIMELINE_DAYS,
    campaign_timeline,
    rfm_grid,
    survey_results,
)

router = Router()
TAGS = ["results"]

CampaignId = Annotated[str, Path(description="The campaign's `campaign_id`.")]


class Day(BaseModel):
    date: str = Field(description="UTC day of the planned send time.")
    planned: int
    sent: int = Field(description="Accepted by the provider (delivered, bounced... included).")
    delivered: int
    bounced: int
    complained: int
    pending: int = Field(description="Queued or being sent.")
    skipped: int
    failed: int
    skipped_by_reason: dict[str, int]
    failed_by_reason: dict[str, int]


class WeekTotals(BaseModel):
    sent: int
    delivered: int
    bounced: int
    complained: int
    skipped: int
    failed: int


class Timeline(BaseModel):
    campaign_id: str
    days: list[Day] = Field(description="Oldest first, one entry per day, empty days included.")
    last_7_days: WeekTotals
    next_send: str | None = Field(description="Planned UTC time of the next message to send.")


class WeekScore(BaseModel):
    week: str = Field(description="Monday of the ISO week of the first answer.")
    responses: int
    score: float | None


class DetractorComment(BaseModel):
    answered_at: str | None
    score: int
    comment: str | None
    customer_id: str


class KindResults(BaseModel):
    responses: int
    score: float | None = Field(description="NPS (-100..100) or CSAT (mean 1-5).")
    distribution: dict[str, int] = Field(description="Answers per scale value.")
    trend: list[WeekScore]
    detractor_comments: list[DetractorComment] = Field(description="Newest first, at most 200.")


class SurveyResults(BaseModel):
    campaign_id: str
    kinds: dict[str, KindResults] = Field(description="Per answer kind: `nps`, `csat`.")


class RfmGrid(BaseModel):
    recency_by_frequency: list[list[int]] = Field(
        description="Customers per score: row = recency 1-5, column = frequency 1-5."
    )
    segments: dict[str, int] = Field(description="Customers per named segment.")
    scored: int
    unscored: int = Field(description="Customers without an RFM score (no order in 365 days).")


@router.get(
    "/campaigns/<campaign_id>/timeline",
    summary="A campaign's results per day",
    description=(
        "Per UTC day of the planned send time: planned, sent, delivered, bounced, complained, "
        "pending, skipped and failed by reason; the last 7 days' totals and the next send."
    ),
    operation_id="getCampaignTimeline",
    tags=TAGS,
    responses=responses("The days, oldest first.", 404, 422),
)
def timeline(
    campaign_id: CampaignId,
    days: Annotated[
        int, Query(ge=1, le=MAX_TIMELINE_DAYS, description="Days up to today (UTC).")
    ] = 30,
) -> Timeline:
    require_stored(campaign_id)
    return Timeline.model_validate(campaign_timeline(campaign_id, days, get_clock().now()))


@router.get(
    "/campaigns/<campaign_id>/survey",
    summary="A survey campaign's answers in detail",
    description="Score distribution, weekly trend and the detractors' comments per kind.",
    operation_id="getSurveyResults",
    tags=TAGS,
    responses=responses("The answers, per kind.", 404),
)
def survey(campaign_id: CampaignId) -> SurveyResults:
    require_stored(campaign_id)
    return SurveyResults.model_validate(survey_results(campaign_id))


@router.get(
    "/segments",
    summary="The RFM grid and the named segments",
    description="Customers per recency x frequency score and per named segment (a Scan).",
    operation_id="getSegments",
    tags=TAGS,
    responses=responses("The grid."),
)
def segments() -> RfmGrid:
    return RfmGrid.model_validate(rfm_grid())
