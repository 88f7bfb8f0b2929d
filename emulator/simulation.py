"""The simulated deployment and its clock loop.

Owns :class:`Simulation`: it builds the template's tables, queues, bucket and secret in moto,
imports the input files through the real importer function, then advances a simulated clock
and invokes the real handlers with real event shapes: EventBridge scheduled events for the
planner, the dispatcher and the other scheduled jobs, SQS batches for the plan worker and the
sender, Orders stream records, usage events and survey answers at their instants.

Queues run on the simulated clock (:mod:`emulator.queues`, reached through
:mod:`emulator.boundary`): a message sent with ``DelaySeconds`` or made invisible by a receive
or ``ChangeMessageVisibility`` is delivered when the simulated clock reaches its time, and one
received ``maxReceiveCount`` times moves to the dead-letter queue. Failures are handled as AWS
handles them: a failed asynchronous invocation (schedules, EventBridge rules) is retried after
1 and 2 minutes up to the function's ``EventInvokeConfig.MaximumRetryAttempts`` (default 2),
then goes to its on-failure destination; a failed SQS batch (an exception, a crash) comes back
whole when its visibility timeout ends, failed records of a partial response likewise; a
failed stream batch is retried (bisected on errors) up to the mapping's
``MaximumRetryAttempts``, then its record goes to the on-failure destination; a survey answer
that gets a 5xx is sent again by the customer (twice at most).

Only instants at which something can happen are visited: every planner firing, every other
job's firing, every outside event, every dispatcher firing at which a ledger item is due, every
instant a queue message becomes visible and every retry. A job that polls a queue of its own
(the reconciler: ``SendDLQ``) fires only when that queue holds a visible message. Skipping the
idle firings changes nothing but the run time.

``lifecycle``, boto3 and moto are imported only inside methods: the environment must be set
(and moto started) first.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import json
import logging
import os
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from emulator.chaos import Chaos, WorkerCrash
from emulator.config import InputError, SimulationConfig, read_input
from emulator.environment import LOCAL_PARAMETERS, REGION, TEMPLATE
from emulator.events import (
    put_policy_event,
    s3_event,
    scheduled_event,
    sqs_event,
    stream_record,
    survey_post_event,
    usage_event,
)
from emulator.motofast import fast_moto
from emulator.readback import SurveyLinks
from emulator.report import PlannerFigures
from emulator.runlog import Progress, SimulatedTimeLog

if TYPE_CHECKING:
    from emulator.inputs import ResponseLine, TimelineEntry
    from emulator.template import StreamMapping
    from lifecycle.features.importer import Rejection

# Lambda retries a failed asynchronous invocation after about 1 minute, then 2 more.
ASYNC_RETRY_DELAYS = (60, 120)
# A customer whose survey answer got a 5xx sends it again (at most this many times).
CLIENT_RETRIES = 2
# A stream mapping with MaximumRetryAttempts -1 retries until the record expires (24 h);
# the runner stops after this many attempts (a handler that always fails would loop).
UNBOUNDED_STREAM_RETRIES = 100
_RETRYABLE = (Exception, WorkerCrash)


MAX_RECEIVE = 10  # SQS ReceiveMessage returns at most 10 messages


@dataclass
class Redelivery:
    """What AWS's retry machinery had to do in a run (all zero when nothing failed)."""

    function_errors: Counter[str] = field(default_factory=Counter)  # "Function: ErrorType"
    failed_records: Counter[str] = field(default_factory=Counter)  # SQS records per function
    async_retried: Counter[str] = field(default_factory=Counter)
    async_dropped: Counter[str] = field(default_factory=Counter)
    stream: Counter[str] = field(default_factory=Counter)  # retried, bisected, discarded
    client_retries: Counter[str] = field(default_factory=Counter)

    def report(self, queues: dict[str, dict[str, int]]) -> dict[str, Any]:
        def plain(counter: Counter[str]) -> dict[str, int]:
            return dict(sorted(counter.items()))

        return {
            "function_errors": plain(self.function_errors),
            "failed_sqs_records": plain(self.failed_records),
            "async_retried": plain(self.async_retried),
            "async_given_up": plain(self.async_dropped),
            "stream": plain(self.stream),
            "client_retries": plain(self.client_retries),
            "queues": queues,
        }


def _next(times: list[datetime], moment: datetime) -> datetime | None:
    """The first of the sorted ``times`` at or after ``moment``."""
    i = bisect.bisect_left(times, moment)
    return times[i] if i < len(times) else None


@dataclass
class _Plan:
    """The fixed firings of a run and how far the clock loop has got through them."""

    end: datetime
    planner: list[datetime]
    dispatcher: list[datetime]
    jobs: list[tuple[datetime, str]]  # other scheduled jobs, in time order
    polling: dict[str, str]  # jobs that only poll a queue of their own: function -> queue
    polling_times: dict[str, list[datetime]]
    timeline: list[TimelineEntry]
    position: int = 0
    job_position: int = 0

    @classmethod
    def of(cls, simulation: Simulation, start: datetime, end: datetime) -> _Plan:
        planner = simulation._schedule("PlannerFunction", end)
        dispatcher = simulation._schedule("DispatcherFunction", end)
        if not planner or not dispatcher:
            raise InputError("template has no planner or dispatcher schedule")
        polling = simulation._polling_jobs()
        jobs = sorted(
            (at, schedule.function)
            for schedule in simulation.deployment.schedules
            if schedule.function not in ("PlannerFunction", "DispatcherFunction", *polling)
            for at in schedule.fire_times(start, end)
        )
        timeline = [entry for entry in simulation.timeline if start <= entry[0] < end]
        simulation.outside_period = len(simulation.timeline) - len(timeline)
        return cls(
            end=end,
            planner=planner,
            dispatcher=dispatcher,
            jobs=jobs,
            polling=polling,
            polling_times={f: simulation._schedule(f, end) for f in polling},
            timeline=timeline,
        )


class Simulation:
    """One simulated deployment. Use :func:`emulator.runner.simulate` unless stepping by hand.

    A context manager: leaving it takes the runner's hook off botocore again.
    """

    # Functions whose runs can add items to the ledger's due index.
    PLANNING_FUNCTIONS = frozenset(
        {"PlannerFunction", "PlanWorkerFunction", "OrdersStreamFunction"}
    )

    def __init__(self, config: SimulationConfig, environment: dict[str, str] | None = None) -> None:
        self.config = config
        self.environment_overrides = dict(environment or {})
        self._exit = contextlib.ExitStack()  # what deploy() installs, undone by close()
        self.invocations: Counter[str] = Counter()
        self.planner = PlannerFigures()
        self.redelivery = Redelivery()
        self.chaos = Chaos(config.chaos) if config.chaos is not None else None
        self.injected_by_function: Counter[str] = Counter()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        boundary = getattr(self, "boundary", None)
        if boundary is not None:
            boundary.uninstall()
        self._exit.close()

    # -- set-up -------------------------------------------------------------------------
    def deploy(self) -> None:
        import boto3

        from emulator.boundary import AwsBoundary
        from emulator.queues import SimulatedQueues
        from emulator.template import FakeLambdaContext, LocalDeployment, load_handler

        self._exit.enter_context(fast_moto())
        self.session = boto3.Session(region_name=REGION)
        self.deployment = LocalDeployment.create(
            TEMPLATE, session=self.session, parameters=LOCAL_PARAMETERS
        )
        environment: dict[str, str] = {}
        for logical_id in self.deployment.functions:
            environment.update(self.deployment.function_environment(logical_id))
        environment.update(self.environment_overrides)
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
        self.queues = SimulatedQueues.from_deployment(self.deployment, self.clock.now)
        self.consumers = {c.queue: c for c in self.deployment.sqs_consumers()}
        self.boundary = AwsBoundary(self.queues, self.chaos)
        self.boundary.install()
        if self.chaos is not None:
            self.chaos.listener = self._injected
        self.handlers = {
            logical_id: load_handler(spec) for logical_id, spec in self.deployment.functions.items()
        }
        self.context_factory = FakeLambdaContext
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
        from emulator.preferences import MailLinks

        self.mail_links = MailLinks()
        self.preferences_applied = 0
        self._pending: list[datetime] | None = None
        # (when, sequence, function, event, attempt, first attempt): async retries, a heap
        self._retries: list[tuple[datetime, int, str, dict[str, Any], int, datetime]] = []
        self._retry_sequence = 0
        self.responses_accepted = 0
        self.log = SimulatedTimeLog(self.clock.now)  # lambda.log: simulated time on each line
        self._bind_logs()

    def _bind_logs(self) -> None:
        from lifecycle.core.observability import logger

        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(self.log)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run one handler on ``event``; whatever it raises reaches the caller."""
        self.invocations[logical_id] += 1
        if logical_id in self.PLANNING_FUNCTIONS:
            self._pending = None
        context = self.context_factory(function_name=logical_id)
        with (
            contextlib.redirect_stdout(self.log),
            self.boundary.handler(logical_id),
            warnings.catch_warnings(record=True) as caught,
        ):
            try:
                return self.handlers[logical_id](event, context)
            finally:
                for warning in caught:  # e.g. Powertools: no metrics after a failure
                    self.log.write(
                        json.dumps(
                            {
                                "level": "WARNING",
                                "location": "emulator",
                                "message": str(warning.message),
                                "function": logical_id,
                            }
                        )
                        + "\n"
                    )

    def _failed(self, logical_id: str, error: BaseException) -> None:
        """Count a failed invocation and note it in lambda.log (as Lambda's runtime would)."""
        kind = type(error).__name__
        self.redelivery.function_errors[f"{logical_id}: {kind}"] += 1
        line = {
            "level": "ERROR",
            "location": "emulator",
            "message": "invocation failed",
            "function": logical_id,
            "error": kind,
            "detail": str(error)[:500],
            "timestamp": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.log.write(json.dumps(line) + "\n")

    def _injected(self, kind: str, service: str, operation: str) -> None:
        """Note an injected fault in lambda.log and count it per function."""
        function = self.boundary.running or "?"
        self.injected_by_function[f"{function}: {kind}"] += 1
        line = {
            "level": "WARNING",
            "location": "emulator.chaos",
            "message": "fault injected",
            "kind": kind,
            "function": function,
            "call": f"{service}.{operation}",
            "timestamp": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.log.write(json.dumps(line) + "\n")

    def invoke_async(
        self,
        logical_id: str,
        event: dict[str, Any],
        attempt: int = 1,
        first: datetime | None = None,
    ) -> Any:
        """An asynchronous invocation (schedule, EventBridge rule), retried as Lambda does.

        Returns the handler's result, or None when it failed (a retry may then be pending).
        """
        now = self.clock.now()
        try:
            result = self.invoke(logical_id, event)
        except _RETRYABLE as error:
            self._failed(logical_id, error)
            if logical_id == "DispatcherFunction":
                self._pending = None  # it may have moved part of the due items
            config = self.deployment.async_config(logical_id)
            first = first or now
            delay = ASYNC_RETRY_DELAYS[min(attempt, len(ASYNC_RETRY_DELAYS)) - 1]
            retry_at = now + timedelta(seconds=delay)
            age = (retry_at - first).total_seconds()
            if attempt <= config.max_retries and age <= config.max_age_seconds:
                self._retry_sequence += 1
                heapq.heappush(
                    self._retries,
                    (retry_at, self._retry_sequence, logical_id, event, attempt + 1, first),
                )
                self.redelivery.async_retried[logical_id] += 1
            else:
                self.redelivery.async_dropped[logical_id] += 1
                if config.on_failure is not None:
                    from emulator.queues import invocation_record

                    body = invocation_record(
                        self.deployment.arns.get(logical_id, logical_id), event, error, attempt, now
                    )
                    self.queues.send(self.queues[config.on_failure], body)
            return None
        if logical_id == "PlannerFunction":
            self.planner.count(result)
        elif logical_id == "DispatcherFunction":
            self._dispatched(now, result)
        return result

    def invoke_sync(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """A synchronous API Gateway request: an escaping error is the gateway's 502."""
        try:
            response: dict[str, Any] = self.invoke(logical_id, event)
        except _RETRYABLE as error:
            self._failed(logical_id, error)
            return {"statusCode": 502, "body": json.dumps({"message": "Internal server error"})}
        return response

    # -- import -------------------------------------------------------------------------
    def apply_policy(self) -> None:
        """``--policy``: stored through the real ``PUT /policy`` before the files are imported
        (campaigns the policy contradicts are then rejected by the import, each with its
        reason)."""
        if self.config.policy is None:
            return
        from emulator.inputs import read_policy

        document = read_policy(self.config.policy)
        response = self.invoke("CampaignApiFunction", put_policy_event(document))
        if response["statusCode"] != 200:
            raise InputError(f"{self.config.policy}: refused by PUT /policy: {response['body']}")

    def import_files(self) -> dict[str, Any]:
        self.apply_policy()
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
            if result.get("chunks"):
                result = self._imported_in_chunks(bucket, key)
            results[prefix] = result
        return results

    def _imported_in_chunks(self, bucket: str, key: str) -> dict[str, Any]:
        """A customers file larger than a chunk: ImportChunkQueue drained by its consumer (as
        Lambda's poller would), then the import's report, as kept in the bucket (fields at
        fault, not values: lifecycle.features.import_chunks)."""
        queue_id = next(q for q, c in self.consumers.items() if c.function == "ImportChunkFunction")
        self.drain(queue_id, 2 if self.config.redeliver else 1)
        s3 = self.session.client("s3")
        try:
            body = s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise InputError(f"{key}: the chunked import did not finish (see lambda.log)") from None
        report: dict[str, Any] = json.loads(body)
        return {"key": key, **report}

    def load_inputs(self) -> list[Rejection]:
        """Orders, usage events and survey answers as a timeline; bad lines are rejected."""
        from emulator.inputs import read_timeline

        config = self.config
        self.timeline, rejected = read_timeline(config.orders, config.events, config.responses)
        if config.preferences:
            from emulator.preferences import read_preferences

            changes, bad = read_preferences(config.preferences)
            self.timeline = sorted(self.timeline + changes, key=lambda entry: entry[:2])
            rejected += bad
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
        """Earliest ``deliver_at`` of a queued item planned to be sent (read again only after
        planning ran, or when a firing left some behind).

        moto answers an index Query by scanning the whole table anyway, so the runner scans
        once and keeps the pending instants, dropping the ones each dispatcher firing has
        handed over.
        """
        from lifecycle.core.clock import parse_utc

        if self._pending is None:
            pending: list[str] = []
            table = self.deployment.physical["DeliveriesTable"]
            paginator = self.dynamodb.get_paginator("scan")
            for page in paginator.paginate(
                TableName=table,
                FilterExpression="#s = :queued AND attribute_exists(to_send)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":queued": {"S": "queued"}},
                ProjectionExpression="deliver_at",
            ):
                pending += [item["deliver_at"]["S"] for item in page["Items"]]
            self._pending = sorted(parse_utc(value) for value in pending)
        return self._pending[0] if self._pending else None

    def _dispatched(self, moment: datetime, report: dict[str, Any]) -> None:
        # A firing that failed on some ids, or could not carry all that was due (paced to
        # the send rate), leaves due items behind: read the index again.
        if report.get("failed") or report.get("deferred") or self._pending is None:
            self._pending = None
            return
        self._pending = [due for due in self._pending if due > moment]

    def _polling_jobs(self) -> dict[str, str]:
        """Scheduled jobs that only poll a queue of their own: function -> that queue."""
        jobs = {}
        for schedule in self.deployment.schedules:
            polled = self.deployment.polled_queues(schedule.function)
            if len(polled) == 1 and polled[0] not in self.consumers:
                jobs[schedule.function] = polled[0]
        return jobs

    def run(self, days: int | None = None) -> None:
        """Move the clock through the configured period, or ``days`` more from where it
        stands (``serve``'s clock button), invoking the jobs as AWS would."""
        start = self.clock.now()
        period = self.config.days if days is None else days
        plan = _Plan.of(self, start, start + timedelta(days=period))
        repeat = 2 if self.config.redeliver else 1
        moment = start
        progress = Progress(start.date(), period, self.config.progress and days is None)
        self.boundary.chaos_on = True
        try:
            while True:
                candidates = self._candidates(plan, moment)
                if not candidates:
                    break
                moment = min(candidates)
                if moment >= plan.end:
                    break
                self._report_days(progress, moment)
                self.clock.set(moment)
                self._visit(plan, moment, repeat)
                moment += timedelta(seconds=1)
        finally:
            self.boundary.chaos_on = False
        self._report_days(progress, plan.end)

    def _report_days(self, progress: Progress, moment: datetime) -> None:
        """One progress line for each simulated day that ended before ``moment``."""
        if not progress.enabled:
            return
        while progress.reported < min(self.config.days, (moment.date() - progress.first).days):
            day = progress.first + timedelta(days=progress.reported)
            self._earliest_due()  # the due index, read again only if planning ran since
            progress.day_done(day, self._provider_count(), len(self._pending or []))

    @staticmethod
    def _provider_count() -> int:
        """Messages SES and SNS have accepted so far."""
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        from emulator.environment import ACCOUNT

        return len(ses_backends[ACCOUNT][REGION].sent_messages) + len(
            sns_backends[ACCOUNT][REGION].sms_messages
        )

    def _candidates(self, plan: _Plan, moment: datetime) -> list[datetime]:
        """The instants from ``moment`` on at which each kind of thing happens next."""
        candidates = []
        i = bisect.bisect_left(plan.planner, moment)
        if i < len(plan.planner):
            candidates.append(plan.planner[i])
        if plan.position < len(plan.timeline):
            candidates.append(max(plan.timeline[plan.position][0], moment))
        if plan.job_position < len(plan.jobs):
            candidates.append(plan.jobs[plan.job_position][0])
        if self._retries:
            candidates.append(max(self._retries[0][0], moment))
        due = self._earliest_due()
        if due is not None:
            firing = _next(plan.dispatcher, max(due, moment))
            if firing is not None:
                candidates.append(firing)
        for queue_id in self.consumers:
            visible = self.queues[queue_id].next_visible()
            if visible is not None:
                candidates.append(max(visible, moment))
        for function, queue_id in plan.polling.items():
            visible = self.queues[queue_id].next_visible()
            firing = _next(plan.polling_times[function], max(visible or moment, moment))
            if visible is not None and firing is not None:
                candidates.append(firing)
        return candidates

    def _visit(self, plan: _Plan, moment: datetime, repeat: int) -> None:
        """Everything due at ``moment``: outside events, retries, jobs, planner, dispatcher,
        and the queue messages visible after each of them."""
        while plan.position < len(plan.timeline) and plan.timeline[plan.position][0] <= moment:
            _, _, kind, payload = plan.timeline[plan.position]
            plan.position += 1
            self.external(kind, payload, repeat)
        while self._retries and self._retries[0][0] <= moment:
            _, _, function, event, attempt, first = heapq.heappop(self._retries)
            self.invoke_async(function, event, attempt, first)
        while plan.job_position < len(plan.jobs) and plan.jobs[plan.job_position][0] <= moment:
            _, function = plan.jobs[plan.job_position]
            plan.job_position += 1
            for _ in range(repeat):
                self.invoke_async(function, scheduled_event(function, moment))
        for function, queue_id in plan.polling.items():
            firing = _next(plan.polling_times[function], moment) == moment
            if firing and self.queues[queue_id].visible(moment):
                for _ in range(repeat):
                    self.invoke_async(function, scheduled_event(function, moment))
                self._drain_all(repeat)
        if _next(plan.planner, moment) == moment:
            for _ in range(repeat):
                self.invoke_async("PlannerFunction", scheduled_event("planner-daily", moment))
        self._drain_all(repeat)
        if _next(plan.dispatcher, moment) == moment:
            for _ in range(repeat):
                self.invoke_async("DispatcherFunction", scheduled_event("dispatcher", moment))
            self._drain_all(repeat)

    # -- other services ------------------------------------------------------------------
    def external(self, kind: str, payload: Any, repeat: int) -> None:
        if kind == "order":
            order, status = payload
            self.orders_table.put_item(Item=order.item(status, self.clock.now()))
            self.pump_orders_stream(repeat)
        elif kind == "usage":
            event = usage_event(payload, self.clock.now())
            for _ in range(repeat):
                self.invoke_async("UsageFunction", event)
        elif kind == "preference":
            number, line = payload
            self.change_preferences(number, line, repeat)
        else:
            number, answer = payload
            self.answer_survey(number, answer, repeat)

    def change_preferences(self, number: int, line: Any, repeat: int) -> None:
        """``--preferences``: one line, through the links of the customer's last e-mail."""
        from emulator.preferences import perform

        self.mail_links.refresh()

        def call(event: dict[str, Any]) -> dict[str, Any]:
            for _ in range(repeat):  # --redeliver: the person double-clicks
                response = self.invoke_sync("UnsubscribeFunction", event)
                for _ in range(CLIENT_RETRIES):
                    if response["statusCode"] < 500:
                        break
                    self.redelivery.client_retries["UnsubscribeFunction"] += 1
                    response = self.invoke_sync("UnsubscribeFunction", event)
            return response

        problem = perform(line, self.mail_links.get(line.customer_id), call)
        if problem is None:
            self.preferences_applied += 1
            return
        source = self.config.preferences.name if self.config.preferences else "preferences"
        self.response_results.append(
            {"source": source, "line": number, "id": line.customer_id, "reason": problem}
        )

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
        mapping = self.deployment.stream_mapping("OrdersStreamFunction")
        for _ in range(repeat):
            self._deliver_stream("OrdersStreamFunction", records, mapping)

    def _deliver_stream(
        self, function: str, records: list[dict[str, Any]], mapping: StreamMapping
    ) -> None:
        """One stream batch, with the mapping's retries, bisection and on-failure record."""
        limit = mapping.max_retries if mapping.max_retries >= 0 else UNBOUNDED_STREAM_RETRIES
        batches = [records]
        while batches:
            batch = batches.pop(0)
            retries = 0
            while True:
                try:
                    result = self.invoke(function, {"Records": batch})
                except _RETRYABLE as error:
                    self._failed(function, error)
                    if mapping.bisect and len(batch) > 1:
                        half = len(batch) // 2
                        batches[:0] = [batch[:half], batch[half:]]
                        self.redelivery.stream["bisected"] += 1
                        break
                else:
                    failures = (result or {}).get("batchItemFailures", [])
                    failed = {f["itemIdentifier"] for f in failures}
                    if not mapping.report_failures or not failed:
                        break
                    # Lambda retries from the first failed record on.
                    sequence = [r["dynamodb"].get("SequenceNumber") for r in batch]
                    first = next((n for n, s in enumerate(sequence) if s in failed), 0)
                    batch = batch[first:]
                if retries >= limit:
                    self._discard_stream_batch(function, batch, mapping)
                    break
                retries += 1
                self.redelivery.stream["retried"] += 1

    def _discard_stream_batch(
        self, function: str, batch: list[dict[str, Any]], mapping: StreamMapping
    ) -> None:
        self.redelivery.stream["discarded_records"] += len(batch)
        if mapping.on_failure is None:
            return
        sequence = [r["dynamodb"].get("SequenceNumber") for r in batch]
        body = {
            "requestContext": {
                "functionArn": self.deployment.arns.get(function, function),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 1 + max(0, mapping.max_retries),
            },
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "DDBStreamBatchInfo": {
                "shardId": "shard-local",
                "startSequenceNumber": sequence[0],
                "endSequenceNumber": sequence[-1],
                "batchSize": len(batch),
                "streamArn": batch[0].get("eventSourceARN"),
            },
        }
        self.queues.send(self.queues[mapping.on_failure], json.dumps(body))

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
            response = self.invoke_sync("SurveyFunction", event)
            for _ in range(CLIENT_RETRIES):
                if response["statusCode"] < 500:
                    break
                self.redelivery.client_retries["SurveyFunction"] += 1
                response = self.invoke_sync("SurveyFunction", event)
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
    def _drain_all(self, repeat: int) -> None:
        for queue_id in self.consumers:
            self.drain(queue_id, repeat)
            if self.consumers[queue_id].function == "SenderFunction":
                self._mailbox_feedback()

    # -- SES mailbox simulator (emulator.mailbox) ---------------------------------------------
    def _mailbox_feedback(self) -> None:
        """The SES events of mail just sent to simulator addresses -> FeedbackQueue."""
        feed = getattr(self, "mailbox", None)
        if feed is None:
            from moto.ses.models import ses_backends

            from emulator.environment import ACCOUNT
            from emulator.mailbox import MailboxFeed

            queue = next(
                self.queues[q]
                for q, c in self.consumers.items()
                if c.function == "FeedbackFunction"
            )
            backend = ses_backends[ACCOUNT][REGION]
            feed = self.mailbox = MailboxFeed(
                lambda body, delay: self.queues.send(queue, body, delay),
                lambda: backend.sent_messages,
                os.environ.get("SES_CONFIGURATION_SET", ""),
            )
        feed.after_send(self.clock.now())

    def drain(self, queue_id: str, repeat: int) -> None:
        """Hand every message of ``queue_id`` visible now to its consumer, in batches.

        As Lambda's event source mapping does: a record the function reports failed, or a
        whole batch whose invocation failed (an exception, a crash), is not deleted and comes
        back when its visibility timeout ends (the queue's, or what the handler set).
        """
        consumer = self.consumers[queue_id]
        queue = self.queues[queue_id]
        handed: set[str] = set()
        while True:
            # The poller gathers up to BatchSize (which may exceed SQS's 10 per receive).
            messages: list[Any] = []
            while len(messages) < consumer.batch_size:
                chunk = self.queues.receive(
                    queue,
                    min(MAX_RECEIVE, consumer.batch_size - len(messages)),
                    exclude=handed | {m.message_id for m in messages},
                )
                if not chunk:
                    break
                messages.extend(chunk)
            if not messages:
                return
            handed.update(m.message_id for m in messages)
            event = sqs_event([self.queues.wire(queue, m, True) for m in messages], queue.arn)
            failed: set[str] = set()
            for _ in range(repeat):
                try:
                    result = self.invoke(consumer.function, event)
                except _RETRYABLE as error:
                    self._failed(consumer.function, error)
                    failed = {m.message_id for m in messages}
                else:
                    failures = (result or {}).get("batchItemFailures", [])
                    failed = (
                        {f["itemIdentifier"] for f in failures}
                        if consumer.report_failures
                        else set()
                    )
            for message in messages:
                if message.message_id in failed:
                    self.redelivery.failed_records[consumer.function] += 1
                elif message.receipt_handle is not None:
                    self.queues.delete(queue, message.receipt_handle)

    # -- results ------------------------------------------------------------------------
    def chaos_report(self) -> dict[str, Any] | None:
        """The faults injected (per kind and per function); None without ``--chaos``."""
        if self.chaos is None:
            return None
        return {
            **self.chaos.report(),
            "injected_by_function": dict(sorted(self.injected_by_function.items())),
        }

    def send_window(self) -> timedelta:
        """How late the sender still sends a message (``MAX_SEND_DELAY_MINUTES``)."""
        from lifecycle.core.settings import get_settings

        return timedelta(minutes=get_settings().max_send_delay_minutes)

    def customer_items(self) -> Iterator[dict[str, Any]]:
        """Every item of the Customers table (DynamoDB JSON), read lazily."""
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.deployment.physical["CustomersTable"]):
            yield from page["Items"]

    def ledger_items(self) -> Iterator[dict[str, Any]]:
        """Every delivery of the Deliveries table (DynamoDB JSON), read lazily (without the
        dispatcher's cursors, kept in the same table under customer "#dispatch")."""
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.deployment.physical["DeliveriesTable"]):
            yield from (i for i in page["Items"] if "campaign_id" in i)
