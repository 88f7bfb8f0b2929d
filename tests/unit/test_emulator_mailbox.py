"""The runner's SES mailbox simulator: which events each address gets, shaped so that the
feedback function accepts them, with the delivery tags the sender really sets."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from emulator import mailbox
from lifecycle.features.feedback import delivery_of, parse_event
from lifecycle.messages.channels.email import build_mime
from lifecycle.messages.tags import delivery_tags
from tests.builders import outgoing_email

AT = datetime(2027, 3, 14, 9, 0, 1, tzinfo=UTC)
DELIVERY = "bday-2027#c-001#2027#email"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("success@simulator.amazonses.com", "delivered"),
        ("bounce@simulator.amazonses.com", "bounce"),
        ("Bounce+c1@Simulator.AmazonSES.com", "bounce"),
        ("complaint+c-9@simulator.amazonses.com", "complaint"),
        ("ooto@simulator.amazonses.com", "ooto"),
        ("suppressionlist@simulator.amazonses.com", "suppressionlist"),
        ("bounce@example.com", "delivered"),  # only the simulator's domain
        ("anything@simulator.amazonses.com", "delivered"),
        ("ana@example.com", "delivered"),
    ],
)
def test_given_address_when_classified_then_simulator_behaviour(address, expected):
    assert mailbox.outcome(address) == expected


@pytest.mark.parametrize(
    "delivery_id",
    [DELIVERY, "camp.v2#ana+x@y#order:A/17 #1#email", "s#c#" + "x" * 400 + "#email"],
)
def test_given_delivery_id_when_tagged_here_then_same_tags_as_the_sender(delivery_id):
    expected = {tag["Name"]: [tag["Value"]] for tag in delivery_tags(delivery_id)}
    assert mailbox.delivery_tags(delivery_id) == expected
    assert mailbox.delivery_id_of(expected) == delivery_id


def _raw(to: str, delivery_id: str = DELIVERY) -> bytes:
    campaign, customer = delivery_id.split("#")[:2]
    return build_mime(
        outgoing_email(
            to=to,
            subject="Happy birthday!",
            text="Hi",
            local_date=AT,
            unsubscribe_url="https://example.com/u/t",
            delivery_id=delivery_id,
            campaign_id=campaign,
            customer_id=customer,
        )
    ).as_bytes()


def _mail(to: str, delivery_id: str = DELIVERY) -> mailbox.ReceivedMail:
    moto_message = SimpleNamespace(
        id="0100018e-mock-000000",
        source="messages@example.com",
        destinations=[to],
        raw_data=_raw(to, delivery_id).decode(),
    )
    (mail,) = mailbox.received_from_moto([moto_message, SimpleNamespace(id="x")])
    return mail


@pytest.mark.parametrize(
    ("to", "types"),
    [
        ("success@simulator.amazonses.com", ["Send", "Delivery"]),
        ("bounce+c1@simulator.amazonses.com", ["Send", "Bounce"]),
        ("complaint@simulator.amazonses.com", ["Send", "Delivery", "Complaint"]),
        ("ooto@simulator.amazonses.com", ["Send", "Delivery"]),
        ("suppressionlist@simulator.amazonses.com", ["Send", "Bounce"]),
        ("ana@example.com", ["Send", "Delivery"]),
    ],
)
def test_given_recipient_when_simulated_then_events_feedback_function_accepts(to, types):
    events = mailbox.ses_events(_mail(to), AT, "lcm-SendConfigurationSet")

    parsed = [parse_event(json.loads(json.dumps(e))) for e in events]
    assert [p.event_type for p in parsed] == types
    for event, envelope in zip(parsed, events, strict=True):
        ref = delivery_of(event)
        assert ref is not None and ref.delivery_id == DELIVERY
        assert event.mail.message_id == "0100018e-mock-000000"
        assert envelope["source"] == "aws.ses"
        assert envelope["detail"]["mail"]["tags"]["ses:configuration-set"] == [
            "lcm-SendConfigurationSet"
        ]
        assert envelope["detail"]["mail"]["tags"]["campaign_id"] == ["bday-2027"]


def test_given_bounce_addresses_when_simulated_then_permanent_with_the_right_sub_type():
    plain = mailbox.ses_events(_mail("bounce@simulator.amazonses.com"), AT)[-1]
    listed = mailbox.ses_events(_mail("suppressionlist@simulator.amazonses.com"), AT)[-1]
    assert plain["detail"]["bounce"]["bounceType"] == "Permanent"
    assert plain["detail"]["bounce"]["bounceSubType"] == "General"
    assert listed["detail"]["bounce"]["bounceSubType"] == "OnAccountSuppressionList"
    recipients = plain["detail"]["bounce"]["bouncedRecipients"]
    assert [r["emailAddress"] for r in recipients] == ["bounce@simulator.amazonses.com"]


def test_given_same_mail_when_simulated_twice_then_identical_events():
    mail = _mail("complaint@simulator.amazonses.com")
    assert mailbox.ses_events(mail, AT) == mailbox.ses_events(mail, AT)


def test_given_events_when_wrapped_then_sqs_batch_with_bodies_and_checksums():
    events = mailbox.ses_events(_mail("complaint@simulator.amazonses.com"), AT)
    batch = mailbox.feedback_sqs_event(events, at=AT)

    records = batch["Records"]
    assert [json.loads(r["body"]) for r in records] == events
    for record in records:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"].endswith(":lcm-FeedbackQueue")
    assert len({r["messageId"] for r in records}) == len(records)


def test_given_events_of_several_campaigns_when_counted_then_per_campaign_totals():
    events = [
        *mailbox.ses_events(_mail("success@simulator.amazonses.com"), AT),
        *mailbox.ses_events(_mail("complaint@simulator.amazonses.com", "c2#c-2#2027#email"), AT),
        *mailbox.ses_events(_mail("bounce@simulator.amazonses.com", "c2#c-3#2027#email"), AT),
    ]
    assert mailbox.feedback_counts(events) == {
        "bday-2027": {"delivered": 1, "bounced": 0, "complained": 0},
        "c2": {"delivered": 1, "bounced": 1, "complained": 1},
    }


def test_given_mail_without_lcm_headers_when_read_then_no_delivery_tag_so_foreign():
    raw = b"From: a@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: x\r\n\r\nhi"
    mail = mailbox.ReceivedMail("m", "a@example.com", ("success@simulator.amazonses.com",), raw)
    mail = mailbox.ReceivedMail(mail.message_id, mail.source, mail.destinations, raw, {})
    (send, delivery) = mailbox.ses_events(mail, AT)
    assert delivery_of(parse_event(delivery)) is None
    assert send["detail"]["eventType"] == "Send"
