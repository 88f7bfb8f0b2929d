"""Usage events (EventBridge ``usage.recorded``) move a customer's last activity forward."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.features.usage import UsageEventError, ingest_usage_event


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    try:
        outcome = ingest_usage_event(event)
    except UsageEventError as exc:
        # Retrying cannot fix a malformed event: count it and drop it.
        metrics.add_metric(name="InvalidUsageEvents", unit=MetricUnit.Count, value=1)
        logger.warning("invalid usage event", extra={"error": str(exc), "id": event.get("id")})
        return {"status": "invalid", "error": str(exc)}
    metrics.add_metric(name=f"Usage_{outcome}", unit=MetricUnit.Count, value=1)
    return {"status": outcome}
