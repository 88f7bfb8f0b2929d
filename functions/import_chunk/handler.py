"""Import chunk worker: one byte range of a large customers file a message (ImportChunkQueue).

The importer function cut the file and sent the chunks; this one imports a chunk, counts it
once (a redelivered chunk is not counted again) and, when it was the last, writes the report
and deletes the file: see :mod:`lifecycle.features.import_chunks`.
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

from lifecycle.core.aws import client
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.settings import get_settings
from lifecycle.features.import_chunks import ImportChunk, ImportSettings, import_chunk

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    settings = get_settings()
    chunk = ImportChunk.of(record.json_body)
    outcome = import_chunk(
        client("s3"),
        chunk,
        ImportSettings.of(settings),
    )
    metrics.add_metric(name="ImportedRecords", unit=MetricUnit.Count, value=outcome["imported"])
    metrics.add_metric(name="RejectedRecords", unit=MetricUnit.Count, value=outcome["rejected"])
    logger.info("import chunk done", key=chunk.key, **outcome)
    return outcome


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
