"""Survey endpoint: GET /s/{token} shows the form, POST /s/{token} stores the answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger, tracer
from lifecycle.core.secrets import signing_key
from lifecycle.core.settings import get_settings
from lifecycle.features import surveys
from lifecycle.features.unsubscribe import Page

app = APIGatewayRestResolver()


def _respond(page: Page) -> Response[str]:
    return Response(
        status_code=page.status,
        content_type="text/html; charset=utf-8",
        body=page.html,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


@app.get("/s/<token>")
def show(token: str) -> Response[str]:
    return _respond(surveys.survey_page(token, signing_key(get_settings()), get_clock().now()))


@app.post("/s/<token>")
def answer(token: str) -> Response[str]:
    body = app.current_event.decoded_body or ""
    return _respond(
        surveys.submit_answer(
            token, body, signing_key(get_settings()), get_clock().now(), client("events")
        )
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
