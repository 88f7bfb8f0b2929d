"""Reconciler: schedule -> every dead-lettered delivery gets a final state or a new attempt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import count, logger, metrics, tracer
from lifecycle.core.settings import get_settings
from lifecycle.pipeline.reconciler import reconcile_dead_letters


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    report = reconcile_dead_letters(
        get_clock().now(),
        sqs=client("sqs"),
        dlq_url=settings.send_dlq_url,
        queue_url=settings.send_queue_url,
        window=timedelta(minutes=settings.max_send_delay_minutes),
    )
    for outcome, number in report.items():
        count("DeadLetters", number, outcome=outcome)
    if report:
        logger.info("dead letters reconciled", extra={"reconciled": dict(report)})
    return dict(report)
