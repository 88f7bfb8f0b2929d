"""The runner's read-back of an e-mail (``emulator.readback.message_line``).

It parses with ``policy.compat32`` for speed; these tests hold it to what ``policy.default``
(the reference, and what a mail client shows) reads from the same bytes, on mails built by the
product's own ``build_mime`` with the names and subjects that make headers hard: encoded words,
folding, quotes, commas, emoji, right-to-left text, and a mail without HTML.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from emulator.readback import header_value, message_line, plain_text
from lifecycle.messages.channels.email import build_mime
from tests.builders import outgoing_email

AT = datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def _mail(**fields: Any) -> bytes:
    values: dict[str, Any] = {
        "subject": "Happy birthday!",
        "text": "Hi Ana,\n\nhappy birthday.\n",
        "html": "<p>Hi Ana,</p>",
        "local_date": AT,
        "unsubscribe_url": "https://example.com/v1/u/" + "t" * 180,
        "delivery_id": "bday#c-1#2027#email",
        "campaign_id": "bday",
        **fields,
    }
    return build_mime(outgoing_email(**values)).as_bytes()


def _reference(data: bytes) -> dict[str, Any]:
    """The row as ``policy.default`` reads it (the read-back's former, slower parser)."""
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    local = parsedate_to_datetime(str(message["Date"]))
    body = message.get_body(preferencelist=("plain",))
    to = message["To"]
    return {
        "customer_id": str(message["X-LCM-Customer-Id"]),
        "campaign_id": str(message["X-LCM-Campaign-Id"]),
        "occasion": str(message["X-LCM-Occasion"]),
        "channel": "email",
        "to": to.addresses[0].addr_spec,
        "subject": str(message["Subject"]),
        "text": body.get_content() if body is not None else "",
        "headers": {name: str(value) for name, value in message.items()},
        "sent_at": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": local.isoformat(),
    }


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"to_name": "鈴木美咲", "subject": "鈴木美咲様、お誕生日おめでとうございます！" * 3},
        {"to_name": "Jiho Choi", "subject": "Happy birthday, Jiho! 🎂"},
        {"to_name": 'Ana "Nita" López, Jr.', "subject": "¡Feliz cumpleaños, Ana!"},
        {"to_name": "", "subject": "plain ascii " * 12},
        {"to_name": "محمد", "subject": "عيد ميلاد سعيد", "locale": "ar"},
        {"html": None, "text": "Grüße\r\nund ein Zeilenumbruch\n"},
        {"subject": "=?utf-8?q?not_an_encoded_word?= but text"},
        {"to": "o'brien+tag@example.co.uk", "to_name": "Seán O'Brien"},
    ],
    ids=[
        "ascii",
        "cjk-folded",
        "emoji",
        "quotes-comma",
        "long-ascii",
        "rtl",
        "no-html",
        "literal-encoded-word",
        "quote-in-address",
    ],
)
def test_given_a_mail_the_product_builds_when_read_back_then_the_row_equals_policy_default(
    fields: dict[str, Any],
) -> None:
    data = _mail(**fields)

    assert message_line(data) == _reference(data)


def test_given_a_mail_as_text_when_read_back_then_the_row_is_the_same_as_from_bytes() -> None:
    data = _mail(to_name="鈴木美咲")

    assert message_line(data.decode()) == message_line(data)


def test_given_a_folded_header_when_decoded_then_it_is_one_line() -> None:
    assert header_value('multipart/alternative;\n boundary="b"') == (
        'multipart/alternative; boundary="b"'
    )
    assert header_value("=?utf-8?b?6Yi05pyo?=\r\n =?utf-8?b?576O5ZKy?=") == "鈴木美咲"


def test_given_no_text_part_when_read_then_the_text_is_empty() -> None:
    message = EmailMessage()
    message.set_content("<p>only html</p>", subtype="html")

    assert plain_text(message) == ""


def test_given_a_text_attachment_when_read_then_the_body_is_the_inline_text() -> None:
    message = EmailMessage()
    message.set_content("the body")
    message.add_attachment("not the body", filename="notes.txt")

    assert plain_text(message) == "the body\n"


def test_given_an_unknown_charset_when_read_then_the_text_is_decoded_as_utf8() -> None:
    data = (
        b"Date: Mon, 01 Mar 2027 09:00:00 +0900\r\nTo: a@example.com\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\nh\xc3\xa9llo\r\n"
    )

    assert message_line(data)["text"] == "héllo\r\n"
