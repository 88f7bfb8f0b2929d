"""Unsubscribe endpoint: GET /u/{token} confirms, POST /u/{token} unsubscribes (RFC 8058)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.features import unsubscribe

app = APIGatewayRestResolver()
HTML = "text/html; charset=utf-8"


def _respond(page: unsubscribe.Page) -> Response[str]:
    return Response(
        status_code=page.status,
        content_type=HTML,
        body=page.html,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


def _accept_language() -> str | None:
    """The browser's languages: the page falls back to them when the customer has none."""
    return app.current_event.headers.get("Accept-Language")


@app.get("/u/<token>")
def confirm(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    return _respond(
        unsubscribe.confirmation_page(token, key, get_clock().now(), _accept_language())
    )


@app.post("/u/<token>")
def one_click(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    return _respond(unsubscribe.unsubscribe(token, key, get_clock().now(), _accept_language()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
