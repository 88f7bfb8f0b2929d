"""The one place where Logger, Tracer and Metrics are created.

Log ids, never PII: customer ids, campaign ids and delivery ids are fine; e-mail addresses,
phone numbers and names are not.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Record a count metric with its own dimensions (``count("Skipped", reason="x")``).

    Metric names are fixed; what varies goes into dimensions, published on its own so it
    does not leak into the other metrics of the invocation.
    """
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=metrics.namespace
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


__all__ = ["MetricUnit", "count", "logger", "metrics", "tracer"]
