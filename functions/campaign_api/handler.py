"""Marketer API (IAM-authorized): campaigns and customers; OpenAPI document at /openapi.json.

The routes, their models and error answers are in :mod:`lifecycle.api`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.api.app import app
from lifecycle.core.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
