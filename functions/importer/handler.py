"""Importer: S3 ObjectCreated under customers/ (JSON Lines, CSV) or campaigns/ (JSON list).

A customers file of at most one chunk (``IMPORT_CHUNK_BYTES``) and every campaigns file are
imported here, in one go; a larger customers file is cut into chunks that go to
ImportChunkQueue (functions/import_chunk imports them, the last one writes the report):
see :mod:`lifecycle.features.import_chunks`. After an import the file is deleted (the version
read and every older one) and a report is written to ``reports/<key>.json``; a customers
report keeps line numbers, customer ids and the fields at fault, never the values. A file
that is gone already (a repeated S3 event of an imported file) is skipped.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.core.settings import get_settings
from lifecycle.features.import_chunks import ImportSettings, start_customer_import
from lifecycle.features.importer import (
    ImportFileError,
    decode_text,
    discard_import_file,
    import_campaigns,
)


def _campaigns(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    source = key.rsplit("/", 1)[-1]
    try:
        stored = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return {"source": source, "imported": 0, "rejected": [], "skipped": "file gone"}
    try:
        text = decode_text(stored["Body"].read(), source)
        result = import_campaigns(text, source, get_clock().now()).as_dict()
    except ImportFileError as exc:
        result = {"source": source, "error": str(exc), "imported": 0, "rejected": []}
    s3.put_object(
        Bucket=bucket,
        Key=f"reports/{key}.json",
        Body=json.dumps(result, ensure_ascii=False, indent=2).encode(),
        ContentType="application/json",
    )
    discard_import_file(s3, bucket, key, stored.get("VersionId"))
    return result


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    s3 = client("s3")
    results = []
    for record in event.records:
        bucket, key = record.s3.bucket.name, record.s3.get_object.key
        if key.startswith("customers/"):
            result = start_customer_import(
                s3, client("sqs"), bucket, key, get_clock().now(), ImportSettings.of(get_settings())
            )
        elif key.startswith("campaigns/"):
            result = _campaigns(s3, bucket, key)
        else:
            result = {
                "source": key.rsplit("/", 1)[-1],
                "error": f"{key}: put files under customers/ or campaigns/",
                "imported": 0,
                "rejected": [],
            }
        if result.get("skipped"):
            logger.info("import file gone: imported and deleted already", key=key)
        elif result.get("error"):
            logger.error("import file rejected", key=key, error=result["error"])
        elif result.get("chunks"):
            logger.info("import file planned", key=key, chunks=result["chunks"])
            metrics.add_metric(name="ImportChunks", unit=MetricUnit.Count, value=result["chunks"])
        else:
            logger.info("import file imported and deleted", key=key)
        metrics.add_metric(name="ImportedRecords", unit=MetricUnit.Count, value=result["imported"])
        metrics.add_metric(
            name="RejectedRecords", unit=MetricUnit.Count, value=len(result["rejected"])
        )
        results.append({"key": key, **result})
    return {"results": results}
