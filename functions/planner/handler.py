"""Planner: daily schedule -> ledger items (birthday, inactivity) and holiday fan-out tasks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.pipeline.planner import (
    MISSED_SEND_WINDOW,
    plan_dated,
    plan_settings,
    task_sender,
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    report = plan_dated(
        get_clock().now(),
        signing_keys(settings),
        plan_settings(settings),
        send_tasks=task_sender(client("sqs"), settings.plan_queue_url),
    )
    metrics.add_metric(
        name="PlannedDeliveries", unit=MetricUnit.Count, value=report.created.get("queued", 0)
    )
    metrics.add_metric(name="PlanTasks", unit=MetricUnit.Count, value=report.tasks)
    missed = report.created.get(MISSED_SEND_WINDOW, 0)
    metrics.add_metric(name="MissedOccurrences", unit=MetricUnit.Count, value=missed)
    if missed:
        logger.warning("occurrences planned after their send window", extra={"missed": missed})
    over = report.capacity.get("over_capacity", 0)
    metrics.add_metric(name="DeliveriesOverSendRate", unit=MetricUnit.Count, value=over)
    if over:
        # Known now, not at send time: raise MaxSendRate (SES quota) or spread send times.
        logger.warning("planned beyond the send rate", extra={"capacity": report.capacity})
    logger.info("planned", extra={"schedule_time": event.time, "plan": report.as_dict()})
    return report.as_dict()
