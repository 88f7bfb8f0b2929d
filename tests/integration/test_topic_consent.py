"""Topic opt-outs on the pipeline (moto): the planner and the sender skip a marketing message
whose topic the customer switched off with ``topic_unsubscribed``; the composed e-mail names
its topic in the one-click link and carries the preference centre footer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy

import pytest

from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import verify_preferences, verify_unsubscribe
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.pipeline.planner import PlanSettings, plan_dated
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.rules.consent import switch_topic
from lifecycle.store import ledger
from lifecycle.store.consent import PAGE, events_of
from lifecycle.store.customers import save_consent
from tests.builders import campaign_doc, customer_doc, email_content

KEY = b"integration-test-signing-key"
T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
SEND = datetime(2027, 3, 14, 9, 1, tzinfo=UTC)
SETTINGS = PlanSettings(shards=4, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15))


@pytest.fixture
def deps(aws):
    return SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))


@pytest.fixture
def seeded(aws):
    campaigns = [
        campaign_doc("bday", content=email_content("Happy birthday", "Hi {{ preferences_url }}")),
        campaign_doc(
            "bday-service",
            category="service",
            content=email_content("Your birthday", "Service note"),
        ),
    ]
    assert not import_campaigns(json.dumps(campaigns), "campaigns.json", T0).rejected
    lines = [
        json.dumps(customer_doc(cid, birthday="1990-03-14", timezone="UTC"))
        for cid in ("c-001", "c-002", "c-003")
    ]
    import_customers(lines, "customers.jsonl", T0)
    # c-001 switched the birthday topic off before planning.
    off = lambda state: switch_topic(state, "email", "birthday", on=False)  # noqa: E731
    assert save_consent("c-001", off, PAGE, T0) is not None


def _sent() -> list[str]:
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends["123456789012"]["us-east-1"].sent_messages]


def test_given_topic_off_when_planned_then_marketing_skipped_and_service_queued(seeded):
    report = plan_dated(T0, KEY, SETTINGS)
    assert report.created == {"queued": 5, "topic_unsubscribed": 1}
    skipped = ledger.get("bday#c-001#2027#email")
    assert skipped is not None and (skipped.status, skipped.reason) == (
        "skipped",
        "topic_unsubscribed",
    )
    service = ledger.get("bday-service#c-001#2027#email")
    assert service is not None and service.status == "queued"


def test_given_topic_off_after_planning_when_sent_then_skipped_topic_unsubscribed(seeded, deps):
    plan_dated(T0, KEY, SETTINGS)
    off = lambda state: switch_topic(state, "email", "birthday", on=False)  # noqa: E731
    assert save_consent("c-002", off, PAGE, SEND - timedelta(minutes=5)) is not None
    assert process_delivery("bday#c-002#2027#email", SEND, deps) == "skipped:topic_unsubscribed"
    assert process_delivery("bday-service#c-002#2027#email", SEND, deps) == "sent"
    assert len(_sent()) == 1


def test_given_marketing_email_when_sent_then_topic_link_and_preference_footer(seeded, deps):
    plan_dated(T0, KEY, SETTINGS)
    assert process_delivery("bday#c-003#2027#email", SEND, deps) == "sent"
    assert process_delivery("bday-service#c-003#2027#email", SEND, deps) == "sent"
    marketing, service = (message_from_string(raw, policy=policy.default) for raw in _sent())
    link = str(marketing["List-Unsubscribe"]).strip("<>")
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    claim = verify_unsubscribe(KEY, link.rsplit("/u/", 1)[1], SEND)
    assert (claim.topic, claim.channel, claim.campaign_id) == ("birthday", "email", "bday")
    plain = marketing.get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()
    prefs = [word for word in text.split() if "/p/" in word]
    assert len(prefs) == 2  # the template's {{ preferences_url }} and the footer's link
    assert verify_preferences(KEY, prefs[-1].rsplit("/p/", 1)[1], SEND + timedelta(days=366))
    assert "Manage your preferences" in text and get_settings().company_name in text
    html_part = marketing.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert 'href="' + prefs[-1] in html
    # A service message: no topic in its one-click link (it stops the channel), no footer.
    service_link = str(service["List-Unsubscribe"]).strip("<>").rsplit("/u/", 1)[1]
    assert verify_unsubscribe(KEY, service_link, SEND).topic is None
    service_plain = service.get_body(("plain",))
    assert service_plain is not None
    assert "Manage your preferences" not in service_plain.get_content()


def test_given_sms_stop_when_recorded_then_in_the_consent_trail(seeded):
    from lifecycle.store.customers import record_unsubscribe

    assert record_unsubscribe("c-003", "sms", SEND)
    assert record_unsubscribe("c-003", "sms", SEND + timedelta(hours=1))  # nothing new
    trail = [(e.via, e.changes) for e in events_of("c-003")]
    assert trail[-1] == ("sms_stop", [{"channel": "sms", "action": "unsubscribed"}])
    assert [via for via, _ in trail].count("sms_stop") == 1


def test_given_complaint_flag_when_recorded_then_in_the_consent_trail(seeded):
    from lifecycle.store.customers import flag_suppressed

    assert flag_suppressed("c-003", "email", "hash", "complaint", SEND)
    assert flag_suppressed("c-003", "email", "hash", "complaint", SEND)  # same flag: nothing new
    trail = [(e.via, e.changes) for e in events_of("c-003")]
    assert trail[-1] == ("complaint", [{"channel": "email", "action": "suppressed_complaint"}])
    assert [via for via, _ in trail].count("complaint") == 1


def test_given_reimport_withdrawing_consent_when_imported_then_recorded_once(seeded):
    line = json.dumps(customer_doc("c-003", consent={"email": False}, birthday="1990-03-14"))
    import_customers([line], "again.jsonl", SEND)
    import_customers([line], "again.jsonl", SEND)  # unchanged: nothing recorded
    trail = [(e.via, e.changes) for e in events_of("c-003")]
    assert trail == [
        ("import", [{"channel": "email", "action": "consent_given"}]),
        ("import", [{"channel": "email", "action": "consent_withdrawn"}]),
    ]
