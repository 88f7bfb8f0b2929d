"""Large customers files: cut into chunks, fanned out through ImportChunkQueue, reported once.

The importer function runs on the S3 event shape of ``events/importer``; the chunk function
runs on the SQS event shape, one chunk a call, as Lambda's poller hands them over (here with
redeliveries: SQS is at-least-once). IMPORT_CHUNK_BYTES is lowered so a couple of hundred lines
make four chunks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator.events import sqs_event
from emulator.template import FakeLambdaContext, load_handler, load_template
from lifecycle.core import settings
from lifecycle.features.erasure import erase_customer
from lifecycle.features.import_chunks import ImportChunk, plan_chunks
from lifecycle.features.import_rows import parse_customer_file, split_lines
from lifecycle.features.importer import import_customers
from lifecycle.store.customers import get_customer, record_unsubscribe
from tests.builders import customer_doc
from tests.events import load_event

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 3, 13, 9, 0, tzinfo=UTC)
LINES = 200
CHUNKS = 4


@pytest.fixture
def bucket(aws: Any, clock: Any) -> Iterator[str]:
    """The import bucket, versioned as template.yaml declares."""
    clock.set(T0)
    name: str = aws.physical["ImportBucket"]
    properties = load_template(ROOT / "template.yaml")["Resources"]["ImportBucket"]["Properties"]
    status = properties["VersioningConfiguration"]["Status"]
    boto3.client("s3").put_bucket_versioning(
        Bucket=name, VersioningConfiguration={"Status": status}
    )
    yield name


def _chunk_bytes(size: int, chunks: int) -> None:
    """Cut files of ``size`` bytes into ``chunks`` chunks."""
    os.environ["IMPORT_CHUNK_BYTES"] = str(size // chunks + 1)
    settings.reset_settings()


def _s3_event(aws: Any, bucket: str, key: str) -> dict[str, Any]:
    event = load_event("importer/s3_put_customers.json")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    handler = load_handler(aws.functions["ImporterFunction"])
    answer: dict[str, Any] = handler(event, FakeLambdaContext(function_name="importer"))
    return dict(answer["results"][0])


def _receive_all(aws: Any) -> list[dict[str, Any]]:
    sqs, url = boto3.client("sqs"), aws.physical["ImportChunkQueue"]
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
    return messages


def _work(aws: Any, message: dict[str, Any]) -> dict[str, Any]:
    """The chunk function on one message (BatchSize 1), as Lambda's poller calls it."""
    handler = load_handler(aws.functions["ImportChunkFunction"])
    event = sqs_event([message], aws.arns["ImportChunkQueue"])
    response: dict[str, Any] = handler(event, FakeLambdaContext(function_name="import_chunk"))
    assert response == {"batchItemFailures": []}
    return response


def _json(bucket: str, key: str) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document


def _versions(bucket: str, key: str) -> list[dict[str, Any]]:
    answer = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    entries = answer.get("Versions", []) + answer.get("DeleteMarkers", [])
    return [entry for entry in entries if entry["Key"] == key]


def _jsonl(bad_lines: set[int]) -> bytes:
    lines = []
    for number in range(1, LINES + 1):
        overrides = {"birthday": "1990-02-30"} if number in bad_lines else {}
        lines.append(json.dumps(customer_doc(f"c-{number:04d}", **overrides)))
    return ("\n".join(lines) + "\n").encode()


# -- fan-out, redelivery, the report -------------------------------------------------------
def test_given_large_file_when_a_chunk_is_redelivered_then_every_line_counts_once(aws, bucket):
    key = "customers/big.jsonl"
    bad = {25, 75, 125, 175}  # one bad line in each chunk
    data = _jsonl(bad)
    _chunk_bytes(len(data), CHUNKS)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)

    answer = _s3_event(aws, bucket, key)
    assert (answer["chunks"], answer["queued"]) == (CHUNKS, CHUNKS)
    progress = _json(bucket, f"reports/{key}.progress.json")
    assert (progress["chunks"], progress["chunks_done"], progress["finished"]) == (4, 0, False)

    messages = _receive_all(aws)
    bodies = [ImportChunk.of(json.loads(m["Body"])) for m in messages]
    assert sorted(b.index for b in bodies) == [0, 1, 2, 3]
    assert all(data[b.start - 1 : b.start] == b"\n" for b in bodies if b.start)  # line starts
    first, *rest = messages
    _work(aws, first)
    _work(aws, first)  # redelivered before the others ran: counted once
    progress = _json(bucket, f"reports/{key}.progress.json")
    assert progress["chunks_done"] == 1
    firsts = [*sorted(b.first_line for b in bodies), LINES + 1]
    chunk = ImportChunk.of(json.loads(first["Body"]))
    lines = firsts[chunk.index + 1] - chunk.first_line
    assert (progress["imported"], progress["rejected"]) == (lines - 1, 1)
    for message in rest:
        _work(aws, message)
    _work(aws, rest[-1])  # the last one again, after the import finished

    report = _json(bucket, f"reports/{key}.json")
    assert report["imported"] == LINES - len(bad)
    assert [(r["line"], r["id"], r["reason"]) for r in report["rejected"]] == [
        (line, f"c-{line:04d}", "birthday") for line in sorted(bad)
    ]
    assert (report["warnings"], report["chunks"], report["source"]) == ([], 4, "big.jsonl")
    assert len(_versions(bucket, f"reports/{key}.json")) == 1  # written once
    progress = _json(bucket, f"reports/{key}.progress.json")
    assert (progress["chunks_done"], progress["imported"], progress["finished"]) == (
        4,
        LINES - len(bad),
        True,
    )
    assert _versions(bucket, key) == []  # the file is deleted, every version
    assert get_customer("c-0001") is not None and get_customer("c-0200") is not None
    assert get_customer("c-0025") is None


def test_given_s3_event_delivered_twice_when_chunks_run_then_report_counts_each_line_once(
    aws, bucket
):
    key = "customers/twice.jsonl"
    data = _jsonl(set())
    _chunk_bytes(len(data), CHUNKS)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    assert _s3_event(aws, bucket, key)["queued"] == CHUNKS
    first = _receive_all(aws)
    _work(aws, first[0])
    assert _s3_event(aws, bucket, key)["queued"] == CHUNKS - 1  # the chunk done is not sent
    for message in first[1:] + _receive_all(aws):
        _work(aws, message)
    assert _json(bucket, f"reports/{key}.json")["imported"] == LINES
    assert _s3_event(aws, bucket, key)["skipped"] == "file gone"  # once more, after the end
    assert _json(bucket, f"reports/{key}.json")["imported"] == LINES


def test_given_erased_and_unsubscribed_customers_when_chunked_import_then_rules_hold(aws, bucket):
    import_customers(
        [json.dumps(customer_doc("c-0010")), json.dumps(customer_doc("c-0150"))], "a.jsonl", T0
    )
    erase_customer("c-0010", T0)
    assert record_unsubscribe("c-0150", "email", T0)
    key = "customers/again.jsonl"
    data = _jsonl(set())
    _chunk_bytes(len(data), CHUNKS)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    _s3_event(aws, bucket, key)
    for message in _receive_all(aws):
        _work(aws, message)
    report = _json(bucket, f"reports/{key}.json")
    assert [(r["line"], r["id"], r["reason"]) for r in report["rejected"]] == [
        (10, "c-0010", "erased")
    ]
    assert report["imported"] == LINES - 1
    customer = get_customer("c-0150")
    assert customer is not None and customer["unsubscribed"].get("email")
    erased = get_customer("c-0010")
    assert erased is None or not erased.get("email")


# -- CSV: a quoted cell with line breaks is never cut ----------------------------------------
NOTE = "\n".join(f"note line {n}, with a comma" for n in range(40))  # ~1.2 KB, 40 lines


def _csv(rows: int) -> tuple[bytes, int]:
    """A CSV file with a multi-line quoted cell in row 30; returns it and the bad row's line."""
    lines = ["customer_id,email,consent_email,attr_note"]
    bad_line = 0
    for n in range(1, rows + 1):
        note = f'"{NOTE}"' if n == 30 else "short"
        email = "broken@@example.com" if n == 31 else f"c-{n:04d}@example.com"
        lines.append(f"c-{n:04d},{email},true,{note}")
        if n == 31:
            bad_line = sum(line.count("\n") + 1 for line in lines)
    return ("\n".join(lines) + "\n").encode(), bad_line


def test_given_csv_with_quoted_line_breaks_when_chunked_then_no_row_is_cut(aws, bucket):
    key = "customers/notes.csv"
    data, bad_line = _csv(120)
    os.environ["IMPORT_CHUNK_BYTES"] = "1024"  # the note alone is longer than a chunk
    settings.reset_settings()
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    answer = _s3_event(aws, bucket, key)
    assert answer["chunks"] >= 3
    for message in _receive_all(aws):
        _work(aws, message)
    report = _json(bucket, f"reports/{key}.json")
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [(bad_line, "email")]
    assert report["imported"] == 119
    customer = get_customer("c-0030")
    assert customer is not None and customer["attributes"]["note"] == NOTE


HOSTILE_CSV = (
    b"\xef\xbb\xbfcustomer_id,email,attr_note\n"
    b"c-1,c-1@example.com,plain\n"
    b'c-2,c-2@example.com,"two\nlines"\n'
    b"\n"
    b"c-3,c-3@example.com,bad \xff byte\n"
    b'c-4,c-4@example.com,"a ""quoted"" word"\n'
    b"c-5,c-5@example.com,bare\rcr\n"
    b'c-6,c-6@example.com,"three\nshort\nlines"\r\n'
    b"c-7,c-7@example.com,x,one cell too many\n"
    b'c-8,c-8@example.com,"never closed\n'
    b"c-9,c-9@example.com,after the unclosed quote\n"
    b"c-10,c-10@example.com,last line without its line end"
)


@pytest.mark.parametrize("chunk_bytes", [1, 20, 45, 80, 1000])
@pytest.mark.parametrize(
    ("source", "data"),
    [
        pytest.param("hostile.csv", HOSTILE_CSV, id="csv"),
        pytest.param("hostile.csv", HOSTILE_CSV.replace(b"\n", b"\r\n"), id="csv-crlf"),
        pytest.param(
            "hostile.jsonl",
            b"\xef\xbb\xbf"
            + b"\n".join(json.dumps(customer_doc(f"c-{n}")).encode() for n in range(1, 8)).replace(
                b"c-3@", b"c-3\xff@"
            )
            + b"\n\n{not json\n",
            id="jsonl",
        ),
    ],
)
def test_given_any_cut_when_chunks_read_alone_then_same_rows_as_the_whole_file(
    aws, source, data, chunk_bytes
):
    """Each chunk parsed on its own gives exactly the rows and rejections of the whole file."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key=f"customers/{source}", Body=data)
    base = ImportChunk(
        "plain", f"customers/{source}", None, "x", 0, 1, 0, len(data), 1, "2027-03-13T09:00:00Z"
    )
    chunks = plan_chunks(s3, base, chunk_bytes)
    whole_records, whole = parse_customer_file(split_lines(data), source, T0)
    records, rejected = [], []
    for chunk in chunks:
        part = data[chunk.start : chunk.end]
        found, result = parse_customer_file(
            split_lines(part, file_start=chunk.start == 0),
            source,
            T0,
            csv_fieldnames=chunk.fieldnames,
            first_line=chunk.first_line,
        )
        records += [(line, record.customer_id) for line, record in found]
        rejected += result.rejected
    assert records == [(line, record.customer_id) for line, record in whole_records]
    assert rejected == whole.rejected
    assert len(whole.rejected) >= 2
    if chunk_bytes <= 20:
        assert len(chunks) > 3
