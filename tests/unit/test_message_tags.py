"""SES message tags: every e-mail carries its delivery id, SES's rules kept, decoding exact."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest

from lifecycle.messages.channels.email import OutgoingEmail, send_email
from lifecycle.messages.tags import (
    DELIVERY_TAG,
    MAX_DELIVERY_TAGS,
    TagError,
    delivery_id_from_tags,
    delivery_tags,
)

SES_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}\Z")  # SES v2 MessageTag: name and value

IDS = [
    "bday-2027#c-001#2027#email",
    "camp.v2#ana+news@example.com#order:A/17 #1#email",  # '.', '+', '@', ':', '/', ' ', '#'
    "holiday#c:9#Christmas Day:2027-12-25#sms",
    "survey#c-7#" + "x" * 300 + "#email",  # long occurrence (order id): several tags
    "date#kunde-ä#renewal:2027-04-10#email",  # non-ASCII
]


def _as_event_tags(tags: list[dict[str, str]]) -> dict[str, list[str]]:
    """How SES shows EmailTags in an event's ``mail.tags``."""
    return {tag["Name"]: [tag["Value"]] for tag in tags}


@pytest.mark.parametrize("delivery_id", IDS)
def test_given_delivery_id_when_tagged_then_ses_rules_hold_and_decoding_gives_it_back(delivery_id):
    tags = delivery_tags(delivery_id)

    assert all(SES_TAG.match(tag["Name"]) and SES_TAG.match(tag["Value"]) for tag in tags)
    assert tags[0]["Name"] == DELIVERY_TAG
    assert delivery_id_from_tags(_as_event_tags(tags)) == delivery_id


def test_given_short_id_when_tagged_then_one_tag_of_unpadded_base64url():
    (tag,) = delivery_tags("c#x#2027#email")
    assert tag == {"Name": "delivery", "Value": "YyN4IzIwMjcjZW1haWw"}
    assert base64.urlsafe_b64decode(tag["Value"] + "=") == b"c#x#2027#email"


def test_given_long_id_when_tagged_then_split_in_order_into_full_256_character_values():
    tags = delivery_tags("survey#c-7#" + "x" * 300 + "#email")
    assert [t["Name"] for t in tags] == ["delivery", "delivery_2"]
    assert len(tags[0]["Value"]) == 256


def test_given_id_longer_than_any_dynamodb_key_when_tagged_then_refused():
    with pytest.raises(TagError):
        delivery_tags("c#x#" + "o" * (MAX_DELIVERY_TAGS * 192) + "#email")


def test_given_event_without_delivery_tag_when_decoded_then_none_foreign_message():
    assert delivery_id_from_tags({"ses:configuration-set": ["lcm"], "campaign_id": ["x"]}) is None
    assert delivery_id_from_tags({}) is None


@pytest.mark.parametrize(
    "tags",
    [
        {"delivery": ["not base64!"]},  # alphabet
        {"delivery": ["YyN4IzIwMjcjZW1haWw="]},  # padding: never written
        {"delivery": ["A"]},  # impossible base64 length
        {"delivery": [base64.urlsafe_b64encode(b"\xff\xfe#a#b#c").decode().rstrip("=")]},
        {"delivery": [base64.urlsafe_b64encode(b"only#three#parts").decode().rstrip("=")]},
        {"delivery": [base64.urlsafe_b64encode(b"a##b#c").decode().rstrip("=")]},  # empty part
        {"delivery": ["YyN4", "x"], "delivery_2": ["IzIwMjcjZW1haWw"]},  # short first chunk
        {"delivery": [""]},
    ],
    ids=["alphabet", "padding", "length", "utf8", "parts", "empty", "chunks", "blank"],
)
def test_given_foreign_or_forged_delivery_tag_when_decoded_then_tag_error(tags):
    with pytest.raises(TagError):
        delivery_id_from_tags(tags)


class _RecordingSes:
    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []

    def send_email(self, **request: object) -> dict[str, str]:
        self.requests.append(request)
        return {"MessageId": "m-1"}


def test_given_email_when_sent_then_request_carries_delivery_tags_and_configuration_set():
    ses = _RecordingSes()
    mail = OutgoingEmail(
        sender="messages@example.com",
        to="ana@example.com",
        to_name="Ana",
        subject="Hi",
        text="Hello",
        html=None,
        local_date=datetime(2027, 3, 13, 9, tzinfo=UTC),
        unsubscribe_url="https://example.com/u/t",
        delivery_id="bday.2027#ana@x#2027#email",
        campaign_id="bday.2027",
        customer_id="ana@x",
        occasion="birthday",
        locale="en",
    )

    assert send_email(ses, mail, "lcm-send") == "m-1"

    (request,) = ses.requests
    assert request["ConfigurationSetName"] == "lcm-send"
    tags = request["EmailTags"]
    assert isinstance(tags, list)
    assert all(SES_TAG.match(t["Name"]) and SES_TAG.match(t["Value"]) for t in tags)
    assert delivery_id_from_tags(_as_event_tags(tags)) == "bday.2027#ana@x#2027#email"
