"""Unsubscribe endpoint: GET /u/{token} confirms, POST /u/{token} unsubscribes (RFC 8058).

Preference centre: GET /p/{token} shows the customer's preferences, POST /p/{token} saves
them (or undoes a change); see :mod:`lifecycle.features.preferences`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger, tracer
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.features import preferences, unsubscribe
from lifecycle.pages.http import accept_language, form_text, page_response

app = APIGatewayRestResolver()


@app.get("/u/<token>")
def confirm(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    return page_response(
        unsubscribe.confirmation_page(
            token, key, get_clock().now(), accept_language(app.current_event)
        )
    )


@app.post("/u/<token>")
def one_click(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    return page_response(
        unsubscribe.unsubscribe(token, key, get_clock().now(), accept_language(app.current_event))
    )


@app.get("/p/<token>")
def show_preferences(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    return page_response(
        preferences.show_preferences(
            token, key, get_clock().now(), accept_language(app.current_event)
        )
    )


@app.post("/p/<token>")
def save_preferences(token: str) -> Response[str]:
    key = signing_keys(get_settings())
    page = preferences.submit_preferences(
        token,
        form_text(app.current_event, not_base64="\ufffd"),
        key,
        get_clock().now(),
        accept_language(app.current_event),
    )
    return page_response(page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
