"""Sender: SQS batch of delivery ids -> messages, with partial batch failures."""

from __future__ import annotations

import json
import random
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.campaigns.repository import campaigns_cached
from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.pipeline.policy import HoldError
from lifecycle.pipeline.sender import (
    SendDependencies,
    process_delivery,
    retry_delay,
)

processor = BatchProcessor(event_type=EventType.SQS)


def dependencies() -> SendDependencies:
    """Settings, key and clients are each cached where they are made; this only bundles them."""
    settings = get_settings()
    return SendDependencies(
        settings=settings,
        key=signing_keys(settings),
        sesv2=client("sesv2"),
        events=client("events"),
        sns=client("sns"),
    )


def record_handler(record: SQSRecord) -> str:
    try:
        delivery_id = json.loads(record.body)["delivery_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"message {record.message_id} has no delivery_id") from exc
    if not isinstance(delivery_id, str) or not delivery_id:
        # Not one of ours (a null, a number, an object): fail it so it reaches the DLQ,
        # never treat it as an unknown id and delete it.
        raise ValueError(f"message {record.message_id}: delivery_id must be a non-empty string")
    try:
        outcome = process_delivery(delivery_id, get_clock().now(), dependencies())
    except HoldError as exc:  # quiet hours end within the send window: deliver it then
        delay(record, exc.seconds)
        raise
    except Exception:  # transient (RetryLaterError) or not (a throttled read): retry soon,
        back_off(record)  # jittered, instead of after the queue's 6-minute visibility
        raise
    metrics.add_metric(name="DeliveriesProcessed", unit=MetricUnit.Count, value=1)
    logger.info("delivery processed", delivery_id=delivery_id, outcome=outcome)
    return outcome


def back_off(record: SQSRecord) -> None:
    """Make the failed message visible again after a jittered, growing delay."""
    count = int(record.attributes.approximate_receive_count or 1)
    delay(record, retry_delay(count, random.Random(f"{record.message_id}:{count}")))  # noqa: S311


def delay(record: SQSRecord, seconds: int) -> None:
    """Make the message visible again after ``seconds``."""
    try:
        client("sqs").change_message_visibility(
            QueueUrl=get_settings().send_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=seconds,
        )
    except Exception:  # the queue's own visibility timeout applies instead
        logger.exception("could not delay the retry", message_id=record.message_id)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    with campaigns_cached():  # each campaign read once per batch, never across invocations
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
