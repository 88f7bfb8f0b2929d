"""Builders of the exact AWS event shapes the runner hands to the real handlers.

Owns every event the local runner invents: EventBridge scheduled events, S3 put
notifications, SQS batches, DynamoDB stream records as Lambda delivers them, EventBridge
usage events, and API Gateway REST requests (survey answers, the marketer API's dry run).
Each starts from the sample event under ``events/`` and fills in ids, times and ARNs.
Pure functions: no AWS call and no state beyond reading the sample files.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from emulator.environment import ACCOUNT, EVENTS, REGION

if TYPE_CHECKING:
    from emulator.inputs import ResponseLine, UsageLine


def _sample(*parts: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENTS.joinpath(*parts).read_text(encoding="utf-8"))
    return event


def scheduled_event(rule: str, at: datetime) -> dict[str, Any]:
    """EventBridge scheduled event of rule ``rule`` firing at ``at``."""
    event = _sample("planner", "scheduled.json")
    event["id"] = str(uuid.uuid4())
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["region"] = REGION
    event["account"] = ACCOUNT
    event["resources"] = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"]
    return event


def s3_event(bucket: str, key: str, size: int, at: datetime) -> dict[str, Any]:
    """S3 ``ObjectCreated:Put`` notification of one object."""
    event = _sample("importer", "s3_put_customers.json")
    record = event["Records"][0]
    record["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    record["awsRegion"] = REGION
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"]["key"] = key
    record["s3"]["object"]["size"] = size
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """SQS batch event of messages as ``ReceiveMessage`` returned them."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", "0"),
                    "SenderId": attributes.get("SenderId", ACCOUNT),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", "0"
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def usage_event(line: UsageLine, now: datetime) -> dict[str, Any]:
    """EventBridge ``usage.recorded`` event of one usage input line, put at ``now``."""
    event = _sample("usage", "usage_recorded.json")
    event["id"] = str(uuid.uuid4())
    event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"] = {
        "customer_id": line.customer_id,
        "type": line.type,
        "at": line.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return event


def stream_record(record: dict[str, Any], stream_arn: str, now: datetime) -> dict[str, Any]:
    """moto's record -> the shape Lambda delivers (eventSourceARN, epoch creation time)."""
    normalized = dict(record)
    normalized["eventSourceARN"] = stream_arn
    normalized["awsRegion"] = REGION
    dynamodb = dict(record["dynamodb"])
    dynamodb["ApproximateCreationDateTime"] = int(now.timestamp())
    normalized["dynamodb"] = dynamodb
    return normalized


def survey_post_event(token: str, answer: ResponseLine) -> dict[str, Any]:
    """API Gateway REST ``POST /s/{token}`` with the answer as a form body."""
    event = _sample("survey", "post_answer.json")
    event["path"] = f"/s/{token}"
    event["pathParameters"] = {"token": token}
    event["requestContext"]["path"] = f"/v1/s/{token}"
    fields = {"score": str(answer.score)}
    if answer.comment:
        fields["comment"] = answer.comment
    event["body"] = urlencode(fields)
    return event


def put_policy_event(document: dict[str, Any]) -> dict[str, Any]:
    """API Gateway REST request ``PUT /policy`` storing ``document`` as the first policy."""
    event = _sample("campaign_api", "put_policy.json")
    event["body"] = json.dumps({**document, "version": 0})
    return event


def dry_run_event(start: date, days: int) -> dict[str, Any]:
    """API Gateway REST request of the marketer API's dry run of ``days`` days from ``start``."""
    event = _sample("campaign_api", "dry_run.json")
    event["body"] = json.dumps(
        {"from": start.isoformat(), "to": (start + timedelta(days=days)).isoformat()}
    )
    return event
