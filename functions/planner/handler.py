"""Planner: daily schedule -> ledger items for every active birthday campaign."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.clock import get_clock
from lifecycle.observability import MetricUnit, logger, metrics, tracer
from lifecycle.planner import plan_birthdays
from lifecycle.secrets import signing_key
from lifecycle.settings import get_settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    now = get_clock().now()
    report = plan_birthdays(
        now,
        signing_key(settings),
        shards=settings.dispatch_shards,
        ttl_days=settings.ledger_ttl_days,
        ahead_days=settings.plan_ahead_days,
        max_send_delay=timedelta(minutes=settings.max_send_delay_minutes),
    )
    metrics.add_metric(
        name="PlannedDeliveries", unit=MetricUnit.Count, value=report.created.get("queued", 0)
    )
    logger.info("planned", extra={"schedule_time": event.time, "plan": report.as_dict()})
    return report.as_dict()
