"""A customer page as API Gateway's answer, and what the public page handlers read from the
request (``functions/survey``, ``functions/unsubscribe``)."""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from lifecycle.pages.render import Page

HTML = "text/html; charset=utf-8"


def page_response(page: Page) -> Response[str]:
    """The page, never cached and never indexed (each carries a personal link)."""
    return Response(
        status_code=page.status,
        content_type=HTML,
        body=page.html,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


def accept_language(event: APIGatewayProxyEvent) -> str | None:
    """The browser's languages: the page falls back to them when the customer has none."""
    return event.headers.get("Accept-Language")


def form_text(event: APIGatewayProxyEvent, *, not_base64: str) -> str:
    """The request body as text. A byte that is not UTF-8 becomes U+FFFD; a body flagged
    base64 that is not becomes ``not_base64``: a text the form's parser answers with 400
    (an empty form means something on some pages, e.g. every box unticked)."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return not_base64
    return data.decode("utf-8", "replace")
