"""The one price table of the runner's cost report: us-east-1, on-demand, in US dollars.

Every figure the cost report (:mod:`emulator.cost`) turns into dollars comes from here. Free
tiers are ignored (a shop sending a million e-mails is past them). Sources, read 2026-11-26:

* DynamoDB on-demand (https://aws.amazon.com/dynamodb/pricing/on-demand/): $0.625 per million
  write request units, $0.125 per million read request units (the prices since the
  2024-11-01 reduction). Streams read by Lambda triggers and TTL deletes are free.
* SQS (https://aws.amazon.com/sqs/pricing/): standard queues, $0.40 per million requests
  (every API call is a request; each 64 KB chunk of a payload counts as one).
* EventBridge (https://aws.amazon.com/eventbridge/pricing/): custom events $1.00 per million
  (each 64 KB chunk of an entry is one event). Events AWS services put on the default bus
  (SES's own) are free.
* Lambda (https://aws.amazon.com/lambda/pricing/): arm64, $0.0000133334 per GB-second (first
  pricing tier) and $0.20 per million requests.
* SES (https://aws.amazon.com/ses/pricing/): $0.10 per 1,000 e-mails, i.e. $100 per million;
  reported for comparison only, never included in the infrastructure figure.
"""

from __future__ import annotations

DYNAMODB_USD_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_USD_PER_MILLION_READ_UNITS = 0.125
SQS_USD_PER_MILLION_REQUESTS = 0.40
EVENTBRIDGE_USD_PER_MILLION_EVENTS = 1.00
LAMBDA_ARM64_USD_PER_GB_SECOND = 0.0000133334
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
SES_USD_PER_MILLION_EMAILS = 100.0

PRICES = {
    "region": "us-east-1",
    "as_of": "2026-11-26",
    "dynamodb_usd_per_million_write_units": DYNAMODB_USD_PER_MILLION_WRITE_UNITS,
    "dynamodb_usd_per_million_read_units": DYNAMODB_USD_PER_MILLION_READ_UNITS,
    "sqs_usd_per_million_requests": SQS_USD_PER_MILLION_REQUESTS,
    "eventbridge_usd_per_million_events": EVENTBRIDGE_USD_PER_MILLION_EVENTS,
    "lambda_arm64_usd_per_gb_second": LAMBDA_ARM64_USD_PER_GB_SECOND,
    "lambda_usd_per_million_requests": LAMBDA_USD_PER_MILLION_REQUESTS,
    "ses_usd_per_million_emails": SES_USD_PER_MILLION_EMAILS,
}
"""The table as it appears in ``report.json`` (``cost.prices``)."""


def usd(
    *,
    write_units: float,
    read_units: float,
    sqs_requests: float,
    events: float,
    gb_seconds: float,
    invocations: float,
) -> dict[str, float]:
    """Dollars per service for the given quantities (and their ``total``)."""
    parts = {
        "dynamodb": (
            write_units * DYNAMODB_USD_PER_MILLION_WRITE_UNITS
            + read_units * DYNAMODB_USD_PER_MILLION_READ_UNITS
        )
        / 1e6,
        "sqs": sqs_requests * SQS_USD_PER_MILLION_REQUESTS / 1e6,
        "eventbridge": events * EVENTBRIDGE_USD_PER_MILLION_EVENTS / 1e6,
        "lambda": gb_seconds * LAMBDA_ARM64_USD_PER_GB_SECOND
        + invocations * LAMBDA_USD_PER_MILLION_REQUESTS / 1e6,
    }
    parts["total"] = sum(parts.values())
    return parts
