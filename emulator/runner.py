"""Run the whole system locally on moto with a simulated clock.

The runner builds the template's tables, queues, bucket and secret in moto, imports the input
files through the real importer function (S3 event), then advances a simulated clock and
invokes the real handlers with real event shapes: EventBridge scheduled events for the planner
and the dispatcher, SQS batches for the sender. Messages are read back from what SES received.

Only instants at which something can happen are visited: every planner firing, and every
dispatcher firing at which a ledger item is due or the send queue holds messages. Skipping the
idle dispatcher firings changes nothing but the run time.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import logging
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
SENDER_EMAIL = "messages@example.com"
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ACCOUNT_ID": ACCOUNT,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


class InputError(ValueError):
    """An input file is missing or unusable: the runner stops with this message."""


@dataclass(frozen=True)
class SimulationConfig:
    customers: Path
    campaigns: Path
    start: date
    days: int
    out: Path
    redeliver: bool = False


@dataclass
class SimulationResult:
    messages: list[dict[str, Any]]
    report: dict[str, Any]
    seconds: float = 0.0
    invocations: Counter[str] = field(default_factory=Counter)


def _set_local_environment() -> None:
    for key, value in LOCAL_ENV.items():
        os.environ[key] = value


def _scheduled_event(rule: str, at: datetime) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "planner" / "scheduled.json").read_text())
    event["id"] = str(uuid.uuid4())
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["region"] = REGION
    event["account"] = ACCOUNT
    event["resources"] = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"]
    return event


def _s3_event(bucket: str, key: str, size: int, at: datetime) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "importer" / "s3_put_customers.json").read_text())
    record = event["Records"][0]
    record["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    record["awsRegion"] = REGION
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"]["key"] = key
    record["s3"]["object"]["size"] = size
    return event


def _sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", "0"),
                    "SenderId": attributes.get("SenderId", ACCOUNT),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", "0"
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def _read_input(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise InputError(f"{what} file not found: {path}")
    return path.read_bytes()


class Simulation:
    """One simulated deployment. Use :func:`simulate` unless you need to step by hand."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.invocations: Counter[str] = Counter()
        self.planner_reads = 0
        self.planner_created = 0
        self.planner_queued = 0

    # -- set-up -------------------------------------------------------------------------
    def deploy(self) -> None:
        import boto3

        from emulator.template import FakeLambdaContext, LocalDeployment, load_handler

        self.session = boto3.Session(region_name=REGION)
        self.deployment = LocalDeployment.create(
            TEMPLATE, session=self.session, parameters={"SenderEmail": SENDER_EMAIL}
        )
        environment: dict[str, str] = {}
        for logical_id in self.deployment.functions:
            environment.update(self.deployment.function_environment(logical_id))
        os.environ.update(environment)
        from lifecycle import aws, clock, models, settings

        settings.reset_settings()
        aws.reset_clients()
        models.configure_tables()
        self.clock = clock.SimulatedClock(
            datetime.combine(self.config.start, datetime.min.time(), UTC)
        )
        clock.set_clock(self.clock)
        self.handlers = {
            logical_id: load_handler(spec) for logical_id, spec in self.deployment.functions.items()
        }
        self.context_factory = FakeLambdaContext
        self.sqs = self.session.client("sqs")
        self.dynamodb = self.session.client("dynamodb")
        self.log = io.StringIO()
        self._bind_logs()

    def _bind_logs(self) -> None:
        from lifecycle.observability import logger

        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(self.log)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.invocations[logical_id] += 1
        context = self.context_factory(function_name=logical_id)
        with contextlib.redirect_stdout(self.log):
            return self.handlers[logical_id](event, context)

    # -- import -------------------------------------------------------------------------
    def import_files(self) -> dict[str, Any]:
        customers = _read_input(self.config.customers, "customers")
        campaigns = _read_input(self.config.campaigns, "campaigns")
        bucket = self.deployment.physical["ImportBucket"]
        s3 = self.session.client("s3")
        results = {}
        for prefix, path, data in (
            ("campaigns", self.config.campaigns, campaigns),
            ("customers", self.config.customers, customers),
        ):
            key = f"{prefix}/{path.name}"
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            response = self.invoke(
                "ImporterFunction", _s3_event(bucket, key, len(data), self.clock.now())
            )
            result = response["results"][0]
            if result.get("error"):
                raise InputError(result["error"])
            results[prefix] = result
        return results

    # -- time loop ----------------------------------------------------------------------
    def _schedule(self, logical_id: str, end: datetime) -> list[datetime]:
        start = self.clock.now()
        times: list[datetime] = []
        for schedule in self.deployment.schedules:
            if schedule.function == logical_id:
                times.extend(schedule.fire_times(start, end))
        return sorted(set(times))

    def _earliest_due(self) -> datetime | None:
        from lifecycle.clock import parse_utc
        from lifecycle.settings import get_settings

        earliest: str | None = None
        table = self.deployment.physical["DeliveriesTable"]
        for shard in range(get_settings().dispatch_shards):
            response = self.dynamodb.query(
                TableName=table,
                IndexName="due",
                KeyConditionExpression="due_shard = :s",
                ExpressionAttributeValues={":s": {"S": str(shard)}},
                ScanIndexForward=True,
                Limit=1,
            )
            for item in response.get("Items", []):
                value = item["deliver_at"]["S"]
                earliest = value if earliest is None or value < earliest else earliest
        return parse_utc(earliest) if earliest else None

    def _queue_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.deployment.queue_url("SendQueue"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def run(self) -> None:
        start = self.clock.now()
        end = start + timedelta(days=self.config.days)
        planner_times = self._schedule("PlannerFunction", end)
        dispatcher_times = self._schedule("DispatcherFunction", end)
        if not planner_times or not dispatcher_times:
            raise InputError("template has no planner or dispatcher schedule")
        repeat = 2 if self.config.redeliver else 1
        moment = start
        while True:
            candidates = []
            i = bisect.bisect_left(planner_times, moment)
            if i < len(planner_times):
                candidates.append(planner_times[i])
            due = self._earliest_due()
            wake = moment if self._queue_depth() else (max(due, moment) if due else None)
            if wake is not None:
                j = bisect.bisect_left(dispatcher_times, wake)
                if j < len(dispatcher_times):
                    candidates.append(dispatcher_times[j])
            if not candidates:
                break
            moment = min(candidates)
            if moment >= end:
                break
            self.clock.set(moment)
            if moment in planner_times:
                for _ in range(repeat):
                    report = self.invoke(
                        "PlannerFunction", _scheduled_event("planner-daily", moment)
                    )
                    self.planner_reads += report["customers_read"]
                    self.planner_created += sum(report["created"].values())
                    self.planner_queued += report["created"].get("queued", 0)
            if dispatcher_times[bisect.bisect_left(dispatcher_times, moment)] == moment:
                for _ in range(repeat):
                    self.invoke("DispatcherFunction", _scheduled_event("dispatcher", moment))
                self.drain_queue(repeat)
            moment += timedelta(seconds=1)

    def drain_queue(self, repeat: int) -> None:
        queue_url = self.deployment.queue_url("SendQueue")
        queue_arn = self.deployment.arns["SendQueue"]
        while True:
            response = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                VisibilityTimeout=30,
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            event = _sqs_event(messages, queue_arn)
            failed: set[str] = set()
            for _ in range(repeat):
                result = self.invoke("SenderFunction", event)
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] in failed:
                    # Retried at the next dispatcher firing (visible again at once).
                    self.sqs.change_message_visibility(
                        QueueUrl=queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    self.sqs.delete_message(
                        QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
            if failed:
                return

    # -- results ------------------------------------------------------------------------
    def sent_messages(self) -> list[dict[str, Any]]:
        from moto.ses.models import ses_backends

        backend = ses_backends[ACCOUNT][REGION]
        messages = [
            _message_line(m.raw_data) for m in backend.sent_messages if hasattr(m, "raw_data")
        ]
        return sorted(messages, key=lambda m: (m["sent_at"], m["campaign_id"], m["customer_id"]))

    def ledger_items(self) -> Iterator[dict[str, Any]]:
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.deployment.physical["DeliveriesTable"]):
            yield from page["Items"]


def _message_line(raw: str | bytes) -> dict[str, Any]:
    data = raw.encode() if isinstance(raw, str) else raw
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    local = parsedate_to_datetime(str(message["Date"]))
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    to = message["To"]
    address = to.addresses[0].addr_spec if to is not None and to.addresses else str(to)
    headers = {name: str(value) for name, value in message.items()}
    return {
        "customer_id": str(message["X-LCM-Customer-Id"]),
        "campaign_id": str(message["X-LCM-Campaign-Id"]),
        "occasion": str(message["X-LCM-Occasion"]),
        "channel": "email",
        "to": address,
        "subject": str(message["Subject"]),
        "text": text,
        "headers": headers,
        "sent_at": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": local.isoformat(),
    }


def _by_campaign(items: Iterator[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        status = item["status"]["S"]
        reason = item.get("reason", {}).get("S")
        key = f"{status}:{reason}" if reason and status != "sent" else status
        counts[item["campaign_id"]["S"]][key] += 1
    return {campaign: dict(sorted(c.items())) for campaign, c in sorted(counts.items())}


def simulate(config: SimulationConfig) -> SimulationResult:
    """Run a whole simulation and write ``messages.jsonl`` and ``report.json`` to ``config.out``."""
    if config.days < 1:
        raise InputError("--days must be at least 1")
    started = time.perf_counter()
    _set_local_environment()
    from moto import mock_aws

    with mock_aws():
        simulation = Simulation(config)
        simulation.deploy()
        imports = simulation.import_files()
        simulation.run()
        messages = simulation.sent_messages()
        by_campaign = _by_campaign(simulation.ledger_items())
        log_text = simulation.log.getvalue()
    rejected = imports["campaigns"]["rejected"] + imports["customers"]["rejected"]
    warnings = imports["campaigns"]["warnings"] + imports["customers"]["warnings"]
    planned = simulation.planner_created
    report = {
        "period": {
            "start": config.start.isoformat(),
            "days": config.days,
            "end": (config.start + timedelta(days=config.days)).isoformat(),
            "redeliver": config.redeliver,
        },
        "messages": len(messages),
        "by_campaign": by_campaign,
        "imported": {
            "customers": imports["customers"]["imported"],
            "campaigns": imports["campaigns"]["imported"],
        },
        "rejected": rejected,
        "warnings": warnings,
        "planner": {
            "customers_read": simulation.planner_reads,
            "ledger_items_created": planned,
            "queued_for_sending": simulation.planner_queued,
            "items_read_per_ledger_item": round(simulation.planner_reads / planned, 3)
            if planned
            else None,
            "items_read_per_planned_message": round(
                simulation.planner_reads / simulation.planner_queued, 3
            )
            if simulation.planner_queued
            else None,
        },
        "invocations": dict(sorted(simulation.invocations.items())),
    }
    config.out.mkdir(parents=True, exist_ok=True)
    with (config.out / "messages.jsonl").open("w", encoding="utf-8") as handle:
        for message in messages:
            handle.write(json.dumps(message, ensure_ascii=False, sort_keys=True) + "\n")
    (config.out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (config.out / "lambda.log").write_text(log_text, encoding="utf-8")
    return SimulationResult(
        messages=messages,
        report=report,
        seconds=time.perf_counter() - started,
        invocations=simulation.invocations,
    )
