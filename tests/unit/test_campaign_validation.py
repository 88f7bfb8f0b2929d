"""Campaign documents: the DESIGN example is accepted as written; bad ones name the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lifecycle.campaigns.model import CampaignError, parse_campaign
from lifecycle.occasions.birthday import BirthdayOccasion

EXAMPLE: dict[str, Any] = {
    "campaign_id": "bday-2027",
    "name": "Birthday 20% off",
    "status": "active",
    "occasion": {"type": "birthday", "feb29": "feb28"},
    "channels": ["email"],
    "send_at_local": "09:00",
    "default_timezone": "UTC",
    "audience": {"all": [{"attr": "country", "in": ["ES", "US"]}]},
    "offer": {"percent_off": 20, "valid_days": 14, "code_prefix": "BDAY"},
    "content": {
        "email": {
            "en": {
                "subject": "Happy birthday, {{ first_name }}!",
                "text": "Here is {{ offer.percent_off }}% off: {{ offer.code }}",
            }
        }
    },
}


def test_given_design_example_when_parsed_then_accepted_as_written():
    campaign = parse_campaign(EXAMPLE)
    assert campaign.campaign_id == "bday-2027"
    assert campaign.occasion == BirthdayOccasion(type="birthday", feb29="feb28")
    assert campaign.document()["audience"] == EXAMPLE["audience"]


def test_given_minimal_campaign_when_parsed_then_defaults_apply():
    raw = {
        "campaign_id": "b",
        "name": "B",
        "occasion": {"type": "birthday"},
        "channels": ["email"],
        "content": {"email": {"en": {"subject": "Hi", "text": "Hello {{ first_name }}"}}},
    }
    campaign = parse_campaign(raw)
    assert (campaign.status, campaign.send_at_local, campaign.default_timezone) == (
        "draft",
        "09:00",
        "UTC",
    )
    assert campaign.occasion == BirthdayOccasion(type="birthday", feb29="feb28")


def _set(path: str, value: Any) -> Any:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return mutate


_DELETE = object()

BAD = [
    ("no-id", _set("campaign_id", _DELETE), "campaign_id"),
    ("id-with-hash", _set("campaign_id", "a#b"), "campaign_id"),
    ("empty-name", _set("name", ""), "name"),
    ("unknown-status", _set("status", "running"), "status"),
    ("unknown-occasion", _set("occasion", {"type": "anniversary"}), "occasion.type"),
    ("occasion-without-type", _set("occasion", {"feb29": "feb28"}), "occasion.type"),
    ("bad-feb29-rule", _set("occasion.feb29", "mar2"), "occasion.feb29"),
    ("occasion-extra-key", _set("occasion.days", 3), "occasion.days"),
    ("no-channels", _set("channels", []), "channels"),
    ("unknown-channel", _set("channels", ["pigeon"]), "channels[0]"),
    ("repeated-channel", _set("channels", ["email", "email"]), "channels"),
    ("bad-time", _set("send_at_local", "9am"), "send_at_local"),
    ("hour-25", _set("send_at_local", "25:00"), "send_at_local"),
    ("bad-timezone", _set("default_timezone", "Mars/Base"), "default_timezone"),
    ("offer-over-100", _set("offer.percent_off", 150), "offer.percent_off"),
    ("offer-zero", _set("offer.percent_off", 0), "offer.percent_off"),
    ("offer-days-zero", _set("offer.valid_days", 0), "offer.valid_days"),
    ("offer-prefix-lower", _set("offer.code_prefix", "bday"), "offer.code_prefix"),
    ("offer-unknown-key", _set("offer.amount", 5), "offer.amount"),
    ("no-content", _set("content", {}), "content.email"),
    ("empty-email-content", _set("content.email", {}), "content.email"),
    ("undefined-variable", _set("content.email.en.text", "{{ coupon }}"), "content.email.en.text"),
    ("bad-syntax", _set("content.email.en.subject", "{% if %}"), "content.email.en.subject"),
    (
        "unknown-attribute",
        _set("content.email.en.text", "{{ offer.nope }}"),
        "content.email.en.text",
    ),
    ("no-subject", _set("content.email.en.subject", _DELETE), "content.email.en.subject"),
    (
        "bad-locale-key",
        _set("content.email", {"english!": {"subject": "s", "text": "t"}}),
        "content.email.english!",
    ),
    ("bad-audience-op", _set("audience", {"attr": "country", "like": "E"}), "audience"),
    ("empty-audience-all", _set("audience", {"all": []}), "audience.all"),
    (
        "hostile-template",
        _set("content.email.en.text", "{{ ''.__class__ }}"),
        "content.email.en.text",
    ),
    ("offer-in-template-without-offer", _set("offer", _DELETE), "content.email.en.text"),
]


@pytest.mark.parametrize(
    ("mutate", "field"), [(m, f) for _, m, f in BAD], ids=[i for i, _, _ in BAD]
)
def test_given_bad_campaign_when_parsed_then_error_names_the_field(mutate, field):
    doc = copy.deepcopy(EXAMPLE)
    mutate(doc)
    with pytest.raises(CampaignError) as caught:
        parse_campaign(doc)
    assert field in [error.field for error in caught.value.errors], caught.value.errors


@pytest.mark.parametrize("raw", [None, [], "bday", 3])
def test_given_non_object_when_parsed_then_campaign_error(raw):
    with pytest.raises(CampaignError) as caught:
        parse_campaign(raw)
    assert caught.value.errors[0].field == "campaign"


def test_given_several_problems_when_parsed_then_all_reported():
    doc = copy.deepcopy(EXAMPLE)
    doc["send_at_local"] = "99:99"
    doc["default_timezone"] = "Nowhere/City"
    with pytest.raises(CampaignError) as caught:
        parse_campaign(doc)
    assert {e.field for e in caught.value.errors} >= {"send_at_local", "default_timezone"}


def test_given_unknown_top_level_field_when_parsed_then_kept_as_warning():
    doc = copy.deepcopy(EXAMPLE)
    doc["description"] = "spring"
    assert parse_campaign(doc).unknown_fields == ["description"]


def _with(
    occasion: dict[str, Any], content: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE)
    doc.pop("offer")
    doc["occasion"] = occasion
    doc["content"] = content or {"email": {"en": {"subject": "Hi", "text": "Hello"}}}
    doc.update(extra)
    return doc


GOOD_OCCASIONS: list[dict[str, Any]] = [
    {
        "type": "holiday",
        "countries": ["US", "DE", "CN"],
        "holidays": ["Christmas Day", "Chinese New Year (Spring Festival)"],
        "custom": [{"name": "Singles' Day", "month": 11, "day": 11}],
        "lunar": [{"name": "Mid-Autumn Festival", "month": 8, "day": 15}],
    },
    {"type": "inactivity", "days": 30},
    {"type": "replenishment", "days_after_purchase": 30, "skus": ["COFFEE-1KG"]},
    {"type": "post_purchase_survey", "delay_days": 3, "kind": "nps", "throttle_days": 30},
    {"type": "post_purchase_survey", "delay_days": 3, "kind": "csat"},
]


@pytest.mark.parametrize("occasion", GOOD_OCCASIONS, ids=lambda o: o["type"])
def test_given_issue_occasion_examples_when_parsed_then_accepted(occasion):
    assert parse_campaign(_with(occasion)).occasion.type == occasion["type"]


BAD_OCCASIONS = [
    (
        "holiday-unknown-name",
        {"type": "holiday", "countries": ["US"], "holidays": ["Xmas"]},
        "occasion",
    ),
    (
        "holiday-no-calendar",
        {"type": "holiday", "countries": ["XX"], "holidays": ["Christmas Day"]},
        "occasion.countries",
    ),
    ("holiday-nothing", {"type": "holiday", "countries": ["US"]}, "occasion"),
    (
        "holiday-no-countries",
        {"type": "holiday", "countries": [], "holidays": ["Christmas Day"]},
        "occasion.countries",
    ),
    (
        "custom-feb30",
        {"type": "holiday", "countries": ["US"], "custom": [{"name": "X", "month": 2, "day": 30}]},
        "occasion.custom[0]",
    ),
    (
        "lunar-day-31",
        {"type": "holiday", "countries": ["CN"], "lunar": [{"name": "X", "month": 8, "day": 31}]},
        "occasion.lunar[0].day",
    ),
    ("inactivity-zero", {"type": "inactivity", "days": 0}, "occasion.days"),
    (
        "replenishment-no-skus",
        {"type": "replenishment", "days_after_purchase": 30, "skus": []},
        "occasion.skus",
    ),
    ("survey-bad-kind", {"type": "post_purchase_survey", "kind": "ces"}, "occasion.kind"),
    (
        "survey-negative-delay",
        {"type": "post_purchase_survey", "delay_days": -1},
        "occasion.delay_days",
    ),
]


@pytest.mark.parametrize(
    ("occasion", "field"),
    [(o, f) for _, o, f in BAD_OCCASIONS],
    ids=[i for i, _, _ in BAD_OCCASIONS],
)
def test_given_bad_occasion_when_parsed_then_error_names_the_field(occasion, field):
    with pytest.raises(CampaignError) as caught:
        parse_campaign(_with(occasion))
    assert field in [e.field for e in caught.value.errors], caught.value.errors


@pytest.mark.parametrize(
    ("occasion", "source", "ok"),
    [
        ({"type": "birthday"}, "{{ holiday.name }}", False),
        (GOOD_OCCASIONS[0], "{{ holiday.name }} on {{ holiday.date }}", True),
        (GOOD_OCCASIONS[2], "{{ product.name }} from {{ order.order_id }}", True),
        (GOOD_OCCASIONS[3], "{{ survey_url }}", True),
        (GOOD_OCCASIONS[1], "{{ survey_url }}", False),
        (GOOD_OCCASIONS[1], "{{ occasion.days }} days", True),
    ],
)
def test_given_occasion_when_template_uses_variables_then_only_its_own_allowed(
    occasion, source, ok
):
    doc = _with(occasion, {"email": {"en": {"subject": "Hi", "text": source}}})
    if ok:
        parse_campaign(doc)
    else:
        with pytest.raises(CampaignError):
            parse_campaign(doc)


def test_given_sms_channel_without_sms_content_when_parsed_then_error():
    with pytest.raises(CampaignError) as caught:
        parse_campaign(_with({"type": "birthday"}, channels=["email", "sms"]))
    assert "content.sms" in [e.field for e in caught.value.errors]


def test_given_sms_text_too_long_when_parsed_then_segments_reported():
    content = {"sms": {"en": {"text": "{{ survey_url }} " + "long text " * 20}}}
    with pytest.raises(CampaignError, match="segments"):
        parse_campaign(_with(GOOD_OCCASIONS[3], content, channels=["sms"], sms_max_segments=1))
    parse_campaign(_with(GOOD_OCCASIONS[3], content, channels=["sms"], sms_max_segments=3))


def test_given_no_category_or_topic_when_parsed_then_marketing_and_occasion_type_stored():
    campaign = parse_campaign(EXAMPLE)
    assert (campaign.category, campaign.topic, campaign.is_marketing) == (
        "marketing",
        "birthday",
        True,
    )
    assert campaign.document()["topic"] == "birthday"
    assert campaign.document()["category"] == "marketing"


def test_given_service_category_and_own_topic_when_parsed_then_kept():
    campaign = parse_campaign({**EXAMPLE, "category": "service", "topic": "vip-news_2"})
    assert (campaign.category, campaign.topic, campaign.is_marketing) == (
        "service",
        "vip-news_2",
        False,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "promo"}, "category"),
        ({"category": None}, "category"),
        ({"topic": "Birthday"}, "topic"),
        ({"topic": ""}, "topic"),
        ({"topic": "-x"}, "topic"),
        ({"topic": "a" * 41}, "topic"),
        ({"topic": "vip news"}, "topic"),
        ({"topic": 7}, "topic"),
        ({"topic": "x\n"}, "topic"),
    ],
)
def test_given_bad_category_or_topic_when_parsed_then_field_error(changes, field):
    with pytest.raises(CampaignError) as caught:
        parse_campaign({**EXAMPLE, **changes})
    assert [error.field for error in caught.value.errors] == [field]


def test_given_unknown_occasion_without_topic_when_parsed_then_only_the_occasion_is_reported():
    with pytest.raises(CampaignError) as caught:
        parse_campaign({**EXAMPLE, "occasion": {"type": "nope"}})
    assert [error.field for error in caught.value.errors] == ["occasion.type"]
