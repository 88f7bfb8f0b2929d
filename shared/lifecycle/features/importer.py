"""Import customers (JSON Lines, CSV) and campaigns (JSON list): the code every import path uses.

Reading and validating rows is :mod:`lifecycle.features.import_rows` (its names are
re-exported here); a large S3 file is cut into chunks by
:mod:`lifecycle.features.import_chunks`, which writes each chunk with :func:`write_customers`.

Campaigns follow the marketer API's rules (validation, versions, lifecycle): see
:func:`import_campaigns`; an identical campaign is not written again.

Customers are *upserted* field by field (UpdateItem), so an import never clears what the
system itself recorded about a customer, in particular an unsubscribe. An erased customer's
line is rejected with reason ``erased``: their data never comes back (the write is
conditional on the item not being a tombstone).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from lifecycle.campaigns.model import Campaign, CampaignError, parse_campaign
from lifecycle.campaigns.repository import (
    TRANSITIONS,
    CampaignArchivedError,
    CampaignConflictError,
    CampaignExistsError,
    CampaignStateError,
    QuietHoursError,
    change_status,
    create_campaign,
    get_stored,
    replace_campaign,
    status_path,
)
from lifecycle.core import jsonsafe
from lifecycle.features.import_rows import (
    MAX_LINE_BYTES,
    ImportFileError,
    ImportResult,
    Rejection,
    csv_records,
    decode_text,
    parse_customer_file,
    parse_customer_lines,
    split_lines,
    split_text,
)
from lifecycle.rules.records import CustomerRecord
from lifecycle.store.customers import upsert_customers

ERASED = "erased"  # rejection reason of an erased customer's line

__all__ = [
    "ERASED",
    "MAX_LINE_BYTES",
    "ImportFileCleanupError",
    "ImportFileError",
    "ImportResult",
    "Rejection",
    "csv_records",
    "decode_text",
    "discard_import_file",
    "import_campaigns",
    "import_customers",
    "parse_customer_lines",
    "report_to_keep",
    "split_lines",
    "split_text",
    "write_customers",
]


def import_customers(
    lines: Iterable[str | bytes],
    source: str,
    now: datetime,
    country_shards: int = 16,
    *,
    workers: int = 1,
) -> ImportResult:
    """Import JSON Lines; a source named ``*.csv`` is read as CSV (header row required).

    ``lines`` are best :func:`split_lines` of the file's bytes (text lines work too);
    ``workers`` > 1 writes that many customers at a time (:func:`write_customers`).
    """
    records, result = parse_customer_file(lines, source, now)
    write_customers(records, result, now, country_shards, workers=workers)
    return result


def write_customers(
    records: Sequence[tuple[int, CustomerRecord]],
    result: ImportResult,
    now: datetime,
    country_shards: int,
    *,
    workers: int = 1,
) -> None:
    """Upsert the valid ``records`` (line, record); an erased customer's line is rejected.

    Each customer is one conditional UpdateItem (an import keeps unsubscribes, activity
    recorded since and never writes over a tombstone: see
    :func:`lifecycle.store.customers.upsert_customer`), so BatchWriteItem, which replaces
    whole items unconditionally, cannot be used; ``workers`` > 1 runs that many updates at a
    time instead. Counts go to ``result``; rejections end sorted by line.
    """
    outcomes = upsert_customers(
        [record for _, record in records], now, country_shards, workers=workers
    )
    for (line, record), written in zip(records, outcomes, strict=True):
        if not written:
            result.rejected.append(Rejection(result.source, line, record.customer_id, ERASED))
            continue
        result.imported += 1
        result.imported_ids.append(record.customer_id)
    result.rejected.sort(key=lambda rejection: rejection.line)


def _json_array_items(text: str, source: str) -> Sequence[tuple[int, Any]]:
    """Decode a JSON array, keeping the line on which each element starts.

    An element nested too deep or using NaN/Infinity comes back as its
    :class:`~lifecycle.core.jsonsafe.JSONLimitError`: only that campaign is rejected.
    """
    try:
        return jsonsafe.array_items(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{source}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError:
        raise ImportFileError(f"{source}: must be a JSON list of campaign objects") from None


def import_campaigns(text: str, source: str, now: datetime) -> ImportResult:
    """Import a JSON list of campaigns under the API's rules (see :func:`_apply_campaign`).

    A campaign repeated in the file: the last valid one wins (with a warning).
    """
    result = ImportResult(source=source, unchanged=0)
    winners: dict[str, tuple[int, Campaign]] = {}
    for line, raw in _json_array_items(text, source):
        if isinstance(raw, jsonsafe.JSONLimitError):
            reason = (
                f"campaign: not valid JSON ({raw.msg} at line {raw.lineno}, column {raw.colno})"
            )
            result.rejected.append(Rejection(source, line, None, reason))
            continue
        try:
            campaign = parse_campaign(raw)
        except CampaignError as exc:
            result.rejected.append(Rejection(source, line, exc.campaign_id, str(exc)))
            continue
        if campaign.campaign_id in winners:
            result.warnings.append(
                Rejection(
                    source,
                    line,
                    campaign.campaign_id,
                    f"campaign_id: repeats line {winners[campaign.campaign_id][0]}; this one wins",
                )
            )
        if campaign.unknown_fields:
            result.warnings.append(
                Rejection(
                    source,
                    line,
                    campaign.campaign_id,
                    f"campaign: ignored unknown field(s) {', '.join(campaign.unknown_fields)}",
                )
            )
        winners[campaign.campaign_id] = (line, campaign)
    for line, campaign in sorted(winners.values(), key=lambda winner: winner[0]):
        _apply_campaign(campaign, line, now, result)
    result.rejected.sort(key=lambda rejection: rejection.line)
    return result


def _same(stored: Campaign, imported: Campaign) -> bool:
    """Same document, key order included (the first locale is the fallback)."""
    return json.dumps(stored.document()) == json.dumps(imported.document())


def _apply_campaign(campaign: Campaign, line: int, now: datetime, result: ImportResult) -> None:
    """Bring one stored campaign to the file's version as the API would, step by step.

    A new campaign is created as a draft (``POST /campaigns``); a changed document replaces
    the stored one, keeping its status (``PUT``); then the status moves along the allowed
    transitions (``POST /campaigns/{id}/status``, one step at a time: a new ``paused``
    campaign goes draft -> active -> paused). An archived campaign stays archived; a status
    no transition leads to (back to draft, out of archived) is rejected, and the document
    change before it stays, as after a ``PUT`` followed by a refused status change. A
    campaign identical to the stored one is left alone (no new version).
    """
    campaign_id, target = campaign.campaign_id, campaign.status
    changed = False

    def reject(reason: str) -> None:
        result.rejected.append(Rejection(result.source, line, campaign_id, reason))

    try:
        stored = get_stored(campaign_id)
        if stored is None:
            stored = create_campaign({**campaign.document(), "status": "draft"}, now)
            changed = True
        current = stored.campaign.status
        if not _same(stored.campaign, campaign.model_copy(update={"status": current})):
            stored = replace_campaign(
                campaign_id,
                {**campaign.document(), "status": current},
                now,
                expected_version=stored.version,
            )
            changed = True
        path = status_path(current, target)
        if path is None and current == "archived":
            raise CampaignArchivedError(campaign_id)
        if path is None:
            allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
            kept = f"content updated (version {stored.version})" if changed else "nothing changed"
            reject(
                f"invalid_transition: cannot go from {current} to {target} "
                f"(allowed: {allowed}); status stays {current}, {kept}"
            )
        version = stored.version
        for step in path or []:
            version = change_status(campaign_id, step, now, expected_version=version)
            changed = True
    except CampaignArchivedError:
        reject("archived: the campaign is archived (final); nothing changed")
    except CampaignExistsError:
        reject("already_exists: the stored campaign cannot be read under today's rules; fix it")
    except QuietHoursError as exc:  # the messaging policy's quiet hours (or SMS 08:00-21:00)
        reject(str(exc))
    except (CampaignConflictError, CampaignError):
        # Someone saved the campaign between this import's read and write: a newer version,
        # or another status than the one read (the repository re-reads it).
        reject("version_conflict: the campaign changed while importing; import the file again")
    except CampaignStateError as exc:
        reject(f"invalid_transition: {exc}")
    if changed:
        result.imported += 1
        result.imported_ids.append(campaign_id)
    elif not any(r.line == line for r in result.rejected):
        result.unchanged = (result.unchanged or 0) + 1


# -- what an S3 import leaves behind ---------------------------------------------------------
def report_to_keep(result: Mapping[str, Any]) -> dict[str, Any]:
    """The report of a customers file as kept in the bucket: counts, lines and customer ids.

    A rejection's reason may quote the value it refused (an address, a birthday, a phone
    number): only the field it names is kept (``"birthday"``, ``"erased"``), and no id when
    the id itself was refused (it may be anything, an address too). Warnings name lines,
    customer ids and field names only. The full reasons are in the import's answer, not kept.
    """
    rejected = []
    for rejection in result.get("rejected", []):
        field_name = str(rejection["reason"]).split(":", 1)[0]
        rejected.append(
            {
                "source": rejection["source"],
                "line": rejection["line"],
                "id": None if field_name == "customer_id" else rejection["id"],
                "reason": field_name,
            }
        )
    return {**result, "rejected": rejected}


def discard_import_file(s3: Any, bucket: str, key: str, version_id: str | None) -> int:
    """Delete an imported file for good: the version read and every older version of ``key``.

    The bucket is versioned, so a plain delete would only hide the data behind a delete
    marker. A version uploaded after the one imported stays: its own event imports it (and
    then deletes it). ``version_id`` None or ``"null"``: an unversioned bucket, one delete.
    Returns the number of versions deleted.
    """
    if version_id in (None, "null"):
        s3.delete_object(Bucket=bucket, Key=key)
        return 1
    versions: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        versions += [v for v in page.get("Versions", []) if v["Key"] == key]
    versions.sort(key=lambda v: v["LastModified"], reverse=True)
    ids = [v["VersionId"] for v in versions]
    doomed = ids[ids.index(version_id) :] if version_id in ids else [version_id]
    for start in range(0, len(doomed), 1000):  # DeleteObjects takes up to 1000 keys
        answer = s3.delete_objects(
            Bucket=bucket,
            Delete={
                "Objects": [{"Key": key, "VersionId": v} for v in doomed[start : start + 1000]],
                "Quiet": True,
            },
        )
        if answer.get("Errors"):
            raise ImportFileCleanupError(key, answer["Errors"])
    return len(doomed)


class ImportFileCleanupError(RuntimeError):
    """Some versions of an imported file could not be deleted (the import is retried)."""

    def __init__(self, key: str, errors: list[dict[str, Any]]) -> None:
        codes = sorted({str(error.get("Code")) for error in errors})
        super().__init__(f"{key}: {len(errors)} version(s) not deleted ({', '.join(codes)})")
