"""Customer pages in headless Chromium at 375 px (phone) and 1280 px (desktop).

Served by the real survey and unsubscribe handlers (API Gateway proxy events, moto). Each test
checks the language shown and ``<html lang>``, that nothing scrolls sideways, that the console
stays clean, and saves a screenshot under ``out/screenshots/<page>-<width>.png``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lifecycle.core.tokens import sign, sign_preferences, sign_unsubscribe
from tests.browser.conftest import NOW, Site, Tab

LAYOUT = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  return {
    lang: document.documentElement.lang,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    h1: document.querySelector('h1').textContent.trim(),
    text: document.body.innerText,
    options: [...document.querySelectorAll('.scale label')].map(box),
    rows: [...document.querySelectorAll('label:has(input[type=checkbox])')].map(box),
    buttons: [...document.querySelectorAll('button')].map(box),
  };
}"""


def _survey(site: Site, customer: str, kind: str, *, now=NOW, order: str = "o-1") -> str:
    token = sign(site.keys, "survey", {"s": f"nps-{kind}#{customer}#{order}", "q": kind}, now, 60)
    return site.url(f"/s/{token}")


def _unsubscribe(site: Site, customer: str, channel: str = "email") -> str:
    token = sign_unsubscribe(
        site.keys, customer_id=customer, channel=channel, campaign_id="bday", now=NOW, ttl_days=400
    )
    return site.url(f"/u/{token}")


def _preferences(site: Site, customer: str) -> str:
    token = sign_preferences(site.keys, customer_id=customer, now=NOW, ttl_days=400)
    return site.url(f"/p/{token}")


def _layout(tab: Tab) -> dict[str, Any]:
    result: dict[str, Any] = tab.page.evaluate(LAYOUT)
    return result


def _assert_usable(tab: Tab, layout: dict[str, Any], lang: str, status: int = 200) -> None:
    assert layout["lang"] == lang
    assert layout["scrollWidth"] <= layout["innerWidth"], "the page scrolls sideways"
    assert tab.expect_errors(status) == []


def _assert_scale(layout: dict[str, Any], count: int, width: int) -> None:
    options = layout["options"]
    assert len(options) == count
    assert len({round(o["y"]) for o in options}) == 1, "the scale wraps onto a second row"
    assert min(o["x"] for o in options) >= 0
    assert max(o["x"] + o["width"] for o in options) <= width
    for option in options:  # WCAG 2.5.8 asks 24 px; a 44 px tall target for thumbs
        assert option["height"] >= 44 and option["width"] >= 24, option


def test_nps_survey_in_german_fits_one_row_with_big_targets(tab: Tab, site: Site):
    response = tab.open(_survey(site, "c-de", "nps"))
    assert response.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "de-DE")
    assert layout["h1"] == "Wie waren wir?"
    assert "Mercado Verde einem Freund oder Kollegen empfehlen" in layout["text"]
    assert "Sehr unwahrscheinlich" in layout["text"]
    _assert_scale(layout, 11, tab.width)
    tab.shot("survey-nps-de")


def test_csat_survey_in_japanese_shows_cjk_text_and_five_options(tab: Tab, site: Site):
    response = tab.open(_survey(site, "c-ja", "csat"), locale="en-GB")
    assert response.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "ja-JP")  # the customer's language beats the browser's
    assert layout["h1"] == "ご満足いただけましたか？"
    assert "ご注文にどの程度満足されましたか？" in layout["text"]
    _assert_scale(layout, 5, tab.width)
    tab.shot("survey-csat-ja")


def test_the_keyboard_focus_on_a_score_is_visible(tab: Tab, site: Site):
    tab.open(_survey(site, "c-en", "nps", order="o-focus"))
    tab.page.keyboard.press("Tab")
    focused = tab.page.evaluate(
        "() => [document.activeElement.name, getComputedStyle("
        "document.activeElement.nextElementSibling).outlineStyle]"
    )
    assert focused == ["score", "solid"]


def test_an_answer_sent_from_the_form_shows_the_thanks_page(tab: Tab, site: Site):
    from lifecycle.store.responses import get_response

    order = f"o-send-{tab.width}"
    tab.open(_survey(site, "c-de", "nps", order=order))
    tab.page.locator(".scale label", has_text="9").first.click()
    tab.page.fill("#comment", "Schnelle Lieferung, danke!")
    tab.shot("survey-nps-chosen-de")
    with tab.page.expect_navigation():
        tab.page.click("button[type=submit]")
    layout = _layout(tab)
    _assert_usable(tab, layout, "de-DE")
    assert layout["h1"] == "Vielen Dank für Ihre Antwort!"
    stored = get_response(f"nps-nps#c-de#{order}")
    assert stored is not None and (stored.score, stored.comment) == (
        9,
        "Schnelle Lieferung, danke!",
    )
    tab.shot("survey-thanks-de")


def test_an_answer_without_a_score_shows_the_form_again_with_the_comment(tab: Tab, site: Site):
    tab.open(_survey(site, "c-de", "nps", order=f"o-none-{tab.width}"))
    tab.page.evaluate(
        "() => document.querySelectorAll('input[name=score]').forEach(i => i.required = false)"
    )
    tab.page.fill("#comment", "Ohne Bewertung")
    with tab.page.expect_navigation() as navigation:
        tab.page.click("button[type=submit]")
    assert navigation.value.status == 400
    layout = _layout(tab)
    assert "Bitte wählen Sie eine Bewertung von 0 bis 10." in layout["text"]
    assert tab.page.input_value("#comment") == "Ohne Bewertung"
    _assert_scale(layout, 11, tab.width)
    _assert_usable(tab, layout, "de-DE", 400)
    tab.shot("survey-error-score-de")


@pytest.mark.parametrize(
    ("case", "browser", "status", "lang", "title"),
    [
        ("expired", "ja-JP", 410, "ja-JP", "このリンクは使用できません"),
        ("forged", "de-CH", 403, "de-CH", "Dieser Link funktioniert nicht"),
        ("malformed", "en-US", 400, "en-US", "This link does not work"),
    ],
)
def test_a_survey_link_that_does_not_work_speaks_the_browsers_language(
    tab: Tab, site: Site, case, browser, status, lang, title
):
    url = {
        "expired": _survey(site, "c-de", "nps", now=NOW - timedelta(days=90)),
        "forged": _survey(site, "c-de", "nps")[:-3] + "abc",
        "malformed": site.url("/s/not-a-token"),
    }[case]
    response = tab.open(url, locale=browser)
    assert response.status == status
    layout = _layout(tab)
    _assert_usable(tab, layout, lang, status)
    assert layout["h1"] == title
    tab.shot(f"survey-link-{case}-{lang.split('-')[0]}")


def test_unsubscribe_confirm_then_done_in_german(tab: Tab, site: Site):
    from lifecycle.store.customers import get_customer

    response = tab.open(_unsubscribe(site, "c-de"))
    assert response.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "de-DE")
    assert "Möchten Sie keine E-Mails mehr von Mercado Verde erhalten?" in layout["text"]
    box = tab.page.locator("button[type=submit]").bounding_box()
    assert box is not None and box["height"] >= 44
    tab.shot("unsubscribe-confirm-de")
    with tab.page.expect_navigation() as navigation:
        tab.page.click("button[type=submit]")
    assert navigation.value.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "de-DE")
    assert layout["h1"] == "Sie sind abgemeldet"
    customer = get_customer("c-de")
    assert customer is not None and "email" in customer["unsubscribed"]
    tab.shot("unsubscribe-done-de")


def test_unsubscribe_confirm_in_japanese_for_sms(tab: Tab, site: Site):
    response = tab.open(_unsubscribe(site, "c-ja", "sms"))
    assert response.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "ja-JP")
    assert "Mercado VerdeからのSMSの受信を停止しますか？" in layout["text"]
    tab.shot("unsubscribe-confirm-ja")


def test_every_page_shows_the_brand_and_the_postal_address(tab: Tab, site: Site):
    tab.open(_unsubscribe(site, "c-en"))
    logo = tab.page.locator("header img")
    assert logo.get_attribute("alt") == "Mercado Verde"
    assert tab.page.evaluate("() => document.querySelector('header img').naturalWidth") > 0
    assert "Hafenstraße 12" in tab.page.locator("footer address").inner_text()
    assert tab.errors == []


def test_preference_centre_in_german_saves_and_undoes(tab: Tab, site: Site):
    from lifecycle.store.customers import get_customer

    response = tab.open(_preferences(site, "c-prefs"))
    assert response.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "de-DE")
    assert layout["h1"] == "Ihre Einstellungen" and "Rundbrief" in layout["text"]
    assert len(layout["rows"]) == 3  # e-mail, birthday offers, newsletter
    for box in layout["rows"] + layout["buttons"]:  # whole rows and buttons are tap targets
        assert box["height"] >= 44 and box["x"] + box["width"] <= tab.width, box
    tab.shot("preferences-de")
    tab.page.locator("label", has_text="Rundbrief").click()
    with tab.page.expect_navigation():
        tab.page.locator("form:has(input[value=save]) button").click()
    _assert_usable(tab, _layout(tab), "de-DE")
    stored = get_customer("c-prefs")
    assert stored is not None and "newsletter" in str(stored.get("topics_off"))
    tab.shot("preferences-saved-de")
    with tab.page.expect_navigation():
        tab.page.locator("form:has(input[value=undo]) button").click()
    _assert_usable(tab, _layout(tab), "de-DE")
    restored = get_customer("c-prefs")
    assert restored is not None and "newsletter" not in str(restored.get("topics_off"))


def test_preference_centre_in_korean(tab: Tab, site: Site):
    response = tab.open(_preferences(site, "c-ko"))
    assert response.status == 200
    layout = _layout(tab)
    _assert_usable(tab, layout, "ko-KR")
    assert "생일 혜택" in layout["text"]
    tab.shot("preferences-ko")
