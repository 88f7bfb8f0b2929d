"""Importer: S3 ObjectCreated under customers/ (JSON Lines) or campaigns/ (JSON list).

After the import the file is deleted (the version read and every older one) and a report is
written to ``reports/<key>.json``; a customers report keeps line numbers, customer ids and
the fields at fault, never the values. A file that is gone already (a repeated S3 event of
an imported file) is skipped.
"""

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
    discard_import_file,
    import_campaigns,
    import_customers,
    report_to_keep,
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
            stored = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            logger.info("import file gone: imported and deleted already", key=key)
            results.append(
                {
                    "key": key,
                    "source": source,
                    "imported": 0,
                    "rejected": [],
                    "skipped": "file gone",
                }
            )
            continue
        data = stored["Body"].read()
        try:
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
        kept = report_to_keep(result) if key.startswith("customers/") else result
        s3.put_object(
            Bucket=bucket,
            Key=f"reports/{key}.json",
            Body=json.dumps(kept, ensure_ascii=False, indent=2).encode(),
            ContentType="application/json",
        )
        deleted = discard_import_file(s3, bucket, key, stored.get("VersionId"))
        logger.info("import file deleted", key=key, versions=deleted)
        results.append({"key": key, **result})
    return {"results": results}
