"""Campaign data access (PynamoDB)."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache

from pynamodb.exceptions import DoesNotExist, UpdateError

from lifecycle.campaigns import Campaign, CampaignError, parse_campaign
from lifecycle.clock import utc_iso
from lifecycle.models import CampaignModel
from lifecycle.observability import logger


def save_campaign(campaign: Campaign, now: datetime) -> None:
    """Create or replace a campaign document, bumping its version."""
    try:
        existing = CampaignModel.get(campaign.campaign_id, consistent_read=True)
        version = int(existing.version) + 1
        # A campaign that was not active has planned nothing meanwhile: after (re)activation
        # planning starts at today again instead of reporting the pause as missed sends.
        still_active = existing.status == "active" and campaign.status == "active"
        cursor = existing.planned_through if still_active else None
    except DoesNotExist:
        version, cursor = 1, None
    CampaignModel(
        campaign_id=campaign.campaign_id,
        status=campaign.status,
        occasion_type=campaign.occasion.type,
        spec=campaign.document(),
        version=version,
        planned_through=cursor,
        updated_at=utc_iso(now),
    ).save()


def load_campaign(campaign_id: str) -> Campaign | None:
    try:
        model = CampaignModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _parse_stored(model)


@lru_cache(maxsize=256)
def _parse_document(document: str) -> Campaign:
    """Validation compiles and test-renders every template: do it once per stored version."""
    return parse_campaign(json.loads(document))


def _parse_stored(model: CampaignModel) -> Campaign | None:
    try:
        return _parse_document(json.dumps(model.spec))  # key order matters: first locale
    except CampaignError as exc:  # stored before a rule changed: never crash the planner
        logger.error("stored campaign invalid", campaign_id=model.campaign_id, errors=str(exc))
        return None


def active_campaigns(occasion_type: str) -> list[tuple[Campaign, str | None]]:
    """Active campaigns of one occasion type with their planning cursor.

    The campaigns table is small (one item per campaign), so a filtered scan is fine here;
    customer and ledger tables are never scanned.
    """
    result: list[tuple[Campaign, str | None]] = []
    for model in CampaignModel.scan(
        (CampaignModel.status == "active") & (CampaignModel.occasion_type == occasion_type)
    ):
        campaign = _parse_stored(model)
        if campaign is not None:
            result.append((campaign, model.planned_through))
    return result


def advance_cursor(campaign_id: str, planned_through: date, previous: str | None) -> bool:
    """Record that every local date up to ``planned_through`` is planned (optimistic)."""
    model = CampaignModel(campaign_id=campaign_id)
    condition = (
        CampaignModel.planned_through.does_not_exist()
        if previous is None
        else CampaignModel.planned_through == previous
    )
    try:
        model.update(
            actions=[CampaignModel.planned_through.set(planned_through.isoformat())],
            condition=condition & CampaignModel.campaign_id.exists(),
        )
    except UpdateError:
        return False
    return True
