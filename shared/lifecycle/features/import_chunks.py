"""Customer files of any size from S3: cut into chunks, imported in parallel, reported once.

A file no larger than one chunk (``IMPORT_CHUNK_BYTES``, 4 MiB by default) is imported in
the S3 event's invocation, as a whole. A larger one is *planned* there: read once as a
stream, cut into byte ranges of about ``IMPORT_CHUNK_BYTES`` that start where a line starts
(CSV: where a row starts, so a quoted cell holding line breaks is never cut; see
:func:`lifecycle.features.import_rows.csv_rows`), and each range is sent to ImportChunkQueue.
A chunk worker reads its range (GetObject ``Range``, the planned version), validates its
rows, upserts them (:func:`lifecycle.features.importer.write_customers`, parallel
conditional updates) and records its result. The last chunk to finish writes the report and
deletes the file (every version up to the imported one).

Everything an import leaves is under ``reports/`` of the bucket (expired after a day):

* ``reports/<key>.progress.json``: ``{chunks, chunks_done, imported, rejected, warnings,
  finished}``, rewritten as chunks finish (a progress view: the report is the result);
* ``reports/<key>.json``: the report, as for a small file (``source``, ``imported``,
  ``rejected``, ``warnings``; lines, customer ids and fields at fault, never values) plus
  ``chunks`` and ``import_id``;
* ``reports/<key>.parts/<import_id>/``: the plan, each chunk's result ``<n>.json`` and its
  counts ``done/<n>-<imported>-<rejected>-<warnings>``.

Redelivery (SQS is at-least-once; the S3 event may come twice): a chunk's result is created
with ``If-None-Match: *``, so a chunk imported twice (upserts are idempotent) is counted
once; the plan is created the same way and a repeated S3 event only sends again the chunks
not done; the report is written by whoever creates the ``finished`` claim, once.

A customer repeated in two chunks: both lines are imported, in no fixed order (a repeat
inside one chunk keeps the rule of a small file: the later line wins, with a warning).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.core.settings import Settings
from lifecycle.features.import_rows import (
    BOM,
    ImportFileError,
    csv_header,
    csv_rows,
    parse_customer_file,
    split_lines,
)
from lifecycle.features.importer import (
    discard_import_file,
    import_customers,
    report_to_keep,
    write_customers,
)

READ_BLOCK = 1024 * 1024  # bytes per read of the planning stream
CSV_WINDOW = 4096  # lines handed to the CSV reader at a time while planning
MAX_HEADER_BYTES = 64 * 1024  # a CSV header travels in every chunk message
FINISH_POLLS = 5  # seconds a redelivered last chunk waits for the claimer's report
GONE = {"404", "NoSuchKey", "NoSuchVersion"}


@dataclass(frozen=True)
class ImportChunk:
    """One byte range ``[start, end)`` of one version of an import file: a queue message."""

    bucket: str
    key: str
    version_id: str | None
    import_id: str
    index: int
    count: int
    start: int
    end: int
    first_line: int
    now: str
    fieldnames: list[str] | None = None

    @property
    def source(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def body(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def of(cls, body: dict[str, Any]) -> ImportChunk:
        return cls(**body)


@dataclass(frozen=True)
class ImportSettings:
    chunk_bytes: int
    queue_url: str
    workers: int
    country_shards: int

    @classmethod
    def of(cls, settings: Settings) -> ImportSettings:
        return cls(
            chunk_bytes=settings.import_chunk_bytes,
            queue_url=settings.import_chunk_queue_url,
            workers=settings.import_write_concurrency,
            country_shards=settings.country_shards,
        )


def _gone(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in GONE


def _precondition_failed(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) == "PreconditionFailed"


def parts_prefix(key: str, import_id: str) -> str:
    return f"reports/{key}.parts/{import_id}/"


def report_key(key: str) -> str:
    return f"reports/{key}.json"


def progress_key(key: str) -> str:
    return f"reports/{key}.progress.json"


def _put_json(s3: Any, bucket: str, key: str, body: Any, *, only_new: bool = False) -> bool:
    """Write ``body``; ``only_new``: only if ``key`` does not exist (False if it did)."""
    extra = {"IfNoneMatch": "*"} if only_new else {}
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(body, ensure_ascii=False, indent=1).encode(),
            ContentType="application/json",
            **extra,
        )
    except ClientError as exc:
        if only_new and _precondition_failed(exc):
            return False
        raise
    return True


def _get_json(s3: Any, bucket: str, key: str, *, check: bool = False) -> Any:
    """The JSON document at ``key``; None if it does not exist.

    ``check``: list first (S3 answers a GetObject of a missing key with 403, not 404, unless
    the caller may list the bucket unconditionally; the functions may list reports/ only).
    """
    if check:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
        if not listed or listed[0]["Key"] != key:
            return None
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return json.loads(body)


# -- the S3 event: import a small file, plan and fan out a large one --------------------------
def start_customer_import(
    s3: Any, sqs: Any, bucket: str, key: str, now: datetime, settings: ImportSettings
) -> dict[str, Any]:
    """Import ``key`` (a small file) or send its chunks to the queue (a large one).

    The answer of a small file is the import's result with the full reasons (the report
    kept in the bucket has fields only); a large one answers ``chunks`` and ``queued``.
    """
    source = key.rsplit("/", 1)[-1]
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if not _gone(exc):
            raise
        return {"source": source, "imported": 0, "rejected": [], "skipped": "file gone"}
    version_id: str | None = head.get("VersionId")
    size = int(head["ContentLength"])
    import_id = version_id if version_id not in (None, "null") else str(head["ETag"]).strip('"')
    base = ImportChunk(bucket, key, version_id, str(import_id), 0, 1, 0, size, 1, utc_iso(now))
    chunks = [base]
    if settings.queue_url and size > settings.chunk_bytes:
        try:
            chunks = _planned(s3, base, settings.chunk_bytes)
        except ImportFileError as exc:
            return _refuse(s3, base, str(exc))
    if len(chunks) == 1:
        return _import_whole(s3, base, settings)
    sent = _fan_out(sqs, settings.queue_url, s3, chunks)
    return {"source": source, "imported": 0, "rejected": [], "chunks": len(chunks), "queued": sent}


def _refuse(s3: Any, chunk: ImportChunk, error: str) -> dict[str, Any]:
    result = {"source": chunk.source, "error": error, "imported": 0, "rejected": []}
    _put_json(s3, chunk.bucket, report_key(chunk.key), result)
    discard_import_file(s3, chunk.bucket, chunk.key, chunk.version_id)
    return result


def _import_whole(s3: Any, chunk: ImportChunk, settings: ImportSettings) -> dict[str, Any]:
    """A file of one chunk: read, import, report and delete in this invocation."""
    try:
        data = _read(s3, chunk, whole=True)
    except ClientError as exc:
        if not _gone(exc):
            raise
        return {"source": chunk.source, "imported": 0, "rejected": [], "skipped": "file gone"}
    try:
        result = import_customers(
            split_lines(data),
            chunk.source,
            parse_utc(chunk.now),
            settings.country_shards,
            workers=settings.workers,
        ).as_dict()
    except ImportFileError as exc:
        return _refuse(s3, chunk, str(exc))
    _put_json(s3, chunk.bucket, report_key(chunk.key), report_to_keep(result))
    discard_import_file(s3, chunk.bucket, chunk.key, chunk.version_id)
    return result


def _read(s3: Any, chunk: ImportChunk, *, whole: bool = False) -> bytes:
    arguments: dict[str, Any] = {"Bucket": chunk.bucket, "Key": chunk.key}
    if chunk.version_id not in (None, "null"):
        arguments["VersionId"] = chunk.version_id
    if not whole:
        if chunk.end <= chunk.start:
            return b""
        arguments["Range"] = f"bytes={chunk.start}-{chunk.end - 1}"
    data: bytes = s3.get_object(**arguments)["Body"].read()
    return data


def _planned(s3: Any, base: ImportChunk, chunk_bytes: int) -> list[ImportChunk]:
    """The stored plan of this version (a repeated S3 event), or a new one, stored."""
    plan_key = parts_prefix(base.key, base.import_id) + "plan.json"
    stored = _get_json(s3, base.bucket, plan_key, check=True)
    if stored is None:
        chunks = plan_chunks(s3, base, chunk_bytes)
        if len(chunks) > 1:
            plan = {"chunks": [asdict(c) for c in chunks]}
            if not _put_json(s3, base.bucket, plan_key, plan, only_new=True):
                stored = _get_json(s3, base.bucket, plan_key)  # planned at the same time
    if stored is not None:
        chunks = [ImportChunk.of(body) for body in stored["chunks"]]
    return chunks


def _fan_out(sqs: Any, queue_url: str, s3: Any, chunks: list[ImportChunk]) -> int:
    """Send the chunks not done yet (all of them, unless the S3 event came again)."""
    first = chunks[0]
    done = _done_counts(s3, first.bucket, first.key, first.import_id)
    todo = [c for c in chunks if c.index not in done]
    if not done:
        _write_progress(s3, first, {})
    for start in range(0, len(todo), 10):  # SendMessageBatch takes up to 10
        batch = todo[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(c.index), "MessageBody": c.body()} for c in batch],
        )
        if answer.get("Failed"):
            failed = ", ".join(sorted(str(f.get("Code")) for f in answer["Failed"]))
            raise RuntimeError(f"{len(answer['Failed'])} chunk message(s) not sent ({failed})")
    return len(todo)


# -- planning: where chunks may start ------------------------------------------------------
def _stream_lines(s3: Any, chunk: ImportChunk) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line without its ``\\n``) of the whole object, read as a stream."""
    arguments: dict[str, Any] = {"Bucket": chunk.bucket, "Key": chunk.key}
    if chunk.version_id not in (None, "null"):
        arguments["VersionId"] = chunk.version_id
    body = s3.get_object(**arguments)["Body"]
    offset = 0
    rest = b""
    for block in body.iter_chunks(READ_BLOCK):
        data = rest + block
        lines = data.split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield offset, line
            offset += len(line) + 1
    if rest:
        yield offset, rest


def _line_starts(s3: Any, chunk: ImportChunk) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, line without BOM and ``\\r``) of every line."""
    for number, (offset, line) in enumerate(_stream_lines(s3, chunk), start=1):
        text = line.removeprefix(BOM) if offset == 0 else line
        yield number, offset, text.removesuffix(b"\r")


def _csv_row_starts(
    lines: Iterator[tuple[int, int, bytes]],
) -> Iterator[tuple[int, int, list[str] | str | None]]:
    """(line, byte offset, cells or error) where each CSV row starts, as a whole-file read.

    The lines go to the reader a window at a time; a row still open at the end of a window
    is read again with the next one (a quoted cell is bounded by the csv field limit, so the
    carried lines are too).
    """
    texts: list[str] = []
    starts: list[tuple[int, int]] = []
    wanted = CSV_WINDOW

    def flush(final: bool) -> Iterator[tuple[int, int, list[str] | str | None]]:
        nonlocal texts, starts, wanted
        kept = len(texts)
        for index, cells in csv_rows(texts, first_line=0, final=final):
            if cells is None:
                kept = index
                break
            yield starts[index][0], starts[index][1], cells
        else:
            kept = len(texts)
        texts, starts = texts[kept:], starts[kept:]
        wanted = max(CSV_WINDOW, 2 * len(texts))

    for number, offset, line in lines:
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append("")  # as csv_decode_lines: the line is rejected on its own
        starts.append((number, offset))
        if len(texts) >= wanted:
            yield from flush(final=False)
    yield from flush(final=True)


def plan_chunks(s3: Any, base: ImportChunk, chunk_bytes: int) -> list[ImportChunk]:
    """Cut the file into ranges of about ``chunk_bytes``, each starting where a row starts.

    A CSV file's header row is read here and given to every chunk; a file of at most one
    line (CSV: CR-only line ends are read as one file) stays one chunk.
    """
    lines = _line_starts(s3, base)
    fieldnames: list[str] | None = None
    if base.source.lower().endswith(".csv"):
        rows = _csv_row_starts(lines)
        header = next(rows, None)
        if header is None:
            raise ImportFileError("CSV needs a header row with a customer_id column")
        row_starts: Iterator[tuple[int, int]] = ((n, o) for n, o, _ in rows)
        first = next(row_starts, None)
        if first is None:
            return [base]
        fieldnames = csv_header(header[2])
        if len(json.dumps(fieldnames)) > MAX_HEADER_BYTES:
            raise ImportFileError(f"CSV header row longer than {MAX_HEADER_BYTES} bytes")
        starts = _cuts(first, row_starts, chunk_bytes)
    else:
        first_line = next(((n, o) for n, o, _ in lines), None)
        if first_line is None:
            return [base]
        starts = _cuts(first_line, ((n, o) for n, o, _ in lines), chunk_bytes)
    if len(starts) == 1:
        return [base]
    ends = [offset for _, offset in starts[1:]] + [base.end]
    return [
        ImportChunk(
            base.bucket,
            base.key,
            base.version_id,
            base.import_id,
            index,
            len(starts),
            offset,
            end,
            line,
            base.now,
            fieldnames,
        )
        for index, ((line, offset), end) in enumerate(zip(starts, ends, strict=True))
    ]


def _cuts(
    first: tuple[int, int], row_starts: Iterator[tuple[int, int]], chunk_bytes: int
) -> list[tuple[int, int]]:
    """(line, offset) of each chunk's first row: the first row at least chunk_bytes on."""
    starts = [first]
    for line, offset in row_starts:
        if offset - starts[-1][1] >= chunk_bytes:
            starts.append((line, offset))
    return starts


# -- the chunk worker ----------------------------------------------------------------------
def import_chunk(s3: Any, chunk: ImportChunk, settings: ImportSettings) -> dict[str, Any]:
    """Import one chunk (once), count it, and finish the import if it was the last one.

    Returns ``{chunk, imported, rejected, warnings, chunks_done, finished}`` (counts only).
    """
    prefix = parts_prefix(chunk.key, chunk.import_id)
    done = _done_counts(s3, chunk.bucket, chunk.key, chunk.import_id)
    if chunk.index in done:
        counts = done[chunk.index]
    else:
        part = _import_range(s3, chunk, settings)
        if not _put_json(s3, chunk.bucket, f"{prefix}{chunk.index:05d}.json", part, only_new=True):
            # Imported before (redelivered): the first result counts, this one is dropped.
            part = _get_json(s3, chunk.bucket, f"{prefix}{chunk.index:05d}.json")
        counts = (part["imported"], len(part["rejected"]), len(part["warnings"]))
        s3.put_object(
            Bucket=chunk.bucket,
            Key=f"{prefix}done/{chunk.index:05d}-{counts[0]}-{counts[1]}-{counts[2]}",
            Body=b"",
        )
        done = _done_counts(s3, chunk.bucket, chunk.key, chunk.import_id)
        done[chunk.index] = counts  # a listing may lag behind a write
    finished = len(done) >= chunk.count and _finish(s3, chunk, done)
    if not finished:
        _write_progress(s3, chunk, done)
    return {
        "chunk": chunk.index,
        "imported": counts[0],
        "rejected": counts[1],
        "warnings": counts[2],
        "chunks_done": len(done),
        "finished": finished,
    }


def _import_range(s3: Any, chunk: ImportChunk, settings: ImportSettings) -> dict[str, Any]:
    """The kept result of one chunk: read its range, validate, upsert."""
    try:
        data = _read(s3, chunk)
    except ClientError as exc:
        if not _gone(exc):
            raise
        # Another import of the same key deleted this version before the chunk was read:
        # the chunk's first line stands for its rows in the report.
        missing = {"source": chunk.source, "line": chunk.first_line, "id": None, "reason": "file"}
        return {"index": chunk.index, "imported": 0, "rejected": [missing], "warnings": []}
    lines = split_lines(data, file_start=chunk.start == 0)
    now = parse_utc(chunk.now)
    records, result = parse_customer_file(
        lines,
        chunk.source,
        now,
        csv_fieldnames=chunk.fieldnames,
        first_line=chunk.first_line,
    )
    write_customers(records, result, now, settings.country_shards, workers=settings.workers)
    return {"index": chunk.index, **report_to_keep(result.as_dict())}


def _done_counts(s3: Any, bucket: str, key: str, import_id: str) -> dict[int, tuple[int, ...]]:
    """chunk -> (imported, rejected, warnings) of every chunk done, from the done/ markers."""
    prefix = parts_prefix(key, import_id) + "done/"
    done: dict[int, tuple[int, ...]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            index, *counts = entry["Key"].removeprefix(prefix).split("-")
            done[int(index)] = tuple(int(c) for c in counts)
    return done


def _write_progress(
    s3: Any, chunk: ImportChunk, done: dict[int, tuple[int, ...]], *, finished: bool = False
) -> None:
    _put_json(
        s3,
        chunk.bucket,
        progress_key(chunk.key),
        {
            "source": chunk.source,
            "import_id": chunk.import_id,
            "chunks": chunk.count,
            "chunks_done": len(done),
            "imported": sum(c[0] for c in done.values()),
            "rejected": sum(c[1] for c in done.values()),
            "warnings": sum(c[2] for c in done.values()),
            "finished": finished,
        },
    )


class ImportFinishingError(RuntimeError):
    """Another invocation claimed the report of this import but has not written it yet."""


def _finish(s3: Any, chunk: ImportChunk, done: dict[int, tuple[int, ...]]) -> bool:
    """Every chunk is done: write the report once, then delete the file. True when finished.

    The ``finished`` claim (created with ``If-None-Match: *``) picks the one invocation that
    writes the report. A redelivered last chunk that finds the claim taken only checks that
    the report is there (deleting the file again is harmless); if it is not, the claimer
    failed or is still at it: this invocation fails and is retried after the queue's
    visibility timeout, when it writes the report unless the claimer did.
    """
    prefix = parts_prefix(chunk.key, chunk.import_id)
    claimed = _put_json(s3, chunk.bucket, f"{prefix}finished", {}, only_new=True)
    if not claimed and not _reported(s3, chunk):
        retried = _get_json(s3, chunk.bucket, f"{prefix}finished")
        if not (retried or {}).get("retry"):
            _put_json(s3, chunk.bucket, f"{prefix}finished", {"retry": True})
            raise ImportFinishingError(f"{chunk.key}: report claimed, not written yet")
        claimed = True  # the claimer did not write it in a whole visibility timeout
    if claimed:
        _put_json(s3, chunk.bucket, report_key(chunk.key), _report(s3, chunk))
        _write_progress(s3, chunk, done, finished=True)
    discard_import_file(s3, chunk.bucket, chunk.key, chunk.version_id)
    return True


def _reported(s3: Any, chunk: ImportChunk, *, polls: int = FINISH_POLLS) -> bool:
    """Whether this import's report is written, waiting a little for a claimer at work."""
    for attempt in range(polls):
        report = _get_json(s3, chunk.bucket, report_key(chunk.key), check=True)
        if report is not None and report.get("import_id") == chunk.import_id:
            return True
        if attempt + 1 < polls:
            time.sleep(1.0)
    return False


def _report(s3: Any, chunk: ImportChunk) -> dict[str, Any]:
    """The chunks' results as one report (the fields of a small file's report, by line)."""
    prefix = parts_prefix(chunk.key, chunk.import_id)
    keys = [f"{prefix}{index:05d}.json" for index in range(chunk.count)]
    with ThreadPoolExecutor(max_workers=min(16, len(keys))) as pool:
        parts = list(pool.map(lambda key: _get_json(s3, chunk.bucket, key), keys))
    rejected = [r for part in parts for r in part["rejected"]]
    warnings = [w for part in parts for w in part["warnings"]]
    return {
        "source": chunk.source,
        "imported": sum(part["imported"] for part in parts),
        "rejected": sorted(rejected, key=lambda r: r["line"]),
        "warnings": sorted(warnings, key=lambda w: w["line"]),
        "chunks": chunk.count,
        "import_id": chunk.import_id,
    }
