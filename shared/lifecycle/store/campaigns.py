"""Campaign items (PynamoDB): raw documents with version, status and planning cursor.

The store knows nothing of the campaign model: it keeps the validated document as JSON and
the attributes the planner filters on. :mod:`lifecycle.campaigns.repository` parses them.
Every write is conditional on the version the caller read (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from lifecycle.core.clock import utc_iso
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import CampaignModel


class CampaignConflictError(RuntimeError):
    """The campaign changed since the caller read it (optimistic concurrency)."""

    def __init__(self, campaign_id: str, current_version: int | None) -> None:
        super().__init__(f"campaign {campaign_id} is at version {current_version}")
        self.campaign_id = campaign_id
        self.current_version = current_version


@dataclass(frozen=True)
class CampaignRecord:
    campaign_id: str
    document: dict[str, Any]
    status: str
    version: int
    updated_at: str | None
    planned_through: str | None
    activated_at: str | None = None


def _record(model: CampaignModel) -> CampaignRecord:
    return CampaignRecord(
        campaign_id=model.campaign_id,
        document=dict(model.spec or {}),
        status=model.status,
        version=int(model.version),
        updated_at=model.updated_at,
        planned_through=model.planned_through,
        activated_at=model.activated_at,
    )


def get_record(campaign_id: str) -> CampaignRecord | None:
    try:
        return _record(CampaignModel.get(campaign_id, consistent_read=True))
    except DoesNotExist:
        return None


def put_record(
    campaign_id: str,
    *,
    status: str,
    occasion_type: str,
    document: dict[str, Any],
    now: datetime,
    expected_version: int | None = None,
    must_not_exist: bool = False,
) -> int:
    """Create or replace a campaign document; return its new version.

    ``expected_version`` makes the write conditional on the stored version:
    :class:`CampaignConflictError` when someone else saved in between.
    """
    existing = get_record(campaign_id)
    if existing is not None and must_not_exist:
        raise CampaignConflictError(campaign_id, existing.version)
    if expected_version is not None and (existing is None or existing.version != expected_version):
        raise CampaignConflictError(campaign_id, existing.version if existing else None)
    version = existing.version + 1 if existing else 1
    # A campaign that was not active has planned nothing meanwhile: after (re)activation
    # planning starts at today again instead of reporting the pause as missed sends.
    still_active = existing is not None and existing.status == "active" and status == "active"
    condition = (
        CampaignModel.campaign_id.does_not_exist()
        if existing is None
        else CampaignModel.version == existing.version
    )
    try:
        CampaignModel(
            campaign_id=campaign_id,
            status=status,
            occasion_type=occasion_type,
            spec=document,
            version=version,
            planned_through=existing.planned_through if still_active and existing else None,
            activated_at=_activated_at(existing, status, now),
            updated_at=utc_iso(now),
        ).save(condition=condition)
    except PutError as exc:
        if condition_failed(exc):
            raise CampaignConflictError(campaign_id, None) from None
        raise
    return version


def _activated_at(existing: CampaignRecord | None, status: str, now: datetime) -> str | None:
    """When the campaign became active: kept while it stays active, set when it becomes so.

    The planner plans from this instant on, so a day whose planner runs all failed is caught
    up later instead of being lost (occurrences due before activation are never planned).
    """
    if status != "active":
        return None
    if existing is not None and existing.status == "active" and existing.activated_at:
        return existing.activated_at
    return utc_iso(now)


def delete_record(campaign_id: str, expected_version: int) -> None:
    try:
        CampaignModel(campaign_id=campaign_id).delete(
            condition=CampaignModel.version == expected_version
        )
    except DeleteError as exc:
        if condition_failed(exc):
            raise CampaignConflictError(campaign_id, None) from None
        raise


def scan_records(
    status: str | None = None, occasion_type: str | None = None
) -> Iterator[CampaignRecord]:
    """Campaign items, filtered (the campaigns table is small: one item per campaign).

    Customer and ledger tables are never scanned.
    """
    condition = None
    if status:
        condition = CampaignModel.status == status
    if occasion_type:
        by_type = CampaignModel.occasion_type == occasion_type
        condition = by_type if condition is None else condition & by_type
    for model in CampaignModel.scan(condition):
        yield _record(model)


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
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def scan_page(
    status: str | None, limit: int, after: str | None = None
) -> tuple[list[CampaignRecord], str | None]:
    """Up to ``limit`` campaign items in table order, starting after the id ``after``.

    Returns the items and the id to continue after, or ``None`` on the last page. DynamoDB
    applies the status filter after reading, so the scan reads on until the page is full.
    """
    condition = CampaignModel.status == status if status else None
    start = {"campaign_id": {"S": after}} if after else None
    page: list[CampaignRecord] = []
    for model in CampaignModel.scan(condition, last_evaluated_key=start, page_size=limit + 1):
        if len(page) == limit:
            return page, page[-1].campaign_id  # one more exists: continue after the last
        page.append(_record(model))
    return page, None
