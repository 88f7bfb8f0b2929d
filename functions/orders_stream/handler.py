"""Orders stream: an order that becomes delivered starts replenishment reminders and surveys;
a placed or delivered order is the customer's activity (inactivity reminders)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.occasions.inactivity import record_order_activity
from lifecycle.pipeline.planner import plan_order_change, plan_settings
from lifecycle.store.orders import from_stream_image

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> dict[str, Any]:
    images = record.raw_event.get("dynamodb", {})
    settings = get_settings()
    old, new = from_stream_image(images.get("OldImage")), from_stream_image(images.get("NewImage"))
    now = get_clock().now()
    activity = record_order_activity(old, new, now)
    report = plan_order_change(old, new, now, signing_keys(settings), plan_settings(settings))
    metrics.add_metric(
        name="PlannedDeliveries", unit=MetricUnit.Count, value=report.created.get("queued", 0)
    )
    return {**report.as_dict(), "activity": activity}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
