"""SMS through Amazon SNS (``Publish`` to a phone number).

Opt-out (STOP) path: recipients reply STOP; SNS (or AWS End User Messaging) puts the number on
its opt-out list. Before every send we ask SNS whether the number opted out and, if so, record
the unsubscribe on the customer (``unsubscribed.sms``) and skip with reason ``unsubscribed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from lifecycle.messages.channels.base import Message, Providers, Rendered, call_provider
from lifecycle.rules.templates import render_sms

PERMANENT_ERRORS = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "OptedOut", "AuthorizationError"}
)


def opted_out(sns: Any, phone: str) -> bool:
    response = call_provider(
        "SNS", lambda: sns.check_if_phone_number_is_opted_out(phoneNumber=phone), frozenset()
    )
    return bool(response.get("isOptedOut"))


def send_sms(sns: Any, phone: str, text: str, *, transactional: bool = False) -> str:
    """Publish one SMS; return the SNS message id."""
    attributes = {
        "AWS.SNS.SMS.SMSType": {
            "DataType": "String",
            "StringValue": "Transactional" if transactional else "Promotional",
        }
    }
    response = call_provider(
        "SNS",
        lambda: sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes),
        PERMANENT_ERRORS,
    )
    return str(response.get("MessageId", ""))


class Sms:
    """The SMS channel: one text with the opt-out instruction, counted in segments."""

    name: ClassVar[str] = "sms"
    address_field: ClassVar[str] = "phone"
    write_ahead: ClassVar[bool] = False

    def render(
        self, content: Mapping[str, Mapping[str, str | None]], locale: str | None, context: Any
    ) -> Rendered:
        texts = {loc: str(parts["text"]) for loc, parts in content.items()}
        sms = render_sms(texts, locale, context)
        return Rendered(
            channel=self.name,
            locale=sms.locale,
            text=sms.text,
            encoding=sms.encoding,
            segments=sms.segments,
        )

    def over_limit(self, rendered: Rendered, max_segments: int) -> str | None:
        segments = rendered.segments or 1
        if segments > max_segments:
            return f"{segments} {rendered.encoding} segments (the limit is {max_segments})"
        return None

    def opted_out(self, providers: Providers, address: str) -> bool:
        return opted_out(providers.sns, address)

    def send(self, providers: Providers, message: Message) -> str:
        return send_sms(
            providers.sns, message.to, message.rendered.text, transactional=message.transactional
        )


SMS = Sms()
