"""Dates, prices and numbers in campaign templates, written the way the message's language does.

``{{ offer.valid_until | date }}``, ``{{ price | money("EUR") }}`` and ``{{ n | number }}`` run
inside the template sandbox (budget and size limits apply), with the locale of the rendered
message; templates without them keep printing what they printed before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lifecycle.campaigns.model import CampaignError, parse_campaign
from lifecycle.rules.formats import as_amount, babel_locale, format_day, format_locale
from lifecycle.rules.templates import RenderError, render, render_email, render_sms
from tests.builders import birthday_campaign

CONTEXT = {
    "offer": {"valid_until": "2027-02-28", "percent_off": 20, "code": "BDAY-1"},
    "unsubscribe_url": "https://example.com/u/t",
}
OFFER_EN = "valid until {{ offer.valid_until | date }}"
OFFER_DE = "gültig bis {{ offer.valid_until | date }}"


@pytest.mark.parametrize(
    ("content_locale", "customer", "source", "expected"),
    [
        ("en", "en-GB", OFFER_EN, "valid until 28 Feb 2027"),
        ("en", "en-US", OFFER_EN, "valid until Feb 28, 2027"),
        ("de", "de-DE", OFFER_DE, "gültig bis 28.02.2027"),
        ("de", "de-AT", OFFER_DE, "gültig bis 28.02.2027"),
        (
            "fr",
            "fr-FR",
            "valable jusqu’au {{ offer.valid_until | date }}",
            "valable jusqu’au 28 févr. 2027",
        ),
        ("ja", "ja-JP", "{{ offer.valid_until | date('long') }}まで有効", "2027年2月28日まで有効"),
        ("en", "de-DE", OFFER_EN, "valid until Feb 28, 2027"),  # English text: English dates
    ],
)
def test_given_an_offer_when_its_e_mail_is_rendered_then_the_date_reads_as_the_language_writes_it(
    content_locale, customer, source, expected
):
    content = {content_locale: {"subject": "Offer", "text": source}}
    mail = render_email(content, customer, CONTEXT)
    assert mail.text.splitlines()[0] == expected
    assert expected in (mail.html or "")


def test_given_a_price_in_an_sms_when_rendered_then_the_locales_currency_format():
    sms = render_sms({"de": "Nur {{ 1234.5 | money('EUR') }} – {{ 0.5 | number }}"}, "de-DE", {})
    assert sms.text.startswith("Nur 1.234,50 € – 0,5 ")


@pytest.mark.parametrize(
    ("value", "form", "tag", "expected"),
    [
        ("2027-02-28", "medium", "de", "28.02.2027"),
        ("2027-02-28", "long", "de", "28. Februar 2027"),
        ("2027-02-28", "full", "en-GB", "Sunday, 28 February 2027"),
        ("2027-02-28T23:30:00Z", "short", "en-GB", "28/02/2027"),
        (date(2027, 2, 28), "medium", "zh-CN", "2027年2月28日"),
        (datetime(2027, 2, 28, 8, tzinfo=UTC), "medium", "ko", "2027. 2. 28."),
        ("2027-02-28", "medium", None, "Feb 28, 2027"),  # no locale: English
        ("2027-02-28", "medium", "xx-??", "Feb 28, 2027"),
    ],
)
def test_given_a_day_when_formatted_then_babels_pattern_for_the_locale(value, form, tag, expected):
    assert format_day(value, form, tag) == expected


def test_given_a_template_without_the_filters_when_rendered_then_unchanged():
    assert render("until {{ offer.valid_until }}", CONTEXT, "t", locale="de") == "until 2027-02-28"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ 'tomorrow' | date }}", "not a date"),
        ("{{ offer.valid_until | date('yyyy') }}", "date format must be one of"),
        ("{{ ('2027-02-28' * 100) | date }}", "not a date"),
        ("{{ 5 | money('EURO') }}", "not a currency"),
        ("{{ 5 | money('ZZZ') }}", "not a currency"),
        ("{{ 5 | money(5) }}", "not a currency"),
        ("{{ true | money('EUR') }}", "not an amount"),
        ("{{ 'NaN' | money('EUR') }}", "not an amount"),
        ("{{ (10 ** 20) | number }}", "not an amount"),
        ("{{ 'abc' | number }}", "not an amount"),
        ("{{ [1] | number }}", "not an amount"),
    ],
)
def test_given_bad_input_to_a_locale_filter_when_rendered_then_render_error(source, problem):
    with pytest.raises(RenderError, match=problem):
        render(source, CONTEXT, "content.email.en.text")


def test_given_the_filters_in_a_loop_when_rendered_then_the_render_budget_still_counts_them():
    source = (
        "{% for i in range(1000) %}{% for j in range(1000) %}{{ 1 | number }}{% endfor %}"
        "{% endfor %}"
    )
    with pytest.raises(RenderError, match="loop iterations and calls"):
        render(source, {}, "t")


def test_given_a_campaign_using_the_filters_when_saved_then_accepted():
    doc = birthday_campaign(
        content={
            "email": {
                "en": {
                    "subject": "Until {{ offer.valid_until | date }}",
                    "text": "{{ offer.percent_off }}% off, valid until "
                    "{{ offer.valid_until | date('long') }}; orders over {{ 50 | money('EUR') }}",
                    "html": "<p>until {{ offer.valid_until | date }}</p>",
                },
                "de": {
                    "subject": "Bis {{ offer.valid_until | date }}",
                    "text": "{{ 50 | money('EUR') }}",
                },
            }
        }
    )
    assert parse_campaign(doc).campaign_id == "bday-2027"


def test_given_a_campaign_with_a_bad_currency_when_saved_then_a_field_error():
    doc = birthday_campaign(
        content={"email": {"en": {"subject": "Hi", "text": "{{ 50 | money('EURO') }}"}}}
    )
    with pytest.raises(CampaignError) as raised:
        parse_campaign(doc)
    assert [e.field for e in raised.value.errors] == ["content.email.en.text"]
    assert "not a currency" in raised.value.errors[0].message


@pytest.mark.parametrize(
    ("shown", "wanted", "expected"),
    [
        ("de", "de-AT", "de-AT"),
        ("de", "fr-CH", "de"),
        ("en", None, "en"),
        ("zh-CN", "zh_TW", "zh_TW"),
    ],
)
def test_given_content_and_customer_locales_when_formatting_then_customer_region_if_same_language(
    shown, wanted, expected
):
    assert format_locale(shown, wanted) == expected


def test_given_odd_tags_when_a_babel_locale_is_needed_then_a_fallback_not_an_error():
    assert str(babel_locale("de-XX")) == "de"
    assert str(babel_locale("<script>")) == "en"
    assert as_amount("19.90") == Decimal("19.90")
