"""Customer pages through the real handlers: the language shown, status codes, nothing stored
when a link does not work (API Gateway proxy events on moto; the browser tests add layout)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import sign, sign_unsubscribe
from lifecycle.features.importer import import_customers
from lifecycle.store.customers import get_customer, write_tombstone
from lifecycle.store.responses import get_response
from tests.events import load_event

NOW = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)


@pytest.fixture
def shop(aws, clock):
    lines = [
        json.dumps(
            {"customer_id": cid, "email": f"{cid}@example.com", "consent": {"email": True}, **extra}
        )
        for cid, extra in (
            ("c-de", {"locale": "de-DE"}),
            ("c-zh", {"locale": "zh-CN"}),
            ("c-none", {}),
            ("c-gone", {"locale": "it-IT"}),
        )
    ]
    assert not import_customers(lines, "customers.jsonl", NOW).rejected
    return aws


def _call(
    shop: Any, route: str, method: str, token: str, language: str | None, body: str | None = None
) -> dict[str, Any]:
    name = {"s": "survey", "u": "unsubscribe"}[route]
    post = "post_answer" if route == "s" else "post_one_click"
    event = load_event(f"{name}/{'get' if method == 'GET' else post}.json")
    event.update(path=f"/{route}/{token}", pathParameters={"token": token})
    for header in ("Accept-Language", "accept-language"):
        event["headers"].pop(header, None)
        event["multiValueHeaders"].pop(header, None)
    if language is not None:
        event["headers"]["accept-language"] = language
        event["multiValueHeaders"]["accept-language"] = [language]
    if body is not None:
        event.update(body=body, isBase64Encoded=False)
    function = "SurveyFunction" if route == "s" else "UnsubscribeFunction"
    result: dict[str, Any] = load_handler(shop.functions[function])(event, FakeLambdaContext())
    return result


def _survey_token(customer: str, kind: str = "nps", now: datetime = NOW) -> str:
    keys = signing_keys(get_settings())
    return sign(keys, "survey", {"s": f"camp#{customer}#o-1", "q": kind}, now, 60)


def _lang(page: dict[str, Any]) -> str:
    match = re.search(r'<html lang="([^"]+)">', page["body"])
    assert match is not None
    return match.group(1)


def test_given_a_customer_locale_when_the_survey_opens_then_it_beats_the_browsers_language(shop):
    page = _call(shop, "s", "GET", _survey_token("c-de"), "fr-FR,fr;q=0.9")
    assert page["statusCode"] == 200
    assert _lang(page) == "de-DE" and "<h1>Wie waren wir?</h1>" in page["body"]
    assert page["multiValueHeaders"]["Cache-Control"] == ["no-store"]


def test_given_no_customer_locale_when_the_survey_opens_then_the_browsers_language(shop):
    page = _call(shop, "s", "GET", _survey_token("c-none"), "sv, fr-CA;q=0.8, en;q=0.5")
    assert _lang(page) == "fr-CA"
    assert "Quelle est la probabilité que vous recommandiez Example Shop" in page["body"]


def test_given_no_accept_language_when_a_forged_link_opens_then_english(shop):
    page = _call(shop, "s", "GET", _survey_token("c-de")[:-2] + "xx", None)
    assert page["statusCode"] == 403 and _lang(page) == "en"
    assert "This link is not valid." in page["body"]


@pytest.mark.parametrize(
    ("token", "status", "text"),
    [
        ("not-a-token", 400, "이 링크가 완전하지 않습니다"),
        ("forged", 403, "유효하지 않은 링크입니다."),
        ("expired", 410, "이 설문조사는 종료되었습니다."),
    ],
)
def test_given_a_survey_link_that_does_not_work_when_opened_then_the_browsers_language(
    shop, token, status, text
):
    token = {
        "forged": _survey_token("c-de")[:-2] + "xx",
        "expired": _survey_token("c-de", now=datetime(2026, 12, 1, tzinfo=UTC)),
    }.get(token, token)
    page = _call(shop, "s", "GET", token, "ko-KR,ko;q=0.9")
    assert page["statusCode"] == status and _lang(page) == "ko-KR"
    assert text in page["body"]


def test_given_an_erased_customer_when_the_survey_is_answered_then_410_in_the_browsers_language(
    shop,
):
    token = _survey_token("c-gone")
    write_tombstone("c-gone", NOW, ["email", "sms"])
    page = _call(shop, "s", "POST", token, "nl-BE", "score=9&comment=hallo")
    assert page["statusCode"] == 410 and _lang(page) == "nl-BE"
    assert "Deze link is niet meer geldig." in page["body"]
    assert get_response("camp#c-gone#o-1") is None


def test_given_a_score_off_the_scale_when_posted_then_400_with_the_form_and_the_comment_kept(shop):
    page = _call(
        shop, "s", "POST", _survey_token("c-de"), None, "score=11&comment=Sch%C3%B6n%3Cb%3E"
    )
    assert page["statusCode"] == 400 and _lang(page) == "de-DE"
    assert 'role="alert">Bitte wählen Sie eine Bewertung von 0 bis 10.</p>' in page["body"]
    assert ">Schön&lt;b&gt;</textarea>" in page["body"]
    assert get_response("camp#c-de#o-1") is None


def test_given_an_answer_when_posted_then_the_thanks_page_in_the_customers_language(shop):
    page = _call(shop, "s", "POST", _survey_token("c-zh", "csat"), "en", "score=5")
    assert page["statusCode"] == 200 and _lang(page) == "zh-CN"
    assert "<h1>感谢您的反馈！</h1>" in page["body"]
    stored = get_response("camp#c-zh#o-1")
    assert stored is not None and stored.score == 5


def test_given_an_unsubscribe_link_when_confirmed_and_posted_then_chinese_pages(shop):
    keys = signing_keys(get_settings())
    token = sign_unsubscribe(
        keys, customer_id="c-zh", channel="email", campaign_id="camp", now=NOW, ttl_days=400
    )
    confirm = _call(shop, "u", "GET", token, "de")
    assert confirm["statusCode"] == 200 and _lang(confirm) == "zh-CN"
    assert "您要停止接收来自Example Shop的电子邮件吗？" in confirm["body"]
    before = get_customer("c-zh")
    assert before is not None and before["consent"]["email"] is True  # GET changes nothing
    done = _call(shop, "u", "POST", token, "de", "List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200 and _lang(done) == "zh-CN"
    assert "<h1>您已退订</h1>" in done["body"]


def test_given_a_forged_unsubscribe_link_when_opened_then_the_browsers_language(shop):
    page = _call(shop, "u", "GET", "abc.def", "pl-PL,pl;q=0.9")
    assert page["statusCode"] == 403 and _lang(page) == "pl-PL"
    assert "Ten link jest nieprawidłowy." in page["body"]


def test_given_a_topic_link_when_confirmed_and_posted_then_the_pages_name_the_topic(shop):
    keys = signing_keys(get_settings())
    token = sign_unsubscribe(
        keys,
        customer_id="c-de",
        channel="email",
        campaign_id="camp",
        now=NOW,
        ttl_days=400,
        topic="birthday",
    )
    confirm = _call(shop, "u", "GET", token, None)
    assert (
        'keine E-Mails zum Thema „<span lang="de">Geburtstagsangebote</span>“ mehr'
        in confirm["body"]
    )
    done = _call(shop, "u", "POST", token, None, "List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200 and "<h1>Sie sind abgemeldet</h1>" in done["body"]
    assert "Andere Nachrichten, die Sie abonniert haben, erhalten Sie weiterhin." in done["body"]
