"""Import customers (JSON Lines) and campaigns (JSON list): the code every import path uses.

Bad records are rejected one by one with a reason and never stop the good ones: a line that
is not UTF-8, nests too deep or uses NaN is rejected on its own. A file that cannot be read at
all raises :class:`ImportFileError` with a clear message.

Lines are split on ``\n`` only (a trailing ``\r`` dropped): U+2028, U+0085 and the other
characters :meth:`str.splitlines` also splits on may appear inside a JSON string.

Campaigns follow the marketer API's rules (validation, versions, lifecycle): see
:func:`import_campaigns`; an identical campaign is not written again.

Customers are *upserted* field by field (UpdateItem), so an import never clears what the
system itself recorded about a customer, in particular an unsubscribe. An erased customer's
line is rejected with reason ``erased``: their data never comes back (the write is
conditional on the item not being a tombstone).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from lifecycle.campaigns.model import Campaign, CampaignError, parse_campaign
from lifecycle.campaigns.repository import (
    TRANSITIONS,
    CampaignArchivedError,
    CampaignConflictError,
    CampaignExistsError,
    CampaignStateError,
    change_status,
    create_campaign,
    get_stored,
    replace_campaign,
    status_path,
)
from lifecycle.core import jsonsafe
from lifecycle.rules.records import CustomerRecord, RecordError, parse_customer
from lifecycle.store.customers import CustomerErasedError, upsert_customer

MAX_LINE_BYTES = 64 * 1024
ERASED = "erased"  # rejection reason of an erased customer's line


class ImportFileError(ValueError):
    """The whole file is unusable (not UTF-8, not JSON, wrong top-level shape)."""


@dataclass(frozen=True)
class Rejection:
    source: str
    line: int
    id: str | None
    reason: str


@dataclass
class ImportResult:
    source: str
    imported: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    imported_ids: list[str] = field(default_factory=list)
    unchanged: int | None = None  # campaigns: identical to the stored ones (not written)

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "source": self.source,
            "imported": self.imported,
            "rejected": [asdict(r) for r in self.rejected],
            "warnings": [asdict(w) for w in self.warnings],
        }
        if self.unchanged is not None:
            answer["unchanged"] = self.unchanged
        return answer


def decode_text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{source}: not UTF-8 text (byte {exc.start})") from None


def split_lines(data: bytes) -> list[bytes]:
    """The lines of an uploaded file: split on ``b"\\n"`` only, ``b"\\r"`` and a BOM dropped.

    Each line is decoded on its own (:func:`parse_customer_lines`), so one byte that is not
    UTF-8 costs that line only.
    """
    data = data.removeprefix(b"\xef\xbb\xbf")
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def split_text(text: str) -> list[str]:
    """:func:`split_lines` for text that is already decoded (never :meth:`str.splitlines`)."""
    lines = text.removeprefix("\ufeff").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _decode_line(line: str | bytes) -> str:
    """The text of one line; ValueError names the first byte that is not UTF-8."""
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"record: not UTF-8 text (byte {exc.start + 1} of the line)") from None


def _jsonl_records(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Any]]:
    """(line, parsed JSON or an error string) per non-empty line."""
    for number, line in enumerate(lines, start=1):
        try:
            text = _decode_line(line).strip()
        except ValueError as exc:
            yield number, str(exc)
            continue
        if not text or text.startswith("//"):
            continue
        if len(text.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            yield number, f"record: line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            yield number, jsonsafe.loads(text)
        except json.JSONDecodeError as exc:
            yield number, f"record: not valid JSON ({exc.msg} at column {exc.colno})"


def parse_customer_lines(
    lines: Iterable[str | bytes],
    source: str,
    *,
    csv_text: str | None = None,
    now: datetime | None = None,
) -> tuple[list[tuple[int, CustomerRecord]], ImportResult]:
    """Validate JSON Lines (or CSV); a repeated customer_id: the later row wins (warning).

    ``lines`` are text or bytes (:func:`split_lines`); ``now`` bounds future instants.
    """
    result = ImportResult(source=source)
    accepted: dict[str, tuple[int, CustomerRecord]] = {}
    rows = csv_records(csv_text) if csv_text is not None else _jsonl_records(lines)
    for number, raw in rows:
        if isinstance(raw, str):
            result.rejected.append(Rejection(source, number, None, raw))
            continue
        try:
            record = parse_customer(raw, now)
        except RecordError as exc:
            result.rejected.append(Rejection(source, number, exc.record_id, exc.reason))
            continue
        if record.customer_id in accepted:
            previous = accepted[record.customer_id][0]
            result.warnings.append(
                Rejection(
                    source,
                    number,
                    record.customer_id,
                    f"customer_id: repeats line {previous}; this line wins",
                )
            )
        if record.unknown_fields:
            result.warnings.append(
                Rejection(
                    source,
                    number,
                    record.customer_id,
                    f"record: ignored unknown field(s) {', '.join(record.unknown_fields)}",
                )
            )
        accepted[record.customer_id] = (number, record)
    return list(accepted.values()), result


CSV_TRUE = {"true", "yes", "y", "1"}
CSV_FALSE = {"false", "no", "n", "0", ""}


def csv_records(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, record) per CSV row; consent_email/consent_sms booleans, attr_<name> attributes,
    date_<name> named dates.

    A row that cannot be read yields an error string instead of a record; every row is
    reported at the line it starts on (:func:`_csv_rows`).
    """
    rows = _csv_rows(text)
    header = next(rows, None)
    fieldnames = header[1] if header is not None else None
    if not isinstance(fieldnames, list) or "customer_id" not in fieldnames:
        raise ImportFileError("CSV needs a header row with a customer_id column")
    for line, cells in rows:
        if isinstance(cells, str):
            yield line, cells
            continue
        if not cells:
            continue  # a blank line
        if len(cells) > len(fieldnames):
            yield line, "record: more cells than header columns"
            continue
        row: dict[str, str | None] = dict.fromkeys(fieldnames)
        row.update(zip(fieldnames, cells, strict=False))
        record: dict[str, Any] = {}
        consent: dict[str, bool] = {}
        attributes: dict[str, str] = {}
        dates: dict[str, str] = {}
        problem = None
        for column, raw in row.items():
            value = (raw or "").strip()
            if column in ("consent_email", "consent_sms"):
                if value.lower() in CSV_TRUE:
                    consent[column.removeprefix("consent_")] = True
                elif value.lower() in CSV_FALSE:
                    consent[column.removeprefix("consent_")] = False
                else:
                    problem = f"consent: {column} must be true or false, got {value!r}"
            elif column.startswith("attr_"):
                if value:
                    attributes[column.removeprefix("attr_")] = value
            elif column.startswith("date_"):
                if value:
                    dates[column.removeprefix("date_")] = value
            elif value:
                record[column] = value
        if problem:
            yield line, problem
            continue
        if consent:
            record["consent"] = consent
        if attributes:
            record["attributes"] = attributes
        if dates:
            record["dates"] = dates
        yield line, record


class _LineFeed:
    """The lines from ``position`` on, each with its ``"\\n"``; notes when the reader ran out."""

    def __init__(self, lines: list[str], position: int) -> None:
        self.lines = lines
        self.position = position
        self.ran_out = False

    def __iter__(self) -> Iterator[str]:
        while self.position < len(self.lines):
            self.position += 1
            yield self.lines[self.position - 1] + "\n"
        self.ran_out = True


def _csv_error_reason(exc: csv.Error) -> str:
    message = str(exc)
    if message.startswith("field larger than field limit"):
        return f"record: a cell longer than {csv.field_size_limit()} characters"
    if message.startswith("new-line character seen in unquoted field"):
        return "record: a line break (CR) inside a cell that is not quoted"
    return f"record: not readable as CSV ({message})"


def _csv_rows(text: str) -> Iterator[tuple[int, list[str] | str]]:
    """(line the row starts on, its cells or an error string) per CSV row, header included.

    The csv module cannot resync after a bad row (a cell over its field limit, a bare CR in
    a cell that is not quoted) and reads an unclosed quote to the end of the file: such a row
    costs its first line only, reading starts again on the next line. A quoted cell may still
    span lines. A file with CR-only line ends (no LF at all, Excel's "CSV (Macintosh)") is
    read with CR as the line end.
    """
    if "\n" not in text:
        text = text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    feed = _LineFeed(lines, 0)
    reader = csv.reader(feed)
    while feed.position < len(lines):
        start = feed.position
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start + 1, _csv_error_reason(exc)
            feed = _LineFeed(lines, start + 1)
            reader = csv.reader(feed)
            continue
        if feed.ran_out:  # still inside a quoted cell at the end of the file
            yield start + 1, 'record: a quoted cell is never closed (a " opened on this line)'
            feed = _LineFeed(lines, start + 1)
            reader = csv.reader(feed)
            continue
        yield start + 1, cells


def _csv_text(lines: Iterable[str | bytes]) -> tuple[str, list[tuple[int, str]]]:
    """The CSV text, with each line that is not UTF-8 left empty and reported by number."""
    texts: list[str] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        try:
            texts.append(_decode_line(line))
        except ValueError as exc:
            texts.append("")  # the CSV reader skips an empty line but still counts it
            problems.append((number, str(exc)))
    return "\n".join(texts), problems


def import_customers(
    lines: Iterable[str | bytes], source: str, now: datetime, country_shards: int = 16
) -> ImportResult:
    """Import JSON Lines; a source named ``*.csv`` is read as CSV (header row required).

    ``lines`` are best :func:`split_lines` of the file's bytes (text lines work too).
    """
    if source.lower().endswith(".csv"):
        text, problems = _csv_text(lines)
        records, result = parse_customer_lines([], source, csv_text=text, now=now)
        result.rejected[:0] = [Rejection(source, line, None, why) for line, why in problems]
        result.rejected.sort(key=lambda rejection: rejection.line)
    else:
        records, result = parse_customer_lines(lines, source, now=now)
    for line, record in records:
        try:
            upsert_customer(record, now, country_shards)
        except CustomerErasedError:
            result.rejected.append(Rejection(source, line, record.customer_id, ERASED))
            continue
        result.imported += 1
        result.imported_ids.append(record.customer_id)
    result.rejected.sort(key=lambda rejection: rejection.line)
    return result


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
