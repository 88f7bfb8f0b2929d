"""Telling a failed write condition apart from every other DynamoDB error."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

CONDITION_FAILED = "ConditionalCheckFailedException"


def condition_failed(exc: PynamoDBException) -> bool:
    """True only when the write was refused because its condition did not hold.

    Throttling, timeouts and validation errors are *not* condition failures: callers must
    let them propagate (to be retried) instead of treating them as a lost race.
    """
    return getattr(exc, "cause_response_code", None) == CONDITION_FAILED
