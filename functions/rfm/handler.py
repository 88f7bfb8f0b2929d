"""RFM job (daily schedule): recency/frequency/monetary quintiles onto each customer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.settings import get_settings
from lifecycle.features.rfm import run_rfm_job


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    result = run_rfm_job(get_clock().now(), threads=get_settings().job_threads)
    metrics.add_metric(
        name="CustomersScored", unit=MetricUnit.Count, value=result["customers_scored"]
    )
    # Only changed documents are written: this is the job's daily write cost.
    metrics.add_metric(
        name="RfmWrites", unit=MetricUnit.Count, value=result["written"] + result["cleared"]
    )
    logger.info("rfm scored", extra={"schedule_time": event.time, "rfm": result})
    return result
