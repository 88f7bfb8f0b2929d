"""Rendering: locale fallback, StrictUndefined, sandbox limits, footer."""

from __future__ import annotations

import pytest

from lifecycle.rules.templates import (
    TEMPLATE_VARIABLES,
    RenderError,
    check_template,
    choose_locale,
    render,
    render_email,
)

CONTENT: dict[str, dict[str, str | None]] = {
    "en": {
        "subject": "Happy birthday, {{ first_name }}!",
        "text": "Code {{ offer.code }}",
        "html": None,
    },
    "de": {
        "subject": "Alles Gute, {{ first_name }}!",
        "text": "Code {{ offer.code }}",
        "html": None,
    },
    "zh-CN": {
        "subject": "{{ first_name }}，生日快乐！",
        "text": "优惠码 {{ offer.code }}",
        "html": "<p>{{ first_name }}</p>",
    },
}
CONTEXT = {"first_name": "<Ana>", "offer": {"code": "BDAY-X"}, "unsubscribe_url": "https://x/u/t"}


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("de-DE", "de"),
        ("DE", "de"),
        ("zh-CN", "zh-CN"),
        ("zh-cn", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("ko-KR", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_given_customer_locale_when_choosing_then_exact_then_language_then_first(wanted, expected):
    assert choose_locale(list(CONTENT), wanted) == expected


def test_given_zh_customer_when_rendering_then_chinese_subject_footer_and_escaped_html():
    email = render_email(CONTENT, "zh-CN", CONTEXT)
    assert email.locale == "zh-CN"
    assert email.subject == "<Ana>，生日快乐！"
    assert "优惠码 BDAY-X" in email.text
    assert "退订：https://x/u/t" in email.text
    assert email.html is not None
    assert "&lt;Ana&gt;" in email.html
    assert "<Ana>" not in email.html


def test_given_no_html_when_rendering_then_html_is_generated_from_text():
    email = render_email(CONTENT, "en", CONTEXT)
    assert email.html is not None
    assert "<p>Code BDAY-X</p>" in email.html
    assert 'href="https://x/u/t"' in email.html


def test_given_missing_variable_when_rendering_then_render_error_names_field():
    with pytest.raises(RenderError) as caught:
        render("{{ offer.nope }}", CONTEXT, "content.email.en.text")
    assert caught.value.field == "content.email.en.text"


def test_given_unknown_variable_when_checked_then_listed():
    with pytest.raises(RenderError, match="coupon"):
        check_template("{{ coupon }}", "f", allowed=TEMPLATE_VARIABLES | {"offer"})


def test_given_offer_variable_without_offer_when_checked_then_error_explains():
    with pytest.raises(RenderError, match="needs an offer"):
        check_template("{{ offer.code }}", "f")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{% for i in range(100000) %}x{% endfor %}",
        "{{ 'x' * 100000000 }}",
        "{{ 2 ** 100000 }}",
        "{% set l = [] %}{{ l.append(1) }}",
    ],
)
def test_given_hostile_template_when_rendered_then_refused(source):
    with pytest.raises(RenderError):
        render(source, CONTEXT, "f")


def test_given_subject_with_newlines_when_rendered_then_single_line():
    content = {"en": {"subject": "Hi\n{{ first_name }}\r\nBcc: x@y", "text": "t", "html": None}}
    email = render_email(content, "en", CONTEXT)
    assert "\n" not in email.subject and "\r" not in email.subject
