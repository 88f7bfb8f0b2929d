"""Survey endpoint: GET /s/{token} shows the form, POST /s/{token} stores the answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.features import surveys
from lifecycle.pages.http import accept_language, form_text, page_response

app = APIGatewayRestResolver()


@app.get("/s/<token>")
def show(token: str) -> Response[str]:
    return page_response(
        surveys.survey_page(
            token,
            signing_keys(get_settings()),
            get_clock().now(),
            accept_language(app.current_event),
        )
    )


@app.post("/s/<token>")
def answer(token: str) -> Response[str]:
    body = form_text(app.current_event, not_base64="")
    return page_response(
        surveys.submit_answer(
            token,
            body,
            signing_keys(get_settings()),
            get_clock().now(),
            client("events"),
            accept_language(app.current_event),
        )
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
