"""Feedback: SQS batch of SES events (EventBridge -> FeedbackQueue) -> ledger, suppression list.

Partial batch failures: an event that must wait (its item is being sent, a write race) is
reported failed and comes back after the queue's visibility timeout; a malformed one is
counted and dropped (a retry cannot fix it).
"""

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
from lifecycle.core.observability import count, logger, metrics, tracer
from lifecycle.core.settings import get_settings
from lifecycle.features.feedback import FeedbackEventError, process_event

# A batch whose every event must wait is still a normal answer (all reported failed, retried
# by the queue), not a function error that would raise the errors alarm.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    # The body is parsed by the feature with the depth-limited JSON loader (record.json_body
    # would hand a hostile body to json.loads).
    try:
        return process_event(record.body, get_clock().now(), get_settings())
    except FeedbackEventError as exc:
        count("FeedbackEvents", type="unknown", outcome="invalid")
        logger.warning("invalid SES event dropped", message_id=record.message_id, error=str(exc))
        return "invalid"


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
