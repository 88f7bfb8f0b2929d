"""Marketer API (IAM-authorized): campaigns and customers; OpenAPI document at /openapi.json."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.api import campaigns, customers
from lifecycle.core.observability import logger, tracer

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(campaigns.router)
app.include_router(customers.router)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=app.get_openapi_json_schema(
            title="Lifecycle messaging - marketer API",
            version="1.0.0",
            description="Campaigns: validation, lifecycle, optimistic concurrency.",
        ),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
