"""Importer: S3 ObjectCreated under customers/ (JSON Lines) or campaigns/ (JSON list)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import MetricUnit, logger, metrics, tracer
from lifecycle.features.importer import (
    ImportFileError,
    decode_text,
    import_campaigns,
    import_customers,
    split_lines,
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    s3 = client("s3")
    results = []
    for record in event.records:
        bucket, key = record.s3.bucket.name, record.s3.get_object.key
        source = key.rsplit("/", 1)[-1]
        try:
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if key.startswith("customers/"):
                # Split the bytes, decode line by line: one bad byte costs one line.
                result = import_customers(split_lines(data), source, get_clock().now()).as_dict()
            elif key.startswith("campaigns/"):
                text = decode_text(data, source)
                result = import_campaigns(text, source, get_clock().now()).as_dict()
            else:
                raise ImportFileError(f"{key}: put files under customers/ or campaigns/")
        except ImportFileError as exc:
            result = {"source": source, "error": str(exc), "imported": 0, "rejected": []}
            logger.error("import file rejected", key=key, error=str(exc))
        metrics.add_metric(name="ImportedRecords", unit=MetricUnit.Count, value=result["imported"])
        metrics.add_metric(
            name="RejectedRecords", unit=MetricUnit.Count, value=len(result["rejected"])
        )
        s3.put_object(
            Bucket=bucket,
            Key=f"reports/{key}.json",
            Body=json.dumps(result, ensure_ascii=False, indent=2).encode(),
            ContentType="application/json",
        )
        results.append({"key": key, **result})
    return {"results": results}
