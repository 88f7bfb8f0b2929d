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

import base64
import bisect
import contextlib
import io
import json
import logging
import os
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
SENDER_EMAIL = "messages@example.com"
# Template parameters of the local deployment. One dispatch shard: moto answers every index
# Query with a full table scan, so more shards only cost time here.
LOCAL_PARAMETERS = {"SenderEmail": SENDER_EMAIL, "DispatchShards": "1"}
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
    orders: Path | None = None
    events: Path | None = None
    responses: Path | None = None


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


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputError(f"{what} file not found: {path}")
    return path


def _read_input(path: Path, what: str) -> bytes:
    return _existing(path, what).read_bytes()


def _usage_event(line: Any, now: datetime) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "usage" / "usage_recorded.json").read_text())
    event["id"] = str(uuid.uuid4())
    event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"] = {
        "customer_id": line.customer_id,
        "type": line.type,
        "at": line.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return event


def _stream_record(record: dict[str, Any], stream_arn: str, now: datetime) -> dict[str, Any]:
    """moto's record -> the shape Lambda delivers (eventSourceARN, epoch creation time)."""
    normalized = dict(record)
    normalized["eventSourceARN"] = stream_arn
    normalized["awsRegion"] = REGION
    dynamodb = dict(record["dynamodb"])
    dynamodb["ApproximateCreationDateTime"] = int(now.timestamp())
    normalized["dynamodb"] = dynamodb
    return normalized


_SURVEY_LINK = re.compile(r"/s/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def _survey_token(text: str) -> str | None:
    match = _SURVEY_LINK.search(text)
    return match.group(1) if match else None


def _survey_owner(token: str) -> tuple[str, str] | None:
    """(customer, campaign) of a survey token, read from its (signed) payload."""
    try:
        payload = token.split(".", maxsplit=1)[0]
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        campaign, customer = str(body["s"]).split("#")[:2]
    except (ValueError, KeyError, TypeError):
        return None
    return customer, campaign


def _survey_post_event(token: str, answer: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "survey" / "post_answer.json").read_text())
    event["path"] = f"/s/{token}"
    event["pathParameters"] = {"token": token}
    event["requestContext"]["path"] = f"/v1/s/{token}"
    fields = {"score": str(answer.score)}
    if answer.comment:
        fields["comment"] = answer.comment
    event["body"] = urlencode(fields)
    return event


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
            TEMPLATE, session=self.session, parameters=LOCAL_PARAMETERS
        )
        environment: dict[str, str] = {}
        for logical_id in self.deployment.functions:
            environment.update(self.deployment.function_environment(logical_id))
        os.environ.update(environment)
        from lifecycle.core import aws, clock, settings
        from lifecycle.store import models

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
        self.streams = self.session.client("dynamodbstreams")
        self.orders_table = self.session.resource("dynamodb").Table(
            self.deployment.physical["OrdersTable"]
        )
        self._stream_iterator: str | None = None
        self.timeline: list[tuple[datetime, int, str, Any]] = []
        self.outside_period = 0
        self.response_results: list[dict[str, Any]] = []
        self.survey_links: dict[tuple[str, str], str] = {}
        self._pending: list[datetime] | None = None
        self._mails_seen = 0
        self._sms_seen = 0
        self.responses_accepted = 0
        self.log = io.StringIO()
        self._bind_logs()

    def _bind_logs(self) -> None:
        from lifecycle.core.observability import logger

        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(self.log)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.invocations[logical_id] += 1
        if logical_id in self.PLANNING_FUNCTIONS:
            self._pending = None
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

    # Functions whose runs can add items to the ledger's due index.
    PLANNING_FUNCTIONS = frozenset(
        {"PlannerFunction", "PlanWorkerFunction", "OrdersStreamFunction"}
    )

    def _earliest_due(self) -> datetime | None:
        """Earliest ``deliver_at`` in the due index (read again only after planning ran).

        moto answers an index Query by scanning the whole table, so the runner keeps the
        pending instants and drops the ones each dispatcher firing has handed over.
        """
        from lifecycle.core.clock import parse_utc
        from lifecycle.core.settings import get_settings

        if self._pending is None:
            pending: list[str] = []
            table = self.deployment.physical["DeliveriesTable"]
            paginator = self.dynamodb.get_paginator("query")
            for shard in range(get_settings().dispatch_shards):
                for page in paginator.paginate(
                    TableName=table,
                    IndexName="due",
                    KeyConditionExpression="due_shard = :s",
                    ExpressionAttributeValues={":s": {"S": str(shard)}},
                    ProjectionExpression="deliver_at",
                ):
                    pending += [item["deliver_at"]["S"] for item in page["Items"]]
            self._pending = sorted(parse_utc(value) for value in pending)
        return self._pending[0] if self._pending else None

    def _dispatched(self, moment: datetime, report: dict[str, Any]) -> None:
        if report.get("failed") or self._pending is None:
            self._pending = None
            return
        self._pending = [due for due in self._pending if due > moment]

    def _queue_depth(self, queue: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.deployment.queue_url(queue),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def load_inputs(self) -> list[Any]:
        """Orders, usage events and survey answers as a timeline; bad lines are rejected."""
        from emulator.inputs import OrderLine, ResponseLine, UsageLine, read_lines

        timeline: list[tuple[datetime, int, str, Any]] = []
        rejected: list[Any] = []
        sequence = 0
        if self.config.orders:
            orders, bad = read_lines(_existing(self.config.orders, "orders"), OrderLine, "order_id")
            rejected += bad
            for _, order in orders:
                for at, status in order.writes():
                    sequence += 1
                    timeline.append((at, sequence, "order", (order, status)))
        if self.config.events:
            events, bad = read_lines(
                _existing(self.config.events, "events"), UsageLine, "customer_id"
            )
            rejected += bad
            for _, event in events:
                sequence += 1
                timeline.append((event.at, sequence, "usage", event))
        if self.config.responses:
            answers, bad = read_lines(
                _existing(self.config.responses, "responses"), ResponseLine, "customer_id"
            )
            rejected += bad
            for number, answer in answers:
                sequence += 1
                timeline.append((answer.at, sequence, "response", (number, answer)))
        timeline.sort(key=lambda entry: (entry[0], entry[1]))
        self.timeline = timeline
        return rejected

    def run(self) -> None:
        start = self.clock.now()
        end = start + timedelta(days=self.config.days)
        planner_times = self._schedule("PlannerFunction", end)
        dispatcher_times = self._schedule("DispatcherFunction", end)
        if not planner_times or not dispatcher_times:
            raise InputError("template has no planner or dispatcher schedule")
        repeat = 2 if self.config.redeliver else 1
        # Other scheduled jobs (the RFM job...) fire at their own times.
        jobs = sorted(
            (at, schedule.function)
            for schedule in self.deployment.schedules
            if schedule.function not in ("PlannerFunction", "DispatcherFunction")
            for at in schedule.fire_times(start, end)
        )
        job_position = 0
        timeline = [entry for entry in self.timeline if start <= entry[0] < end]
        self.outside_period = len(self.timeline) - len(timeline)
        position = 0
        moment = start
        while True:
            candidates = []
            i = bisect.bisect_left(planner_times, moment)
            if i < len(planner_times):
                candidates.append(planner_times[i])
            if position < len(timeline):
                candidates.append(max(timeline[position][0], moment))
            if job_position < len(jobs):
                candidates.append(jobs[job_position][0])
            due = self._earliest_due()
            wake = moment if self._queue_depth("SendQueue") else (max(due, moment) if due else None)
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
            while position < len(timeline) and timeline[position][0] <= moment:
                _, _, kind, payload = timeline[position]
                position += 1
                self.external(kind, payload, repeat)
            while job_position < len(jobs) and jobs[job_position][0] <= moment:
                _, function = jobs[job_position]
                job_position += 1
                for _ in range(repeat):
                    self.invoke(function, _scheduled_event(function, moment))
            if moment in planner_times:
                for _ in range(repeat):
                    report = self.invoke(
                        "PlannerFunction", _scheduled_event("planner-daily", moment)
                    )
                    self._count_plan(report)
                self.drain_plan_queue(repeat)
            k = bisect.bisect_left(dispatcher_times, moment)
            if k < len(dispatcher_times) and dispatcher_times[k] == moment:
                for _ in range(repeat):
                    dispatched = self.invoke(
                        "DispatcherFunction", _scheduled_event("dispatcher", moment)
                    )
                    self._dispatched(moment, dispatched)
                self.drain_queue(repeat)
            moment += timedelta(seconds=1)

    def _count_plan(self, report: dict[str, Any]) -> None:
        self.planner_reads += report["customers_read"]
        self.planner_created += sum(report["created"].values())
        self.planner_queued += report["created"].get("queued", 0)

    # -- other services ------------------------------------------------------------------
    def external(self, kind: str, payload: Any, repeat: int) -> None:
        if kind == "order":
            order, status = payload
            self.orders_table.put_item(Item=order.item(status, self.clock.now()))
            self.pump_orders_stream(repeat)
        elif kind == "usage":
            event = _usage_event(payload, self.clock.now())
            for _ in range(repeat):
                self.invoke("UsageFunction", event)
        else:
            number, answer = payload
            self.answer_survey(number, answer, repeat)

    def pump_orders_stream(self, repeat: int) -> None:
        """Read new Orders stream records and hand them to the stream function."""
        if self._stream_iterator is None:
            arn = self.deployment.table_stream_arn("OrdersTable")
            shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            self._stream_iterator = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        response = self.streams.get_records(ShardIterator=self._stream_iterator)
        self._stream_iterator = response.get("NextShardIterator")
        records = [
            _stream_record(r, self.deployment.table_stream_arn("OrdersTable"), self.clock.now())
            for r in response.get("Records", [])
        ]
        if not records:
            return
        for _ in range(repeat):
            result = self.invoke("OrdersStreamFunction", {"Records": records})
            if result.get("batchItemFailures"):
                raise RuntimeError(f"orders stream records failed: {result}")

    def _collect_survey_links(self) -> None:
        """Remember the newest survey link per (customer, campaign) from what was sent."""
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        mails = ses_backends[ACCOUNT][REGION].sent_messages
        texts = [
            _message_line(m.raw_data)["text"]
            for m in mails[self._mails_seen :]
            if hasattr(m, "raw_data")
        ]
        self._mails_seen = len(mails)
        sms = list(sns_backends[ACCOUNT][REGION].sms_messages.values())
        texts += [str(stored[1]) for stored in sms[self._sms_seen :]]
        self._sms_seen = len(sms)
        for text in texts:
            token = _survey_token(text)
            owner = _survey_owner(token) if token else None
            if token and owner:
                self.survey_links[owner] = token

    def answer_survey(self, number: int, answer: Any, repeat: int) -> None:
        self._collect_survey_links()
        link = self.survey_links.get((answer.customer_id, answer.campaign_id))
        source = self.config.responses.name if self.config.responses else "responses"
        if link is None:
            self.response_results.append(
                {
                    "source": source,
                    "line": number,
                    "id": answer.customer_id,
                    "reason": f"no survey of {answer.campaign_id} received before {answer.at}",
                }
            )
            return
        event = _survey_post_event(link, answer)
        for _ in range(repeat):
            response = self.invoke("SurveyFunction", event)
        if response["statusCode"] != 200:
            self.response_results.append(
                {
                    "source": source,
                    "line": number,
                    "id": answer.customer_id,
                    "reason": f"survey endpoint answered {response['statusCode']}",
                }
            )
        else:
            self.responses_accepted += 1

    def drain_plan_queue(self, repeat: int) -> None:
        for messages in self._receive_all("PlanQueue"):
            event = _sqs_event(messages, self.deployment.arns["PlanQueue"])
            for _ in range(repeat):
                result = self.invoke("PlanWorkerFunction", event)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            if failed:
                raise RuntimeError(f"plan tasks failed: {sorted(failed)}")
            self._delete(messages, "PlanQueue")

    def _receive_all(self, queue: str) -> Iterator[list[dict[str, Any]]]:
        url = self.deployment.queue_url(queue)
        while True:
            response = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            yield messages

    def _delete(self, messages: list[dict[str, Any]], queue: str) -> None:
        url = self.deployment.queue_url(queue)
        for message in messages:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

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
        """Every message the providers accepted: SES raw mail and SNS SMS."""
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        backend = ses_backends[ACCOUNT][REGION]
        messages = [
            _message_line(m.raw_data) for m in backend.sent_messages if hasattr(m, "raw_data")
        ]
        sms = sns_backends[ACCOUNT][REGION].sms_messages
        if sms:
            by_provider_id = {
                item["provider_message_id"]["S"]: item
                for item in self.ledger_items()
                if item.get("channel", {}).get("S") == "sms" and "provider_message_id" in item
            }
            for message_id, stored in sms.items():
                phone, text = stored[0], stored[1]
                item = by_provider_id.get(message_id)
                if item is not None:
                    messages.append(_sms_line(item, phone, text))
        return sorted(
            messages, key=lambda m: (m["sent_at"], m["campaign_id"], m["customer_id"], m["channel"])
        )

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


def _sms_line(item: dict[str, Any], phone: str, text: str) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    sent = datetime.fromisoformat(item["sent_at"]["S"].replace("Z", "+00:00"))
    local = sent.astimezone(ZoneInfo(item["timezone"]["S"]))
    return {
        "customer_id": item["customer_id"]["S"],
        "campaign_id": item["campaign_id"]["S"],
        "occasion": item["occasion"]["S"],
        "channel": "sms",
        "to": phone,
        "subject": None,
        "text": text,
        "headers": {},
        "sent_at": item["sent_at"]["S"],
        "local_time": local.isoformat(),
    }


def _survey_report(ledger: list[dict[str, Any]]) -> dict[str, Any]:
    from lifecycle.features.surveys import survey_stats

    sent: dict[str, set[str]] = defaultdict(set)
    campaigns = set()
    for item in ledger:
        if item["occasion"]["S"] != "post_purchase_survey":
            continue
        campaign = item["campaign_id"]["S"]
        campaigns.add(campaign)
        if item["status"]["S"] == "sent":
            sent[campaign].add(item["delivery_id"]["S"].rsplit("#", 1)[0])
    report = {}
    for campaign in sorted(campaigns):
        stats = survey_stats(campaign)
        report[campaign] = {"sent": len(sent[campaign]), **stats}
    return report


def _by_campaign(items: Iterator[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        status = item["status"]["S"]
        reason = item.get("reason", {}).get("S")
        key = f"{status}:{reason}" if reason and status != "sent" else status
        counts[item["campaign_id"]["S"]][key] += 1
    return {campaign: dict(sorted(c.items())) for campaign, c in sorted(counts.items())}


def dry_run(config: SimulationConfig) -> dict[str, Any]:
    """Import the files, then ask the marketer API for a dry run of the whole period.

    Writes ``plan.jsonl`` (messages that would be sent, as in messages.jsonl without headers)
    and ``excluded.jsonl`` ({customer_id, campaign_id, reason}); sends nothing. Orders, usage
    events and answers lie in the future of the dry run and are not used.
    """
    if config.days < 1:
        raise InputError("--days must be at least 1")
    _set_local_environment()
    from moto import mock_aws

    start = datetime.combine(config.start, datetime.min.time(), UTC)
    with mock_aws():
        simulation = Simulation(config)
        simulation.deploy()
        imports = simulation.import_files()
        event: dict[str, Any] = json.loads(
            (EVENTS / "campaign_api" / "dry_run.json").read_text(encoding="utf-8")
        )
        event["body"] = json.dumps(
            {
                "from": config.start.isoformat(),
                "to": (config.start + timedelta(days=config.days)).isoformat(),
            }
        )
        simulation.clock.set(start)
        response = simulation.invoke("CampaignApiFunction", event)
        log_text = simulation.log.getvalue()
    body = json.loads(response["body"])
    if response["statusCode"] != 200:
        raise InputError(f"dry run refused: {body}")
    config.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("plan.jsonl", body["messages"]), ("excluded.jsonl", body["excluded"])):
        with (config.out / name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (config.out / "lambda.log").write_text(log_text, encoding="utf-8")
    return {
        "messages": len(body["messages"]),
        "excluded": dict(sorted(Counter(e["reason"] for e in body["excluded"]).items())),
        "rejected": imports["campaigns"]["rejected"] + imports["customers"]["rejected"],
    }


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
        input_rejections = [asdict(r) for r in simulation.load_inputs()]
        simulation.run()
        messages = simulation.sent_messages()
        ledger = list(simulation.ledger_items())
        by_campaign = _by_campaign(iter(ledger))
        surveys = _survey_report(ledger)
        log_text = simulation.log.getvalue()
    rejected = (
        imports["campaigns"]["rejected"]
        + imports["customers"]["rejected"]
        + input_rejections
        + simulation.response_results
    )
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
        "by_channel": dict(sorted(Counter(m["channel"] for m in messages).items())),
        "by_campaign": by_campaign,
        "surveys": surveys,
        "inputs": {
            "survey_answers_accepted": simulation.responses_accepted,
            "timeline_events_outside_period": simulation.outside_period,
        },
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
