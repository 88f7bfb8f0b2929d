"""Campaigns as the rest of the system sees them: validated models with their version.

Parses the raw documents of :mod:`lifecycle.store.campaigns` (once per stored version) and
holds the lifecycle: draft -> active -> paused -> active ...; anything but archived ->
archived (final).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from lifecycle.campaigns.model import Campaign, CampaignError, FieldError, parse_campaign
from lifecycle.core.localtime import parse_hhmm
from lifecycle.core.observability import logger
from lifecycle.occasions.registry import types as occasion_types
from lifecycle.rules.policy import Policy, parse_policy, quiet_channels, quiet_window
from lifecycle.store import campaigns as records
from lifecycle.store import policy as policy_store
from lifecycle.store.campaigns import CampaignConflictError, advance_cursor

__all__ = [
    "TRANSITIONS",
    "CampaignArchivedError",
    "CampaignConflictError",
    "CampaignExistsError",
    "CampaignNotFoundError",
    "CampaignStateError",
    "QuietHoursError",
    "StoredCampaign",
    "active_campaigns",
    "advance_cursor",
    "campaigns_cached",
    "change_status",
    "create_campaign",
    "delete_campaign",
    "get_stored",
    "list_page",
    "list_stored",
    "load_campaign",
    "policy_conflicts",
    "quiet_hours_errors",
    "replace_campaign",
    "require_stored",
    "save_campaign",
    "status_path",
]


class CampaignStateError(RuntimeError):
    """The requested change is not allowed in the campaign's lifecycle state."""


class CampaignNotFoundError(KeyError):
    """No campaign with this id."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(campaign_id)
        self.campaign_id = campaign_id

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} not found"


TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "archived"}),
    "active": frozenset({"paused", "archived"}),
    "paused": frozenset({"active", "archived"}),
    "archived": frozenset(),
}


def status_path(current: str, target: str) -> list[str] | None:
    """The statuses to go through, in order, to move from ``current`` to ``target`` along
    :data:`TRANSITIONS` (shortest way; ``[]`` when already there), or None if none leads there.

    ``draft -> paused`` is ``["active", "paused"]``; nothing leads back to draft or out of
    archived.
    """
    ways: dict[str, list[str]] = {current: []}
    frontier = [current]
    while frontier:
        following = []
        for status in frontier:
            for step in sorted(TRANSITIONS.get(status, frozenset())):
                if step not in ways:
                    ways[step] = [*ways[status], step]
                    following.append(step)
        frontier = following
    return ways.get(target)


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
    """Create or replace a campaign; return its new version (see :func:`records.put_record`)."""
    return records.put_record(
        campaign.campaign_id,
        status=campaign.status,
        occasion_type=campaign.occasion.type,
        document=campaign.document(),
        now=now,
        expected_version=expected_version,
        must_not_exist=must_not_exist,
    )


@lru_cache(maxsize=256)
def _parse_document(document: str) -> Campaign:
    """Validation compiles and test-renders every template: do it once per stored version."""
    return parse_campaign(json.loads(document))


def _parse(record: records.CampaignRecord) -> Campaign | None:
    try:
        return _parse_document(_canonical(record.document))  # key order matters: first locale
    except CampaignError as exc:  # stored before a rule changed: never crash the planner
        logger.error("stored campaign invalid", campaign_id=record.campaign_id, errors=str(exc))
        return None


def _canonical(document: Mapping[str, Any]) -> str:
    return json.dumps(document)


def _stored(record: records.CampaignRecord | None) -> StoredCampaign | None:
    if record is None:
        return None
    campaign = _parse(record)
    if campaign is None:
        return None
    return StoredCampaign(campaign, record.version, record.updated_at)


def get_stored(campaign_id: str) -> StoredCampaign | None:
    return _stored(records.get_record(campaign_id))


def require_stored(campaign_id: str) -> StoredCampaign:
    """The stored campaign, or :class:`CampaignNotFoundError`."""
    stored = get_stored(campaign_id)
    if stored is None:
        raise CampaignNotFoundError(campaign_id)
    return stored


def list_stored(status: str | None = None) -> list[StoredCampaign]:
    """Every campaign (optionally of one status), sorted by id."""
    result = [s for s in map(_stored, records.scan_records(status=status)) if s is not None]
    return sorted(result, key=lambda s: s.campaign.campaign_id)


_invocation_cache: dict[str, Campaign | None] | None = None


@contextmanager
def campaigns_cached() -> Iterator[None]:
    """Inside the block :func:`load_campaign` reads each campaign once (strongly consistent).

    A handler wraps one invocation in it (the sender: a batch of at most 10 deliveries, so
    10 campaign reads become one per campaign). The cache is emptied when the block ends,
    whatever happens, and never outlives the invocation: a campaign paused or archived
    while a batch is being sent stops at the next invocation, at the latest after the
    function's timeout (60 s for the sender), which is no longer than an in-flight send
    could take before. Nested blocks share the outer cache.
    """
    global _invocation_cache  # noqa: PLW0603 (one invocation at a time per process)
    if _invocation_cache is not None:
        yield
        return
    _invocation_cache = {}
    try:
        yield
    finally:
        _invocation_cache = None


def load_campaign(campaign_id: str) -> Campaign | None:
    """The campaign (None when unknown or invalid); once per invocation inside
    :func:`campaigns_cached`, otherwise a strongly consistent read per call."""
    cache = _invocation_cache
    if cache is not None and campaign_id in cache:
        return cache[campaign_id]
    stored = get_stored(campaign_id)
    campaign = stored.campaign if stored else None
    if cache is not None:
        cache[campaign_id] = campaign
    return campaign


def active_campaigns(occasion_type: str) -> list[tuple[Campaign, str | None, str | None]]:
    """Active campaigns of one occasion type with their planning cursor and activation time."""
    result: list[tuple[Campaign, str | None, str | None]] = []
    for record in records.scan_records(status="active", occasion_type=occasion_type):
        campaign = _parse(record)
        if campaign is not None:
            result.append((campaign, record.planned_through, record.activated_at))
    return result


def change_status(campaign_id: str, status: str, now: datetime, expected_version: int) -> int:
    """Move a campaign along its lifecycle; :class:`CampaignStateError` if not allowed."""
    stored = require_stored(campaign_id)
    current = stored.campaign.status
    if status not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "none"
        raise CampaignStateError(f"cannot go from {current} to {status} (allowed: {allowed})")
    changed = stored.campaign.model_copy(update={"status": status})
    if status == "active":  # saved as a draft under an older policy: checked again
        _refuse_quiet_send_time(changed)
    return save_campaign(changed, now, expected_version=expected_version)


def delete_campaign(campaign_id: str, expected_version: int) -> None:
    """Delete a draft. Campaigns that ever planned are archived instead (history stays)."""
    stored = require_stored(campaign_id)
    if stored.campaign.status != "draft":
        raise CampaignStateError(
            f"only draft campaigns can be deleted; archive this {stored.campaign.status} one"
        )
    try:
        records.delete_record(campaign_id, expected_version)
    except CampaignConflictError:
        raise CampaignConflictError(campaign_id, stored.version) from None


class CampaignExistsError(CampaignConflictError):
    """A campaign with this id exists already (create never overwrites)."""


class CampaignArchivedError(CampaignStateError):
    """Archived campaigns are final: they cannot be edited."""


def create_campaign(document: Mapping[str, Any], now: datetime) -> StoredCampaign:
    """Validate and store a new campaign; it always starts as a draft.

    Raises :class:`CampaignError` (by field) and :class:`CampaignExistsError`.
    """
    if document.get("status", "draft") != "draft":
        raise CampaignError(
            [
                FieldError(
                    "status",
                    "new campaigns start as draft; activate with POST /campaigns/{id}/status",
                )
            ]
        )
    campaign = parse_campaign({**document, "status": "draft"})
    _refuse_quiet_send_time(campaign)
    try:
        save_campaign(campaign, now, must_not_exist=True)
    except CampaignConflictError as exc:
        raise CampaignExistsError(campaign.campaign_id, exc.current_version) from None
    return require_stored(campaign.campaign_id)


def replace_campaign(
    campaign_id: str, document: Mapping[str, Any], now: datetime, expected_version: int
) -> StoredCampaign:
    """Replace a campaign's document, keeping its id and status (change those elsewhere).

    Raises :class:`CampaignNotFoundError`, :class:`CampaignError` (by field),
    :class:`CampaignArchivedError` and :class:`CampaignConflictError` (stale version).
    """
    stored = require_stored(campaign_id)
    current = stored.campaign.status
    if document.get("campaign_id", campaign_id) != campaign_id:
        raise CampaignError([FieldError("campaign_id", "does not match the URL")])
    if document.get("status", current) != current:
        raise CampaignError(
            [FieldError("status", "change the status with POST /campaigns/{id}/status")]
        )
    if current == "archived":
        raise CampaignArchivedError("archived campaigns cannot change")
    campaign = parse_campaign({**document, "campaign_id": campaign_id, "status": current})
    _refuse_quiet_send_time(campaign)
    save_campaign(campaign, now, expected_version=expected_version)
    return require_stored(campaign_id)


def list_page(
    status: str | None, limit: int, after: str | None = None
) -> tuple[list[StoredCampaign], str | None]:
    """One page of campaigns (table order) and the id to continue after (``None``: last)."""
    records_page, last = records.scan_page(status, limit, after)
    return [s for s in map(_stored, records_page) if s is not None], last


# ---------------------------------------------------------------- the messaging policy


def stored_policy() -> Policy | None:
    """The account's messaging policy as stored now (None: none; the defaults apply)."""
    record = policy_store.get_policy_record()
    if record.document is None:
        return None
    return parse_policy(record.document, occasion_types())


def quiet_hours_errors(campaign: Campaign, policy: Policy | None) -> list[FieldError]:
    """A field error on ``send_at_local`` for each channel whose quiet hours contain it."""
    send_at = parse_hhmm(campaign.send_at_local)
    errors = []
    for channel in quiet_channels(send_at, campaign.channels, policy):
        window = quiet_window(policy, channel)
        assert window is not None
        errors.append(
            FieldError(
                "send_at_local",
                f"{campaign.send_at_local} is inside the {channel} quiet hours "
                f"({window.start}-{window.end} local)",
            )
        )
    return errors


class QuietHoursError(CampaignError):
    """The campaign's ``send_at_local`` falls inside its channels' quiet hours."""


def _refuse_quiet_send_time(campaign: Campaign) -> None:
    """Every save and import (create, replace, activation) goes through here."""
    errors = quiet_hours_errors(campaign, stored_policy())
    if errors:
        raise QuietHoursError(errors, campaign.campaign_id)


def policy_conflicts(policy: Policy) -> list[FieldError]:
    """Active campaigns whose send time ``policy``'s quiet hours would contradict, as field
    errors on ``quiet_hours.<channel>``: a new policy is refused while any exist (paused and
    draft ones are checked again when they are activated)."""
    errors = []
    for stored in list_stored("active"):
        campaign = stored.campaign
        send_at = parse_hhmm(campaign.send_at_local)
        for channel in quiet_channels(send_at, campaign.channels, policy):
            errors.append(
                FieldError(
                    f"quiet_hours.{channel}",
                    f"active campaign {campaign.campaign_id} sends at {campaign.send_at_local} "
                    f"local on {channel}; move its send_at_local or pause it first",
                )
            )
    return errors
