"""The one place where Logger, Tracer and Metrics are created.

Log ids, never PII: customer ids, campaign ids and delivery ids are fine; e-mail addresses,
phone numbers and names are not.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
