"""Unsubscribe endpoint: GET /u/{token} confirms, POST /u/{token} unsubscribes (RFC 8058).

Preference centre: GET /p/{token} shows the customer's preferences, POST /p/{token} saves
them (or undoes a change); see :mod:`lifecycle.features.preferences`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.features import preferences, unsubscribe

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


@app.get("/p/<token>")
def show_preferences(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    return _respond(preferences.show_preferences(token, key, get_clock().now(), _accept_language()))


def _form_body() -> str:
    """The request body as text; a body flagged base64 that is not, or bytes that are not
    UTF-8, become text the form parser refuses (answered with 400)."""
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return "\ufffd"
    return data.decode("utf-8", "replace")


@app.post("/p/<token>")
def save_preferences(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    page = preferences.submit_preferences(
        token, _form_body(), key, get_clock().now(), _accept_language()
    )
    return _respond(page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
