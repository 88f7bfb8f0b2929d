"""Dispatcher: frequent schedule -> due ledger items onto the send queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.settings import get_settings
from lifecycle.pipeline.dispatcher import dispatch_due


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    report = dispatch_due(
        get_clock().now(),
        sqs=client("sqs"),
        queue_url=settings.send_queue_url,
        shards=settings.dispatch_shards,
        rate=settings.max_send_rate,
        interval_seconds=settings.dispatch_interval_seconds,
        threads=settings.job_threads,
    )
    metrics.add_metric(name="Enqueued", unit=MetricUnit.Count, value=report.enqueued)
    if report.deferred:
        metrics.add_metric(name="DispatchDeferred", unit=MetricUnit.Count, value=1)
    if report.enqueued or report.failed:
        logger.info("dispatched", extra={"schedule_time": event.time, "dispatch": report.as_dict()})
    return report.as_dict()
