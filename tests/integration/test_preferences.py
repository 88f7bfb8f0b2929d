"""The preference centre and one-click unsubscribe through the real handler (REST proxy
events from events/unsubscribe/), on moto: what GET shows, what POST saves and records, undo,
per-topic one-click, and every way a link or a form can be wrong."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import sign, sign_preferences, sign_unsubscribe
from lifecycle.features.erasure import erase_customer
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.features.preferences import consent_history
from lifecycle.store.consent import events_of
from lifecycle.store.customers import get_customer
from tests.builders import campaign_doc, customer_doc, email_content
from tests.events import load_event

T0 = datetime(2027, 3, 13, 9, 0, tzinfo=UTC)
CAMPAIGNS = [
    campaign_doc("bday", content=email_content("Happy birthday", "Hi")),
    campaign_doc(
        "news",
        occasion={"type": "inactivity", "days": 30},
        topic="newsletter",
        topic_names={"en": "Newsletter", "de": "Rundbrief"},
        channels=["email", "sms"],
        content={
            "email": {"en": {"subject": "News", "text": "News"}},
            "sms": {"en": {"text": "News"}},
        },
    ),
    campaign_doc("draft-one", status="draft", topic="secret"),
    campaign_doc(
        "survey",
        category="service",
        occasion={"type": "post_purchase_survey", "delay_days": 3, "kind": "nps"},
        content=email_content("How was it?", "Tell us {{ survey_url }}"),
    ),
]


@pytest.fixture
def world(aws, clock):
    clock.set(T0)
    report = import_campaigns(json.dumps(CAMPAIGNS), "campaigns.json", T0)
    assert not report.rejected, report.rejected
    customers = [
        customer_doc("c-001", locale="de-DE", phone="+4915112345678", consent={"email": True}),
        customer_doc("c-002"),
    ]
    import_customers([json.dumps(c) for c in customers], "customers.jsonl", T0)
    return aws


def _call(aws: Any, name: str, token: str, body: str | None = None, **extra: Any) -> Any:
    event = load_event(f"unsubscribe/{name}")
    prefix = "/p/" if name.startswith("preferences") else "/u/"
    event["path"] = f"{prefix}{token}"
    event["pathParameters"] = {"token": token}
    if body is not None:
        event["body"] = body
    event.update(extra)
    return load_handler(aws.functions["UnsubscribeFunction"])(
        event, FakeLambdaContext(function_name="unsubscribe")
    )


def _prefs_token(customer_id: str = "c-001", now: datetime = T0, ttl: int = 400) -> str:
    key = signing_keys(get_settings())
    return sign_preferences(key, customer_id=customer_id, now=now, ttl_days=ttl)


def _form(**fields: Any) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name.replace("__", ":"), item))
    return urlencode(pairs)


def _customer(customer_id: str = "c-001") -> dict[str, Any]:
    customer = get_customer(customer_id)
    assert customer is not None
    return customer


ALL_SHOWN = ["channel:email", "topic:email:birthday", "topic:email:newsletter"]


def test_given_link_when_get_then_page_lists_topics_per_channel_and_nothing_changes(world):
    before, trail = _customer(), events_of("c-001")
    assert [e.via for e in trail] == ["import"]  # consent given by the customer file
    response = _call(world, "preferences_get.json", _prefs_token())
    assert response["statusCode"] == 200
    page = response["body"]
    # The customer's language (de-DE), on the shared page layout.
    assert '<html lang="de-DE">' in page and "Ihre Einstellungen" in page
    # Marketing topics of active/paused campaigns on the customer's channels, named in German.
    assert re.search(
        r'name="topic:email:birthday"[^>]* checked>\s*<span>Geburtstagsangebote<', page
    )
    assert "<span>Rundbrief</span>" in page
    assert "secret" not in page  # a draft campaign's topic
    assert "post_purchase_survey" not in page  # a service campaign
    # SMS was never agreed to: no switch that would give first consent by link.
    assert 'name="channel:sms"' not in page and "nicht für SMS angemeldet" in page
    assert "Von allem abmelden" in page
    assert _customer() == before and events_of("c-001") == trail


def test_given_topic_unticked_when_post_then_saved_recorded_and_undo_restores_exactly(world):
    token = _prefs_token()
    body = _form(action="save", shown=ALL_SHOWN, channel__email="on", topic__email__birthday="on")
    response = _call(world, "preferences_post.json", token, body)
    assert response["statusCode"] == 200
    assert "Ihre Einstellungen sind gespeichert." in response["body"]
    assert _customer()["topics_off"] == {"email": ["newsletter"]}
    [event] = events_of("c-001")[-1:]
    assert (event.via, event.changes) == (
        "page",
        [{"channel": "email", "action": "topic_off", "topic": "newsletter"}],
    )
    undo = re.search(r'name="event" value="([^"]+)"', response["body"])
    assert undo is not None and undo.group(1) == event.event_id

    undone = _call(world, "preferences_post.json", token, _form(action="undo", event=undo.group(1)))
    assert undone["statusCode"] == 200 and "rückgängig gemacht" in undone["body"]
    assert _customer()["topics_off"] == {}
    last = events_of("c-001")[-1]
    assert (last.via, last.undoes) == ("undo", event.event_id)
    assert last.changes == [{"channel": "email", "action": "topic_on", "topic": "newsletter"}]


def test_given_everything_off_then_undo_when_posted_then_consent_and_times_come_back(world):
    token = _prefs_token()
    before = _customer()
    off = _call(world, "preferences_post.json", token, _form(action="unsubscribe_all"))
    assert off["statusCode"] == 200
    assert _customer()["unsubscribed"] == {"email": "2027-03-13T09:00:00Z"}
    assert _customer()["consent"]["email"] is False
    event = events_of("c-001")[-1]
    response = _call(
        world, "preferences_post.json", token, _form(action="undo", event=event.event_id)
    )
    assert response["statusCode"] == 200
    after = _customer()
    assert (after["consent"], after["unsubscribed"], after["topics_off"]) == (
        before["consent"],
        before["unsubscribed"],
        before["topics_off"],
    )


def test_given_changed_since_when_old_change_undone_then_409_and_nothing_overwritten(world):
    token = _prefs_token()
    first = _form(action="save", shown=ALL_SHOWN, channel__email="on", topic__email__birthday="on")
    _call(world, "preferences_post.json", token, first)
    event = events_of("c-001")[-1]
    _call(world, "preferences_post.json", token, _form(action="unsubscribe_all"))
    response = _call(
        world, "preferences_post.json", token, _form(action="undo", event=event.event_id)
    )
    assert response["statusCode"] == 409
    assert _customer()["unsubscribed"] == {"email": "2027-03-13T09:00:00Z"}


def test_given_marketing_one_click_with_topic_when_posted_then_only_that_topic_is_off(world):
    key = signing_keys(get_settings())
    token = sign_unsubscribe(
        key,
        customer_id="c-001",
        channel="email",
        campaign_id="news",
        now=T0,
        ttl_days=400,
        topic="newsletter",
    )
    first = _call(world, "post_one_click.json", token)
    again = _call(world, "post_one_click.json", token)
    assert (first["statusCode"], again["statusCode"]) == (200, 200)
    customer = _customer()
    assert customer["topics_off"] == {"email": ["newsletter"]}
    assert customer["consent"]["email"] is True and customer["unsubscribed"] == {}
    [event] = events_of("c-001")[1:]  # the import's consent_given, then this one only
    assert (event.via, event.campaign_id) == ("one_click", "news")


def test_given_old_token_without_topic_when_one_click_then_whole_channel_and_recorded(world):
    key = signing_keys(get_settings())
    token = sign_unsubscribe(
        key, customer_id="c-002", channel="email", campaign_id="bday", now=T0, ttl_days=400
    )
    assert _call(world, "post_one_click.json", token)["statusCode"] == 200
    assert _customer("c-002")["unsubscribed"] == {"email": "2027-03-13T09:00:00Z"}
    assert [e["changes"] for e in consent_history("c-002")] == [
        [{"channel": "email", "action": "consent_given"}],
        [{"channel": "email", "action": "unsubscribed"}],
    ]
    assert [e["via"] for e in consent_history("c-002")] == ["import", "one_click"]


def test_given_erased_customer_when_link_used_then_410_and_nothing_stored(world, clock):
    token = _prefs_token()
    erase_customer("c-001", T0)
    assert events_of("c-001") == []  # erasure deleted the trail
    stored = _customer()
    for name, body in (
        ("preferences_get.json", None),
        ("preferences_post.json", _form(action="unsubscribe_all")),
    ):
        assert _call(world, name, token, body)["statusCode"] == 410
    assert _customer() == stored and events_of("c-001") == []


@pytest.mark.parametrize(
    ("make_token", "status"),
    [
        (lambda: _prefs_token()[:-3] + "abc", 403),
        (lambda: "garbage", 400),
        (lambda: "a" * 2000, 400),
        (lambda: _prefs_token(now=T0 - timedelta(days=401)), 410),
        # An unsubscribe or survey token is not a preference link.
        (
            lambda: sign_unsubscribe(
                signing_keys(get_settings()),
                customer_id="c-001",
                channel="email",
                campaign_id="bday",
                now=T0,
                ttl_days=400,
            ),
            403,
        ),
        (lambda: sign(signing_keys(get_settings()), "prefs", {"x": 1}, T0, 400), 400),
    ],
    ids=["forged", "malformed", "too-long", "expired", "other-kind", "no-customer"],
)
@pytest.mark.parametrize("name", ["preferences_get.json", "preferences_post.json"])
def test_given_bad_link_when_called_then_4xx_and_nothing_changed(world, make_token, status, name):
    before = _customer()
    assert _call(world, name, make_token())["statusCode"] == status
    assert _customer() == before


@pytest.mark.parametrize(
    "body",
    [
        "",
        "action=save&action=save",
        "action=delete",
        "not a form",
        "action=save&shown=channel%3Afax",
        "action=save&shown=topic%3Aemail%3ABAD%20TOPIC",
        "action=save&channel%3Aemail=on",  # a control the page did not show
        "action=save&shown=channel%3Aemail&channel%3Aemail=yes",
        "action=undo&event=nope",
        "action=undo&event=2027-03-13T09%3A00%3A00Z%23abcdef",  # no such change
        "action=unsubscribe_all&shown=channel%3Aemail",
        "action=save&shown=%FF",
        "action=save&" + "&".join(f"shown=topic%3Aemail%3At{n}" for n in range(300)),
        "x=" + "a" * 20_000,
    ],
)
def test_given_bad_form_when_posted_then_400_and_nothing_changed(world, body):
    before = _customer()
    response = _call(world, "preferences_post.json", _prefs_token(), body)
    assert response["statusCode"] == 400
    assert _customer() == before


def test_given_base64_body_that_is_not_base64_when_posted_then_400(world):
    response = _call(
        world, "preferences_post.json", _prefs_token(), "%%%not-base64", isBase64Encoded=True
    )
    assert response["statusCode"] == 400


def test_given_base64_form_when_posted_then_saved(world):
    body = base64.b64encode(_form(action="unsubscribe_all").encode()).decode()
    response = _call(world, "preferences_post.json", _prefs_token(), body, isBase64Encoded=True)
    assert response["statusCode"] == 200
    assert "email" in _customer()["unsubscribed"]


def test_given_fixture_post_when_sent_then_newsletter_off_and_history_api_shows_it(world):
    response = _call(world, "preferences_post.json", _prefs_token())  # the fixture's own body
    assert response["statusCode"] == 200
    assert _customer()["topics_off"] == {"email": ["birthday"]}
    api = load_handler(world.functions["CampaignApiFunction"])
    event = load_event("campaign_api/customer_history.json")
    event["path"] = "/customers/c-001/history"
    event["pathParameters"] = {"customer_id": "c-001"}
    event["queryStringParameters"] = None
    event["multiValueQueryStringParameters"] = None
    result = api(event, FakeLambdaContext(function_name="api"))
    assert result["statusCode"] == 200, result["body"]
    trail = json.loads(result["body"])["consent_events"]
    assert [(e["via"], e["changes"]) for e in trail][-1] == (
        "page",
        [{"channel": "email", "action": "topic_off", "topic": "birthday"}],
    )


def test_given_customer_without_locale_when_browser_asks_japanese_then_page_and_names_in_japanese(
    world,
):
    event_headers = {"Accept-Language": "ja,en;q=0.5"}
    response = _call(
        world,
        "preferences_get.json",
        _prefs_token("c-002"),
        headers={**load_event("unsubscribe/preferences_get.json")["headers"], **event_headers},
    )
    page = response["body"]
    assert response["statusCode"] == 200 and '<html lang="ja">' in page
    assert "<span>誕生日特典</span>" in page  # built-in name of the birthday topic
    assert '<span lang="en">Newsletter</span>' in page  # the campaign names it in en, de only
