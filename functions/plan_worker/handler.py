"""Plan worker: one fan-out task (campaign, date, partition such as a country shard) a message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.pipeline.planner import parse_task, plan_settings, plan_task

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    settings = get_settings()
    task = parse_task(record.body)
    report = plan_task(task, get_clock().now(), signing_keys(settings), plan_settings(settings))
    metrics.add_metric(
        name="PlannedDeliveries", unit=MetricUnit.Count, value=report.created.get("queued", 0)
    )
    over = report.capacity.get("over_capacity", 0)
    metrics.add_metric(name="DeliveriesOverSendRate", unit=MetricUnit.Count, value=over)
    if over:  # this task's share alone is more than the send rate carries in the window
        logger.warning("planned beyond the send rate", extra={"capacity": report.capacity})
    logger.info("plan task done", extra={"task": task, "plan": report.as_dict()})
    return report.as_dict()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
