"""Unsaved campaigns tried out: what the console's editor shows while a marketer types.

``POST /drafts/preview`` renders a campaign document that is not saved (or differs from the
saved one) for a real customer, and ``POST /drafts/estimate`` counts the audience it would
reach today. The document is validated exactly as on save; its problems answer 422 with
field paths of the document (``content.email.en.subject``), so the editor can show each next
to its field. Nothing is stored or sent: both are reads for the access rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field

from lifecycle.api.campaigns import render_for
from lifecycle.api.common import responses
from lifecycle.api.models import Channel, Estimate, Rendering
from lifecycle.campaigns.model import Campaign, CampaignError, parse_campaign
from lifecycle.campaigns.repository import quiet_hours_errors, stored_policy
from lifecycle.core.clock import get_clock
from lifecycle.features.dryrun import estimate

router = Router()
TAGS = ["trying campaigns out"]


class DraftPreviewRequest(BaseModel):
    campaign: dict[str, Any] = Field(description="The campaign document as it stands.")
    customer_id: str = Field(description="An existing customer; their language is used.")
    channel: Channel | None = Field(default=None, description="Default: the first channel.")


class DraftEstimateRequest(BaseModel):
    campaign: dict[str, Any] = Field(description="The campaign document as it stands.")


def _parsed(document: dict[str, Any]) -> Campaign:
    """The document validated as on save (``version`` ignored, the send time checked against
    the quiet hours); 422 lists every problem."""
    campaign = parse_campaign({k: v for k, v in document.items() if k != "version"})
    quiet = quiet_hours_errors(campaign, stored_policy())
    if quiet:
        raise CampaignError(quiet, campaign.campaign_id)
    return campaign


@router.post(
    "/drafts/preview",
    summary="Render an unsaved campaign for one customer",
    description=(
        "Validates the document as a save would (422 by field), then renders it in the "
        "customer's language with sample occasion data. Nothing is stored or sent."
    ),
    operation_id="previewDraft",
    tags=TAGS,
    responses=responses("The rendered message.", 400, 415, 422),
)
def preview_draft(
    request: Annotated[DraftPreviewRequest, Body(description="The document and the customer.")],
) -> Rendering:
    return render_for(_parsed(request.campaign), request.customer_id, request.channel)


@router.post(
    "/drafts/estimate",
    summary="Estimate an unsaved campaign's reach today",
    description=(
        "Customers, those in the document's audience, and those reachable per channel today "
        "(held-back customers apart). Reads every customer (a Scan)."
    ),
    operation_id="estimateDraft",
    tags=TAGS,
    responses=responses("The counts.", 400, 415, 422),
)
def estimate_draft(
    request: Annotated[DraftEstimateRequest, Body(description="The document.")],
) -> Estimate:
    return Estimate.model_validate(estimate(_parsed(request.campaign), get_clock().now()))
