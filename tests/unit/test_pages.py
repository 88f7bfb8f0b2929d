"""Customer pages: language negotiation, complete catalogs, the branded layout (no AWS)."""

from __future__ import annotations

import importlib.util
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lifecycle.pages import (
    CATALOGS,
    Branding,
    PageLocale,
    link_error,
    negotiate,
    render_page,
)
from lifecycle.pages.locales import accepted_languages, read_catalog, translations
from lifecycle.pages.render import contrast

ROOT = Path(__file__).resolve().parents[2]
BRAND = Branding(company_name="Shop & Co", postal_address="Hauptstr. 1\n10115 Berlin")


def _catalog_tool():
    spec = importlib.util.spec_from_file_location("catalogs", ROOT / "scripts" / "catalogs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------ negotiation
@pytest.mark.parametrize(
    ("customer", "header", "catalog", "tag"),
    [
        ("de-DE", "en-US,en;q=0.9", "de", "de-DE"),  # the customer's locale wins
        ("de-AT", None, "de", "de-AT"),  # region kept for lang and formats
        ("de", None, "de", "de"),
        (None, "fr-CH, fr;q=0.9, en;q=0.8", "fr", "fr-CH"),
        (None, "sv;q=1, nl;q=0.5, en;q=0.7", "en", "en"),  # by q-value, not by position
        ("sv-SE", "pl;q=0.3", "pl", "pl"),  # no Swedish catalog: the browser's next
        ("zh", None, "zh_CN", "zh-CN"),
        ("zh-Hans", None, "zh_CN", "zh-CN"),
        ("zh_CN", None, "zh_CN", "zh-CN"),
        (None, "zh-Hant-TW", "zh_CN", "zh-CN"),  # the language actually shown
        ("ja-JP", None, "ja", "ja-JP"),
        ("ko", None, "ko", "ko"),
        ("pt-BR", None, "pt", "pt-BR"),
        (None, None, "en", "en"),
        ("xx-YY", "*", "en", "en"),
        ("de-XX", None, "de", "de"),  # an unknown region: the language alone
    ],
)
def test_given_customer_and_browser_languages_when_negotiated_then_catalog_and_lang(
    customer, header, catalog, tag
):
    assert negotiate(customer, header) == PageLocale(catalog, tag)


@pytest.mark.parametrize(
    "header",
    [
        "de;q=0",  # refused by the browser
        "de;q=2",
        "de;q=abc",
        "<script>",
        "de-" + "x" * 40,
        ";;;,,,",
        "\x00de",
        "en;q=0.5," * 500 + "de",  # only the first ranges are read
    ],
)
def test_given_a_hostile_accept_language_when_negotiated_then_english_and_no_error(header):
    assert negotiate(None, header) == PageLocale("en", "en")


def test_given_accept_language_when_parsed_then_best_first_and_wildcard_dropped():
    assert accepted_languages("en;q=0.5, de, *;q=0.9, fr;q=0.8") == ["de", "fr", "en"]


# ------------------------------------------------------------------------ catalogs
def test_given_every_catalog_when_checked_then_complete_current_and_placeholders_match():
    assert _catalog_tool().check() == []


def test_given_the_required_languages_when_listed_then_each_has_a_catalog():
    required = {"en", "de", "fr", "es", "it", "pt", "nl", "pl", "zh_CN", "ja", "ko"}
    assert required <= set(CATALOGS)
    for name in CATALOGS:
        catalog = read_catalog(name)
        assert all(message.string for message in catalog if message.id), name


def test_given_a_catalog_with_a_wrong_placeholder_when_checked_then_reported(tmp_path, monkeypatch):
    tool = _catalog_tool()
    po = (ROOT / "shared/lifecycle/pages/locales/de/LC_MESSAGES/pages.po").read_text()
    broken = po.replace("von %(low)s bis %(high)s", "von %(niedrig)s bis %(high)s")
    assert broken != po
    target = tmp_path / "de" / "LC_MESSAGES" / "pages.po"
    target.parent.mkdir(parents=True)
    target.write_text(broken)
    monkeypatch.setattr(tool, "catalog_path", lambda name: tmp_path / name / "LC_MESSAGES/pages.po")
    monkeypatch.setattr(tool, "CATALOGS", ("de",))
    problems = tool.check()
    assert len(problems) == 1 and "placeholders" in problems[0] and "niedrig" in problems[0]


def test_given_a_sentence_copied_untranslated_when_checked_then_reported(tmp_path, monkeypatch):
    tool = _catalog_tool()
    po = (ROOT / "shared/lifecycle/pages/locales/fr/LC_MESSAGES/pages.po").read_text()
    copied = po.replace(
        'msgstr "Merci pour votre réponse !"', 'msgstr "Thank you for your answer!"'
    )
    assert copied != po
    target = tmp_path / "fr" / "LC_MESSAGES" / "pages.po"
    target.parent.mkdir(parents=True)
    target.write_text(copied)
    monkeypatch.setattr(tool, "catalog_path", lambda name: tmp_path / name / "LC_MESSAGES/pages.po")
    monkeypatch.setattr(tool, "CATALOGS", ("fr",))
    assert tool.check() == ["fr: copied, not translated 'Thank you for your answer!'"]


def test_given_an_unknown_catalog_when_translations_asked_then_value_error():
    with pytest.raises(ValueError, match="no catalog"):
        translations("../../etc")


# ------------------------------------------------------------------------ rendering
SURVEY: dict[str, Any] = {
    "action": "tok.sig",
    "kind": "nps",
    "scores": list(range(11)),
    "previous": None,
    "comment": "",
    "error": None,
    "max_comment": 2000,
}
TEMPLATES = [
    ("survey.html", SURVEY),
    ("survey.html", {**SURVEY, "kind": "csat", "scores": [1, 2, 3, 4, 5], "error": "score"}),
    ("survey_thanks.html", {}),
    ("unsubscribe_confirm.html", {"action": "tok", "channel": "email", "topic": None}),
    ("unsubscribe_confirm.html", {"action": "tok", "channel": "sms", "topic": None}),
    (
        "unsubscribe_confirm.html",
        {"action": "tok", "channel": "email", "topic": "Geburtstagsangebote", "topic_lang": "de"},
    ),
    ("unsubscribed.html", {"channel": "email", "topic": None, "topic_lang": None}),
    ("unsubscribed.html", {"channel": "sms", "topic": "Birthday offers", "topic_lang": "en"}),
    ("link_error.html", {"link": "survey", "reason": "expired"}),
]


@pytest.mark.parametrize("catalog", CATALOGS)
@pytest.mark.parametrize(("template", "context"), TEMPLATES, ids=lambda t: str(t)[:20])
def test_given_a_page_when_rendered_in_each_language_then_lang_is_the_language_shown(
    catalog, template, context
):
    locale = negotiate(catalog)
    page = render_page(template, locale, branding=BRAND, **context)
    english = render_page(template, negotiate("en"), branding=BRAND, **context)
    assert page.status == 200
    assert f'<html lang="{locale.tag}">' in page.html
    title = re.search(r"<h1>(.*?)</h1>", page.html, re.S)
    english_title = re.search(r"<h1>(.*?)</h1>", english.html, re.S)
    assert title and english_title
    assert (title.group(1) != english_title.group(1)) == (catalog != "en")
    assert "Shop &amp; Co" in page.html and "Shop & Co" not in page.html
    assert "<script" not in page.html


def test_given_the_survey_in_german_when_rendered_then_texts_scale_and_previous_answer():
    html = render_page(
        "survey.html", negotiate("de-DE"), branding=BRAND, **{**SURVEY, "previous": 7}
    ).html
    assert "Wie wahrscheinlich ist es, dass Sie Shop &amp; Co einem Freund" in html
    assert html.count('type="radio"') == 11
    assert re.search(r'value="7" required checked', html)
    assert '<legend id="question">' in html and 'for="comment"' in html
    assert "--options:11" in html


def test_given_a_comment_with_markup_when_rendered_then_escaped():
    html = render_page(
        "survey.html", negotiate("en"), branding=BRAND, **{**SURVEY, "comment": "</textarea><b>"}
    ).html
    assert "&lt;/textarea&gt;&lt;b&gt;" in html and "</textarea><b>" not in html


def test_given_branding_when_rendered_then_logo_colour_and_postal_address():
    brand = Branding(
        company_name="Shop",
        logo_url="https://cdn.example.com/logo.png?a=1&b=2",
        colour="#ffd700",
        postal_address="1 Main St\nSpringfield",
    )
    html = render_page("survey_thanks.html", negotiate("en"), branding=brand).html
    assert '<img src="https://cdn.example.com/logo.png?a=1&amp;b=2" alt="Shop"' in html
    assert "--brand:#ffd700;--on-brand:#000000;--accent:#1f1f1f" in html  # gold: dark text
    assert "<address>1 Main St\nSpringfield</address>" in html


@pytest.mark.parametrize("colour", ["#1a73e8", "#ffd700", "#ffffff", "#000000", "#e60023"])
def test_given_any_brand_colour_when_used_then_text_on_it_and_accent_contrast(colour):
    brand = Branding(colour=colour)
    assert contrast(brand.colour, brand.on_colour) >= 4.5
    assert contrast(brand.accent, "#ffffff") >= 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"colour": "red"},
        {"colour": "#12345"},
        {"colour": "#123456;}body{display:none"},
        {"logo_url": "http://cdn.example.com/logo.png"},
        {"logo_url": "javascript:alert(1)"},
    ],
)
def test_given_bad_branding_when_built_then_value_error(kwargs):
    with pytest.raises(ValueError):
        Branding(**kwargs)


@pytest.mark.parametrize(
    ("reason", "status", "text"),
    [
        ("malformed", 400, "nicht vollständig"),
        ("forged", 403, "ungültig"),
        ("expired", 410, "Umfrage ist beendet"),
        ("erased", 410, "nicht mehr gültig"),
    ],
)
def test_given_a_link_that_does_not_work_when_shown_then_status_and_localized_reason(
    reason, status, text
):
    page = link_error("survey", reason, negotiate(None, "de"), BRAND)
    assert page.status == status
    assert text in page.html.replace("unvollständig", "nicht vollständig")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en-GB", "28 Feb 2027"),
        ("en-US", "Feb 28, 2027"),
        ("de-DE", "28.02.2027"),
        ("ja", "2027/02/28"),
    ],
)
def test_given_a_page_locale_when_a_date_is_formatted_then_the_locales_format(tag, expected):
    env_page = render_page("survey_thanks.html", negotiate(tag), branding=BRAND)
    assert env_page.status == 200
    from lifecycle.pages.render import environment

    template = environment(negotiate(tag).catalog).from_string("{{ d | date }}")
    assert template.render(d=date(2027, 2, 28), page_locale=negotiate(tag)) == expected


def test_given_a_topic_name_with_markup_when_shown_then_escaped_with_its_own_lang():
    html = render_page(
        "unsubscribed.html",
        negotiate("fr"),
        branding=BRAND,
        channel="email",
        topic="<b>Offres</b>",
        topic_lang='de"x',
    ).html
    assert '« <span lang="de&#34;x">&lt;b&gt;Offres&lt;/b&gt;</span> »' in html
    assert "Vous ne recevrez plus d’e-mails" in html
