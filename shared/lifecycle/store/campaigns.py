"""Campaign data access (PynamoDB)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from lifecycle.campaigns.model import Campaign, CampaignError, parse_campaign
from lifecycle.core.clock import utc_iso
from lifecycle.core.observability import logger
from lifecycle.store.models import CampaignModel


class CampaignConflictError(RuntimeError):
    """The campaign changed since the caller read it (optimistic concurrency)."""

    def __init__(self, campaign_id: str, current_version: int | None) -> None:
        super().__init__(f"campaign {campaign_id} is at version {current_version}")
        self.campaign_id = campaign_id
        self.current_version = current_version


class CampaignStateError(RuntimeError):
    """The requested change is not allowed in the campaign's lifecycle state."""


# draft -> active -> paused -> active ... ; anything but archived -> archived (final).
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "archived"}),
    "active": frozenset({"paused", "archived"}),
    "paused": frozenset({"active", "archived"}),
    "archived": frozenset(),
}


@dataclass(frozen=True)
class StoredCampaign:
    campaign: Campaign
    version: int
    updated_at: str | None


def save_campaign(
    campaign: Campaign,
    now: datetime,
    *,
    expected_version: int | None = None,
    must_not_exist: bool = False,
) -> int:
    """Create or replace a campaign document; return its new version.

    ``expected_version`` makes the write conditional on the stored version (optimistic
    concurrency): :class:`CampaignConflictError` when someone else saved in between.
    """
    try:
        existing = CampaignModel.get(campaign.campaign_id, consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is not None and must_not_exist:
        raise CampaignConflictError(campaign.campaign_id, int(existing.version))
    if expected_version is not None and (
        existing is None or int(existing.version) != expected_version
    ):
        raise CampaignConflictError(
            campaign.campaign_id, int(existing.version) if existing else None
        )
    version = int(existing.version) + 1 if existing else 1
    # A campaign that was not active has planned nothing meanwhile: after (re)activation
    # planning starts at today again instead of reporting the pause as missed sends.
    still_active = (
        existing is not None and existing.status == "active" and campaign.status == "active"
    )
    condition = (
        CampaignModel.campaign_id.does_not_exist()
        if existing is None
        else CampaignModel.version == int(existing.version)
    )
    try:
        CampaignModel(
            campaign_id=campaign.campaign_id,
            status=campaign.status,
            occasion_type=campaign.occasion.type,
            spec=campaign.document(),
            version=version,
            planned_through=existing.planned_through if still_active and existing else None,
            updated_at=utc_iso(now),
        ).save(condition=condition)
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise CampaignConflictError(campaign.campaign_id, None) from None
        raise
    return version


def get_stored(campaign_id: str) -> StoredCampaign | None:
    try:
        model = CampaignModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        return None
    campaign = _parse_stored(model)
    if campaign is None:
        return None
    return StoredCampaign(campaign, int(model.version), model.updated_at)


def list_stored(status: str | None = None) -> list[StoredCampaign]:
    """All campaigns (the campaigns table is small: one item per campaign)."""
    condition = CampaignModel.status == status if status else None
    result = []
    for model in CampaignModel.scan(condition):
        campaign = _parse_stored(model)
        if campaign is not None:
            result.append(StoredCampaign(campaign, int(model.version), model.updated_at))
    return sorted(result, key=lambda s: s.campaign.campaign_id)


def change_status(campaign_id: str, status: str, now: datetime, expected_version: int) -> int:
    """Move a campaign along its lifecycle; :class:`CampaignStateError` if not allowed."""
    stored = get_stored(campaign_id)
    if stored is None:
        raise KeyError(campaign_id)
    current = stored.campaign.status
    if status not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "none"
        raise CampaignStateError(f"cannot go from {current} to {status} (allowed: {allowed})")
    changed = stored.campaign.model_copy(update={"status": status})
    return save_campaign(changed, now, expected_version=expected_version)


def delete_campaign(campaign_id: str, expected_version: int) -> None:
    """Delete a draft. Campaigns that ever planned are archived instead (history stays)."""
    stored = get_stored(campaign_id)
    if stored is None:
        raise KeyError(campaign_id)
    if stored.campaign.status != "draft":
        raise CampaignStateError(
            f"only draft campaigns can be deleted; archive this {stored.campaign.status} one"
        )
    try:
        CampaignModel(campaign_id=campaign_id).delete(
            condition=CampaignModel.version == expected_version
        )
    except DeleteError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise CampaignConflictError(campaign_id, stored.version) from None
        raise


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
