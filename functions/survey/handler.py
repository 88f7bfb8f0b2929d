"""Survey endpoint: GET /s/{token} shows the form, POST /s/{token} stores the answer."""

from __future__ import annotations

import base64
import binascii
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
from lifecycle.pages import Page

app = APIGatewayRestResolver()


def _respond(page: Page) -> Response[str]:
    return Response(
        status_code=page.status,
        content_type="text/html; charset=utf-8",
        body=page.html,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


def _accept_language() -> str | None:
    """The browser's languages: the page falls back to them when the customer has none."""
    return app.current_event.headers.get("Accept-Language")


@app.get("/s/<token>")
def show(token: str) -> Response[str]:
    return _respond(
        surveys.survey_page(
            token, signing_keys(get_settings()), get_clock().now(), _accept_language()
        )
    )


def _form_body() -> str:
    """The request body as text: a byte that is not UTF-8 becomes U+FFFD (the score survives),
    a body that is not base64 although flagged so becomes empty (answered with 400)."""
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return ""
    return data.decode("utf-8", "replace")


@app.post("/s/<token>")
def answer(token: str) -> Response[str]:
    body = _form_body()
    return _respond(
        surveys.submit_answer(
            token,
            body,
            signing_keys(get_settings()),
            get_clock().now(),
            client("events"),
            _accept_language(),
        )
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
