"""What the public page handlers read from API Gateway's request, and how a page answers."""

from __future__ import annotations

import base64

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from lifecycle.pages.http import accept_language, form_text, page_response
from lifecycle.pages.render import Page


def _event(body: str | None, *, base64_encoded: bool = False) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent(
        {
            "body": body,
            "isBase64Encoded": base64_encoded,
            "headers": {"Accept-Language": "de-DE,de;q=0.9"},
        }
    )


@pytest.mark.parametrize(
    ("body", "encoded", "expected"),
    [
        ("score=9", False, "score=9"),
        (None, False, ""),
        (
            base64.b64encode(b"score=9&comment=gr%C3%BC%C3%9F").decode(),
            True,
            "score=9&comment=gr%C3%BC%C3%9F",
        ),
        (base64.b64encode(b"score=9&c=\xff").decode(), True, "score=9&c=\ufffd"),
        ("not base64!", True, "<refused>"),
    ],
    ids=["plain", "no-body", "base64", "not-utf8", "not-base64"],
)
def test_given_a_form_body_when_read_then_text_or_the_pages_refusal(body, encoded, expected):
    assert form_text(_event(body, base64_encoded=encoded), not_base64="<refused>") == expected


def test_given_a_page_when_answered_then_html_never_cached_nor_indexed():
    response = page_response(Page(status=410, html="<p>gone</p>"))
    assert (response.status_code, response.body) == (410, "<p>gone</p>")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert accept_language(_event("")) == "de-DE,de;q=0.9"
