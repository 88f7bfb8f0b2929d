"""The simulated deployment and its clock loop.

Owns :class:`Simulation`: it builds the template's tables, queues, bucket and secret in moto,
imports the input files through the real importer function, then advances a simulated clock
and invokes the real handlers with real event shapes: EventBridge scheduled events for the
planner, the dispatcher and the other scheduled jobs, SQS batches for the plan worker and the
sender, Orders stream records, usage events and survey answers at their instants.

Only instants at which something can happen are visited: every planner firing, every other
job's firing, every outside event, and every dispatcher firing at which a ledger item is due or
the send queue holds messages. Skipping the idle dispatcher firings changes nothing but the
run time.

``lifecycle``, boto3 and moto are imported only inside methods: the environment must be set
(and moto started) first.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import logging
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from emulator.config import InputError, SimulationConfig, read_input
from emulator.environment import LOCAL_PARAMETERS, REGION, TEMPLATE
from emulator.events import (
    s3_event,
    scheduled_event,
    sqs_event,
    stream_record,
    survey_post_event,
    usage_event,
)
from emulator.readback import SurveyLinks
from emulator.report import PlannerFigures

if TYPE_CHECKING:
    from emulator.inputs import ResponseLine, TimelineEntry
    from lifecycle.features.importer import Rejection


class Simulation:
    """One simulated deployment. Use :func:`emulator.runner.simulate` unless stepping by hand."""

    # Functions whose runs can add items to the ledger's due index.
    PLANNING_FUNCTIONS = frozenset(
        {"PlannerFunction", "PlanWorkerFunction", "OrdersStreamFunction"}
    )

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.invocations: Counter[str] = Counter()
        self.planner = PlannerFigures()

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
        self.timeline: list[TimelineEntry] = []
        self.outside_period = 0
        self.response_results: list[dict[str, Any]] = []
        self.survey_links = SurveyLinks()
        self._pending: list[datetime] | None = None
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
        customers = read_input(self.config.customers, "customers")
        campaigns = read_input(self.config.campaigns, "campaigns")
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
                "ImporterFunction", s3_event(bucket, key, len(data), self.clock.now())
            )
            result = response["results"][0]
            if result.get("error"):
                raise InputError(result["error"])
            results[prefix] = result
        return results

    def load_inputs(self) -> list[Rejection]:
        """Orders, usage events and survey answers as a timeline; bad lines are rejected."""
        from emulator.inputs import read_timeline

        config = self.config
        self.timeline, rejected = read_timeline(config.orders, config.events, config.responses)
        return rejected

    # -- time loop ----------------------------------------------------------------------
    def _schedule(self, logical_id: str, end: datetime) -> list[datetime]:
        start = self.clock.now()
        times: list[datetime] = []
        for schedule in self.deployment.schedules:
            if schedule.function == logical_id:
                times.extend(schedule.fire_times(start, end))
        return sorted(set(times))

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
                    self.invoke(function, scheduled_event(function, moment))
            if moment in planner_times:
                for _ in range(repeat):
                    report = self.invoke(
                        "PlannerFunction", scheduled_event("planner-daily", moment)
                    )
                    self.planner.count(report)
                self.drain_plan_queue(repeat)
            k = bisect.bisect_left(dispatcher_times, moment)
            if k < len(dispatcher_times) and dispatcher_times[k] == moment:
                for _ in range(repeat):
                    dispatched = self.invoke(
                        "DispatcherFunction", scheduled_event("dispatcher", moment)
                    )
                    self._dispatched(moment, dispatched)
                self.drain_queue(repeat)
            moment += timedelta(seconds=1)

    # -- other services ------------------------------------------------------------------
    def external(self, kind: str, payload: Any, repeat: int) -> None:
        if kind == "order":
            order, status = payload
            self.orders_table.put_item(Item=order.item(status, self.clock.now()))
            self.pump_orders_stream(repeat)
        elif kind == "usage":
            event = usage_event(payload, self.clock.now())
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
            stream_record(r, self.deployment.table_stream_arn("OrdersTable"), self.clock.now())
            for r in response.get("Records", [])
        ]
        if not records:
            return
        for _ in range(repeat):
            result = self.invoke("OrdersStreamFunction", {"Records": records})
            if result.get("batchItemFailures"):
                raise RuntimeError(f"orders stream records failed: {result}")

    def answer_survey(self, number: int, answer: ResponseLine, repeat: int) -> None:
        self.survey_links.refresh()
        link = self.survey_links.get(answer.customer_id, answer.campaign_id)
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
        event = survey_post_event(link, answer)
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

    # -- queues -------------------------------------------------------------------------
    def drain_plan_queue(self, repeat: int) -> None:
        for messages in self._receive_all("PlanQueue"):
            event = sqs_event(messages, self.deployment.arns["PlanQueue"])
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
            event = sqs_event(messages, queue_arn)
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
    def ledger_items(self) -> Iterator[dict[str, Any]]:
        """Every item of the Deliveries table (DynamoDB JSON), read lazily."""
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.deployment.physical["DeliveriesTable"]):
            yield from page["Items"]
