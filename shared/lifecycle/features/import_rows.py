"""Reading customer files: JSON Lines and CSV rows, validated one by one.

Bad records are rejected one by one with a reason and never stop the good ones: a line that
is not UTF-8, nests too deep or uses NaN is rejected on its own. A file that cannot be read at
all raises :class:`ImportFileError` with a clear message.

Lines are split on ``\n`` only (a trailing ``\r`` dropped): U+2028, U+0085 and the other
characters :meth:`str.splitlines` also splits on may appear inside a JSON string.

Every reader here also reads a *part* of a file (a chunk of a large S3 import, see
:mod:`lifecycle.features.import_chunks`): ``first_line`` numbers its lines as in the whole
file, and a CSV chunk gets the file's header row from the caller.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from lifecycle.core import jsonsafe
from lifecycle.rules.records import CustomerRecord, RecordError, parse_customer

MAX_LINE_BYTES = 64 * 1024
BOM = b"\xef\xbb\xbf"


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


def split_lines(data: bytes, *, file_start: bool = True) -> list[bytes]:
    """The lines of an uploaded file: split on ``b"\\n"`` only, ``b"\\r"`` and a BOM dropped.

    Each line is decoded on its own (:func:`parse_customer_lines`), so one byte that is not
    UTF-8 costs that line only. ``file_start`` False: ``data`` is a later part of a file (a
    chunk), where a BOM is no BOM but part of a line.
    """
    if file_start:
        data = data.removeprefix(BOM)
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


def _jsonl_records(lines: Iterable[str | bytes], first_line: int = 1) -> Iterator[tuple[int, Any]]:
    """(line, parsed JSON or an error string) per non-empty line."""
    for number, line in enumerate(lines, start=first_line):
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
    first_line: int = 1,
) -> tuple[list[tuple[int, CustomerRecord]], ImportResult]:
    """Validate JSON Lines (or CSV); a repeated customer_id: the later row wins (warning).

    ``lines`` are text or bytes (:func:`split_lines`); ``now`` bounds future instants;
    ``first_line`` is the number of the first line (a chunk of a larger file).
    """
    rows = csv_records(csv_text) if csv_text is not None else _jsonl_records(lines, first_line)
    return validate_rows(rows, source, now)


def validate_rows(
    rows: Iterable[tuple[int, Any]], source: str, now: datetime | None
) -> tuple[list[tuple[int, CustomerRecord]], ImportResult]:
    """(line, record) of the valid rows, in line order, and the rejections and warnings."""
    result = ImportResult(source=source)
    accepted: dict[str, tuple[int, CustomerRecord]] = {}
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


def csv_lines(text: str) -> list[str]:
    """The lines of CSV text; a file with CR-only line ends (no LF at all, Excel's "CSV
    (Macintosh)") is read with CR as the line end."""
    if "\n" not in text:
        text = text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def csv_header(row: list[str] | str | None) -> list[str]:
    """The column names of a CSV file's first row; :class:`ImportFileError` if unusable."""
    if not isinstance(row, list) or "customer_id" not in row:
        raise ImportFileError("CSV needs a header row with a customer_id column")
    return row


def csv_records(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, record) per CSV row; consent_email/consent_sms booleans, attr_<name> attributes,
    date_<name> named dates.

    A row that cannot be read yields an error string instead of a record; every row is
    reported at the line it starts on (:func:`csv_rows`).
    """
    rows = csv_rows(csv_lines(text))
    header = next(rows, None)
    fieldnames = csv_header(header[1] if header is not None else None)
    yield from csv_row_records(rows, fieldnames)


def csv_row_records(
    rows: Iterable[tuple[int, list[str] | str | None]], fieldnames: Sequence[str]
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """The records of CSV rows after the header (``fieldnames``), see :func:`csv_records`."""
    for line, cells in rows:
        if cells is None:
            continue  # only a reader that is not final yields None (chunk planning)
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

    def __init__(self, lines: Sequence[str], position: int) -> None:
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


UNCLOSED_QUOTE = 'record: a quoted cell is never closed (a " opened on this line)'


def csv_rows(
    lines: Sequence[str], *, first_line: int = 1, final: bool = True
) -> Iterator[tuple[int, list[str] | str | None]]:
    """(line the row starts on, its cells or an error string) per CSV row, header included.

    The csv module cannot resync after a bad row (a cell over its field limit, a bare CR in
    a cell that is not quoted) and reads an unclosed quote to the end of the file: such a row
    costs its first line only, reading starts again on the next line. A quoted cell may still
    span lines.

    A row read from a row's first line depends on nothing before it, so a file can be cut
    at any line where a row starts and each part read on its own gives the same rows.
    ``final`` False (planning chunks on a window of a file): a row still open at the end of
    ``lines`` yields ``(line, None)`` and reading stops; more lines decide that row.
    """
    feed = _LineFeed(lines, 0)
    reader = csv.reader(feed)
    while feed.position < len(lines):
        start = feed.position
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not final and feed.ran_out:
                yield first_line + start, None
                return
            yield first_line + start, _csv_error_reason(exc)
            feed = _LineFeed(lines, start + 1)
            reader = csv.reader(feed)
            continue
        if feed.ran_out:  # still inside a quoted cell at the end of the lines
            if not final:
                yield first_line + start, None
                return
            yield first_line + start, UNCLOSED_QUOTE
            feed = _LineFeed(lines, start + 1)
            reader = csv.reader(feed)
            continue
        yield first_line + start, cells


def csv_decode_lines(
    lines: Iterable[str | bytes], first_line: int = 1
) -> tuple[list[str], list[tuple[int, str]]]:
    """The lines as text, each line that is not UTF-8 left empty and reported by number."""
    texts: list[str] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=first_line):
        try:
            texts.append(_decode_line(line))
        except ValueError as exc:
            texts.append("")  # the CSV reader skips an empty line but still counts it
            problems.append((number, str(exc)))
    return texts, problems


def _csv_text(lines: Iterable[str | bytes]) -> tuple[str, list[tuple[int, str]]]:
    """The CSV text, with each line that is not UTF-8 left empty and reported by number."""
    texts, problems = csv_decode_lines(lines)
    return "\n".join(texts), problems


def parse_customer_file(
    lines: Iterable[str | bytes],
    source: str,
    now: datetime,
    *,
    csv_fieldnames: Sequence[str] | None = None,
    first_line: int = 1,
) -> tuple[list[tuple[int, CustomerRecord]], ImportResult]:
    """Validate a whole customers file, or one chunk of it (``first_line``).

    A source named ``*.csv`` is CSV: a whole file starts with its header row; a chunk is
    given the file's header as ``csv_fieldnames`` and its lines start where a row starts.
    """
    if not source.lower().endswith(".csv"):
        return parse_customer_lines(lines, source, now=now, first_line=first_line)
    if csv_fieldnames is None:
        text, problems = _csv_text(lines)
        records, result = parse_customer_lines([], source, csv_text=text, now=now)
    else:
        texts, problems = csv_decode_lines(lines, first_line)
        rows = csv_rows(texts, first_line=first_line)
        records, result = validate_rows(csv_row_records(rows, csv_fieldnames), source, now)
    result.rejected[:0] = [Rejection(source, line, None, why) for line, why in problems]
    result.rejected.sort(key=lambda rejection: rejection.line)
    return records, result
