"""Import benchmark: a large customers file through the real S3 import path, on moto.

Usage: ``.venv/bin/python scripts/bench_import.py [--lines 100000] [--format jsonl|csv]
[--chunk-bytes N] [--workers 10] [--no-units]``

A generated customers file is put in the template's import bucket; the importer function
runs on its S3 event (it plans the chunks and sends them to ImportChunkQueue), then the queue
is drained by calling the chunk function with the SQS event shape, one chunk a call, as
Lambda would (in-process, one after the other). Prints lines/s, wall time, the chunk count,
the seconds of the planning call and of each chunk, the DynamoDB write units (computed from
the items and the template's indexes by :class:`emulator.cost.CostMeter`; ``--no-units``
skips that, which also removes its overhead) and the extrapolation to 1,000,000 lines: the
same chunk size gives 1M / lines as many chunks, each taking as long as the slowest here,
so the figure that must stay under Lambda's 900 s is a chunk's time, not the total.

Not part of ``make test`` (minutes); tests/integration/test_import_chunks.py is the small
version that runs there.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient
from moto import mock_aws

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.environment import LOCAL_PARAMETERS, set_local_environment  # noqa: E402

set_local_environment()  # before the layer reads its environment

from emulator.cost import CostMeter  # noqa: E402
from emulator.events import s3_event, sqs_event  # noqa: E402
from emulator.motofast import fast_moto  # noqa: E402
from emulator.template import FakeLambdaContext, LocalDeployment, load_handler  # noqa: E402
from lifecycle.core import aws, settings  # noqa: E402
from lifecycle.core.clock import SimulatedClock, set_clock  # noqa: E402
from lifecycle.store import models  # noqa: E402

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
ZONES = [
    ("DE", "de-DE", "Europe/Berlin"),
    ("ES", "es-ES", "Europe/Madrid"),
    ("US", "en-US", "America/New_York"),
    ("JP", "ja-JP", "Asia/Tokyo"),
    ("BR", "pt-BR", "America/Sao_Paulo"),
]
LAMBDA_LIMIT_SECONDS = 900
CHUNK_TIMEOUT_SECONDS = 300  # ImportChunkFunction's Timeout in template.yaml


def customers(lines: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    for n in range(lines):
        country, locale, zone = ZONES[n % len(ZONES)]
        record: dict[str, Any] = {
            "customer_id": f"c-{n:07d}",
            "email": f"customer{n}@example.com",
            "first_name": rng.choice(["Ana", "Ben", "Chen", "Dara", "Eli"]),
            "last_name": rng.choice(["Lopez", "Meyer", "Sato", "Silva", "Smith"]),
            "locale": locale,
            "timezone": zone,
            "country": country,
            "birthday": f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-"
            f"{rng.randrange(1, 29):02d}",
            "consent": {"email": rng.random() < 0.9, "sms": False},
            "created_at": "2024-05-01T10:00:00Z",
            "attributes": {"tier": rng.choice(["gold", "silver", "bronze"])},
        }
        yield record


def file_bytes(lines: int, kind: str) -> bytes:
    if kind == "jsonl":
        return "".join(json.dumps(c) + "\n" for c in customers(lines)).encode()
    columns = ["customer_id", "email", "first_name", "last_name", "locale", "timezone"]
    columns += ["country", "birthday", "consent_email", "consent_sms", "attr_tier"]
    rows = [",".join(columns)]
    for c in customers(lines):
        values = {**c, "attr_tier": c["attributes"]["tier"]}
        values["consent_email"] = str(c["consent"]["email"]).lower()
        values["consent_sms"] = "false"
        rows.append(",".join(str(values[column]) for column in columns))
    return ("\n".join(rows) + "\n").encode()


@dataclass
class Meter:
    """DynamoDB calls of the handlers, and their write units when ``units`` is on."""

    units: bool
    calls: int = 0
    write_units: float = float("nan")
    moto_units: float = float("nan")


@contextmanager
def metered(units: bool) -> Iterator[Meter]:
    """Count DynamoDB calls; with ``units``, their write units by the runner's cost meter
    (:class:`emulator.cost.CostMeter`: item sizes and the template's indexes, since moto's
    own ConsumedCapacity is a constant without indexes)."""
    figures = Meter(units)
    meter = CostMeter()
    original = BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        figures.calls += 1
        if not units:
            return original(client, operation, params)
        return meter.dynamodb("import", operation, params, lambda p: original(client, operation, p))

    BaseClient._make_api_call = call
    try:
        yield figures
    finally:
        BaseClient._make_api_call = original
        if units:
            figures.write_units = meter.setup["import"].total_write_units
            figures.moto_units = meter.setup["import"].moto_reported_units


def run(lines: int, kind: str, chunk_bytes: int | None, workers: int, units: bool) -> None:
    with mock_aws(), fast_moto():
        session = boto3.Session(region_name="us-east-1")
        deployment = LocalDeployment.create(
            ROOT / "template.yaml", session=session, parameters=LOCAL_PARAMETERS
        )
        for logical_id in deployment.functions:
            os.environ.update(deployment.function_environment(logical_id))
        if chunk_bytes:
            os.environ["IMPORT_CHUNK_BYTES"] = str(chunk_bytes)
        os.environ["IMPORT_WRITE_CONCURRENCY"] = str(workers)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        settings.reset_settings()
        aws.reset_clients()
        models.configure_tables()
        set_clock(SimulatedClock(NOW))
        importer = load_handler(deployment.functions["ImporterFunction"])
        worker = load_handler(deployment.functions["ImportChunkFunction"])
        bucket = deployment.physical["ImportBucket"]
        queue_url = deployment.physical["ImportChunkQueue"]
        queue_arn = deployment.arns["ImportChunkQueue"]
        s3, sqs = session.client("s3"), session.client("sqs")

        data = file_bytes(lines, kind)
        key = f"customers/bench.{kind}"
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        print(f"file: {lines:,} lines, {len(data) / 1e6:.1f} MB ({kind}), key {key}")
        chunk_seconds: list[float] = []
        quiet = io.StringIO()  # the handlers' log lines and metrics
        with metered(units) as meter, contextlib.redirect_stdout(quiet):
            started, cpu = time.perf_counter(), time.process_time()
            answer = importer(s3_event(bucket, key, len(data), NOW), FakeLambdaContext())
            planned = time.perf_counter() - started
            result = answer["results"][0]
            print(f"  planned: {planned:.1f} s, {result.get('chunks', 1)} chunks", file=sys.stderr)
            while True:
                received = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
                ).get("Messages", [])
                if not received:
                    break
                began = time.perf_counter()
                response = worker(sqs_event(received, queue_arn), FakeLambdaContext())
                chunk_seconds.append(time.perf_counter() - began)
                print(
                    f"  chunk {len(chunk_seconds)}/{result.get('chunks', 1)}: "
                    f"{chunk_seconds[-1]:.1f} s, {time.process_time() - cpu:.0f} s CPU so far",
                    file=sys.stderr,
                    flush=True,
                )
                if response.get("batchItemFailures"):
                    sys.exit(f"chunk failed: {response}")
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read())
        chunks = int(result.get("chunks", 1))
        print(f"chunks: {chunks} (chunk size {settings.get_settings().import_chunk_bytes:,} B)")
        print(f"imported {report['imported']:,}, rejected {len(report['rejected'])}")
        print(f"wall time: {wall:.1f} s, {lines / wall:,.0f} lines/s (one process, in turn)")
        print(f"CPU time (this process, moto included): {cpu:.1f} s, {lines / cpu:,.0f} lines/s")
        print(f"planning (S3 event invocation): {planned:.2f} s")
        if chunk_seconds:
            print(
                f"per chunk: mean {sum(chunk_seconds) / len(chunk_seconds):.1f} s, "
                f"max {max(chunk_seconds):.1f} s, "
                f"{lines / sum(chunk_seconds):,.0f} lines/s per worker"
            )
        print(f"DynamoDB calls: {meter.calls:,} ({meter.calls / lines:.2f} per line)")
        if units:
            print(
                f"DynamoDB write units: {meter.write_units:,.0f} "
                f"({meter.write_units / lines:.2f} per line; moto's own ConsumedCapacity: "
                f"{meter.moto_units:,.0f})"
            )
        scale = 1_000_000 / lines
        slowest = max(chunk_seconds, default=wall)
        if not chunk_seconds:
            print(
                "one chunk: the S3 event's invocation imported the file itself; for the "
                "chunked figures and the 1,000,000-line projection use more lines or a "
                "smaller --chunk-bytes"
            )
        else:
            print(
                f"1,000,000 lines: about {round(chunks * scale)} chunks, planning "
                f"{planned * scale:.0f} s (limit {LAMBDA_LIMIT_SECONDS} s), each chunk about "
                f"{slowest:.0f} s (ImportChunkFunction timeout {CHUNK_TIMEOUT_SECONDS} s, "
                f"Lambda limit {LAMBDA_LIMIT_SECONDS} s); one worker in turn: "
                f"{(wall - planned) * scale:.0f} s, 10 in parallel (MaximumConcurrency): "
                f"{(wall - planned) * scale / 10 + planned * scale:.0f} s"
            )
        # On DynamoDB a call waits on the network (~5-10 ms) and the worker's threads overlap
        # those waits; on moto every call is CPU in this process, so threads do not help.
        per_line = meter.calls / lines
        for latency in (0.005, 0.010):
            rate = workers / (per_line * latency)
            print(
                f"on DynamoDB at {latency * 1000:.0f} ms a call, {workers} threads: about "
                f"{rate:,.0f} lines/s per chunk worker, a {lines / chunks:,.0f}-line chunk in "
                f"{lines / chunks / rate:.0f} s"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    parser.add_argument("--chunk-bytes", type=int, default=None, help="default: the setting's")
    parser.add_argument("--workers", type=int, default=10, help="IMPORT_WRITE_CONCURRENCY")
    parser.add_argument("--no-units", action="store_true", help="skip the write-unit meter")
    args = parser.parse_args(argv)
    run(args.lines, args.format, args.chunk_bytes, args.workers, not args.no_units)
    return 0


if __name__ == "__main__":
    sys.exit(main())
