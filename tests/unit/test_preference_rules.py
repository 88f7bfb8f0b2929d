"""Consent state transitions, topic opt-outs, preference tokens, topic names, the marketing
footer and the preference form: pure rules, no AWS."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lifecycle.campaigns.model import CampaignError, parse_campaign
from lifecycle.core.tokens import (
    TokenError,
    sign,
    sign_preferences,
    sign_unsubscribe,
    verify_preferences,
    verify_unsubscribe,
)
from lifecycle.features.preferences import FormError, parse_form, save_change
from lifecycle.messages.channels.base import Rendered
from lifecycle.messages.channels.email import with_marketing_footer
from lifecycle.rules.consent import (
    ConsentState,
    changes,
    consent_block,
    one_click,
    resubscribe_channel,
    set_topics,
    switch_topic,
    unsubscribe_channel,
)
from lifecycle.rules.topics import topic_name
from tests.builders import campaign_doc

KEY = b"k" * 32
NOW = datetime(2027, 3, 13, 9, 0, tzinfo=UTC)
AT = "2027-03-13T09:00:00Z"
SUBSCRIBED = ConsentState(consent={"email": True, "sms": False})


def _customer(**fields: Any) -> dict[str, Any]:
    return {"customer_id": "c-1", "email": "a@example.com", "consent": {"email": True}, **fields}


# ----------------------------------------------------------------------------- consent_block
def test_given_topic_switched_off_when_marketing_message_then_topic_unsubscribed():
    customer = _customer(topics_off={"email": ["birthday"]})
    assert consent_block(customer, "email", "birthday") == "topic_unsubscribed"
    assert consent_block(customer, "email", "holiday") is None
    assert consent_block(customer, "sms", "birthday") == "no_consent"


def test_given_topic_switched_off_when_service_message_then_topic_opt_out_does_not_apply():
    customer = _customer(topics_off={"email": ["post_purchase_survey"]})
    assert consent_block(customer, "email", "post_purchase_survey", marketing=False) is None


def test_given_unsubscribed_from_everything_when_any_message_then_unsubscribed_first():
    customer = _customer(unsubscribed={"email": AT}, topics_off={"email": ["birthday"]})
    assert consent_block(customer, "email", "birthday") == "unsubscribed"
    assert consent_block(customer, "email", "survey", marketing=False) == "unsubscribed"


def test_given_no_topic_when_checked_then_old_behaviour():
    assert consent_block(_customer(topics_off={"email": ["x"]}), "email") is None


# ----------------------------------------------------------------------------- transitions
def test_given_subscribed_when_unsubscribed_twice_then_first_time_kept_and_one_change():
    once = unsubscribe_channel(SUBSCRIBED, "email", AT)
    twice = unsubscribe_channel(once, "email", "2027-03-14T00:00:00Z")
    assert twice == once and once.unsubscribed == {"email": AT} and not once.subscribed("email")
    assert changes(SUBSCRIBED, twice) == [{"channel": "email", "action": "unsubscribed"}]


def test_given_never_consented_channel_when_resubscribed_then_nothing_changes():
    assert resubscribe_channel(SUBSCRIBED, "sms") == SUBSCRIBED


def test_given_unsubscribed_when_resubscribed_then_consent_back_and_recorded():
    off = unsubscribe_channel(SUBSCRIBED, "email", AT)
    on = resubscribe_channel(off, "email")
    assert on == SUBSCRIBED
    assert changes(off, on) == [{"channel": "email", "action": "resubscribed"}]


def test_given_topics_when_switched_then_sorted_unique_and_empty_channel_dropped():
    state = switch_topic(switch_topic(SUBSCRIBED, "email", "b", False), "email", "a", False)
    assert state.topics_off == {"email": ("a", "b")}
    assert switch_topic(state, "email", "a", False) == state
    cleared = set_topics(state, "email", [])
    assert cleared.topics_off == {}
    assert changes(state, cleared) == [
        {"channel": "email", "action": "topic_on", "topic": "a"},
        {"channel": "email", "action": "topic_on", "topic": "b"},
    ]


def test_given_snapshot_when_read_back_then_same_state_exactly():
    state = switch_topic(unsubscribe_channel(SUBSCRIBED, "email", AT), "sms", "x", False)
    assert ConsentState.of(json.loads(json.dumps(state.snapshot()))) == state


def test_given_one_click_with_topic_then_only_topic_without_topic_then_channel():
    assert one_click(SUBSCRIBED, "email", "birthday", AT).topics_off == {"email": ("birthday",)}
    assert one_click(SUBSCRIBED, "email", None, AT).unsubscribed == {"email": AT}


def test_given_import_consent_change_when_described_then_given_or_withdrawn():
    after = ConsentState(consent={"email": False, "sms": True})
    assert changes(SUBSCRIBED, after) == [
        {"channel": "email", "action": "consent_withdrawn"},
        {"channel": "sms", "action": "consent_given"},
    ]


# ----------------------------------------------------------------------------- tokens
def test_given_preference_token_when_verified_then_customer_and_year_long_validity():
    token = sign_preferences(KEY, customer_id="c-1", now=NOW, ttl_days=400)
    claim = verify_preferences(KEY, token, NOW + timedelta(days=366))
    assert claim.customer_id == "c-1"


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (lambda: sign_preferences(KEY, customer_id="c-1", now=NOW, ttl_days=1), "expired"),
        (
            lambda: sign_unsubscribe(
                KEY, customer_id="c-1", channel="email", campaign_id="x", now=NOW, ttl_days=400
            ),
            "forged",  # another kind of link is not a preference link
        ),
        (lambda: sign(KEY, "prefs", {"c": 7}, NOW, 400), "malformed"),
        (lambda: sign(KEY, "prefs", {}, NOW, 400), "malformed"),
        (lambda: "x.y", "forged"),
        (lambda: "", "malformed"),
    ],
)
def test_given_bad_preference_token_when_verified_then_token_error(token, kind):
    with pytest.raises(TokenError) as caught:
        verify_preferences(KEY, token(), NOW + timedelta(days=2))
    assert caught.value.kind == kind


def test_given_preference_token_when_used_as_unsubscribe_then_forged():
    token = sign_preferences(KEY, customer_id="c-1", now=NOW, ttl_days=400)
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(KEY, token, NOW)
    assert caught.value.kind == "forged"


def test_given_unsubscribe_token_with_topic_when_verified_then_topic_carried():
    token = sign_unsubscribe(
        KEY,
        customer_id="c-1",
        channel="email",
        campaign_id="x",
        now=NOW,
        ttl_days=400,
        topic="birthday",
    )
    assert verify_unsubscribe(KEY, token, NOW).topic == "birthday"


def test_given_old_unsubscribe_token_without_topic_when_verified_then_whole_channel():
    # A token made before topics existed: payload {c, ch, k, e} (no "t", no kid).
    body = {"c": "c-1", "ch": "email", "k": "x", "e": int((NOW + timedelta(days=9)).timestamp())}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    from lifecycle.core.tokens import _mac

    claim = verify_unsubscribe(KEY, f"{payload}.{_mac(KEY, payload)}", NOW)
    assert claim.topic is None and claim.channel == "email"


def test_given_topic_that_is_not_text_when_verified_then_malformed():
    token = sign(KEY, "unsub", {"c": "c-1", "ch": "email", "k": "x", "t": 5}, NOW, 9)
    with pytest.raises(TokenError) as caught:
        verify_unsubscribe(KEY, token, NOW)
    assert caught.value.kind == "malformed"


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("locale", "name", "tag"),
    [
        ("de-DE", "Geburtstagsangebote", "de"),
        ("zh_CN", "生日优惠", "zh-CN"),
        ("ja", "誕生日特典", "ja"),
        ("sv-SE", "Birthday offers", "en"),
        (None, "Birthday offers", "en"),
    ],
)
def test_given_customer_locale_when_topic_named_then_built_in_name(locale, name, tag):
    assert topic_name("birthday", locale) == (name, tag)


def test_given_custom_topic_when_named_then_campaign_names_or_its_id():
    names = {"de": "Rundbrief", "en": "Newsletter"}
    assert topic_name("newsletter", "de-AT", names) == ("Rundbrief", "de")
    assert topic_name("newsletter", "fr", names) == ("Newsletter", "en")
    assert topic_name("new_arrivals", "fr") == ("new arrivals", "en")


@pytest.mark.parametrize(
    "names",
    [
        {"english": "x"},
        {"en": ""},
        {"en": "x" * 81},
        {"en": "a\x00b"},
        {f"l{i:02d}"[:3]: "x" for i in range(21)},
        {"en": 5},
    ],
)
def test_given_bad_topic_names_when_campaign_validated_then_field_error(names):
    with pytest.raises(CampaignError) as caught:
        parse_campaign(campaign_doc("c", topic="news", topic_names=names))
    assert any(error.field.startswith("topic_names") for error in caught.value.errors)


def test_given_topic_names_when_campaign_validated_then_kept():
    campaign = parse_campaign(campaign_doc("c", topic="news", topic_names={"zh-CN": "新闻"}))
    assert campaign.topic_names == {"zh-CN": "新闻"}


# ----------------------------------------------------------------------------- footer
def test_given_marketing_footer_when_added_then_link_company_and_address_in_text_and_html():
    rendered = Rendered(
        channel="email",
        locale="de",
        subject="Hallo",
        text="Hallo\n\n-- \nAbmelden: https://x/u/t\n",
        html='<!DOCTYPE html><html lang="de"><body><p>Hallo</p></body></html>',
    )
    footer = {
        "preferences_url": "https://x/p/tok",
        "company_name": "Example Shop",
        "postal_address": "1 Main St, Springfield",
    }
    out = with_marketing_footer(rendered, footer)
    assert "Einstellungen verwalten: https://x/p/tok" in out.text
    assert "Example Shop · 1 Main St, Springfield" in out.text
    assert out.html is not None and out.html.endswith("</p></body></html>")
    assert '<a href="https://x/p/tok">' in out.html and "1 Main St, Springfield" in out.html


# ----------------------------------------------------------------------------- the form
def test_given_unchecked_shown_topic_when_form_saved_then_topic_off_only():
    fields = parse_form(
        "action=save&shown=channel%3Aemail&channel%3Aemail=on&shown=topic%3Aemail%3Aa"
    )
    state = save_change(fields, AT)(SUBSCRIBED)
    assert state.topics_off == {"email": ("a",)} and state.subscribed("email")


@pytest.mark.parametrize(
    "body",
    ["a", "action=save&shown=topic%3Asms%3A_x", "x=%FF", "action=save&topic%3Aemail%3Aa=on"],
)
def test_given_bad_form_when_read_then_form_error(body):
    with pytest.raises(FormError):
        save_change(parse_form(body), AT)(SUBSCRIBED)
