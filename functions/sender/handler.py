"""Sender: SQS batch of delivery ids -> messages, with partial batch failures."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.secrets import signing_key
from lifecycle.core.settings import get_settings
from lifecycle.pipeline.sender import SendDependencies, process_delivery

processor = BatchProcessor(event_type=EventType.SQS)


def dependencies() -> SendDependencies:
    """Settings, key and clients are each cached where they are made; this only bundles them."""
    settings = get_settings()
    return SendDependencies(
        settings=settings,
        key=signing_key(settings),
        sesv2=client("sesv2"),
        events=client("events"),
        sns=client("sns"),
    )


def record_handler(record: SQSRecord) -> str:
    try:
        delivery_id = json.loads(record.body)["delivery_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"message {record.message_id} has no delivery_id") from exc
    outcome = process_delivery(str(delivery_id), get_clock().now(), dependencies())
    metrics.add_metric(name="DeliveriesProcessed", unit=MetricUnit.Count, value=1)
    logger.info("delivery processed", delivery_id=delivery_id, outcome=outcome)
    return outcome


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
