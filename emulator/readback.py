"""Read back what moto's SES and SNS received and turn it into message rows.

Owns the rows of ``messages.jsonl`` (one per e-mail SES accepted and per SMS SNS published,
with the SMS's customer and campaign taken from its ledger item) and the survey links found in
what was sent so far, which the runner needs to answer surveys as a customer would. Reads the
moto back-ends directly; makes no AWS call of its own.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from emulator.environment import ACCOUNT, REGION


def message_line(raw: str | bytes) -> dict[str, Any]:
    """Row of one raw e-mail as SES received it."""
    data = raw.encode() if isinstance(raw, str) else raw
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    local = parsedate_to_datetime(str(message["Date"]))
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    to = message["To"]
    address = to.addresses[0].addr_spec if to is not None and to.addresses else str(to)
    headers = {name: str(value) for name, value in message.items()}
    return {
        "customer_id": str(message["X-LCM-Customer-Id"]),
        "campaign_id": str(message["X-LCM-Campaign-Id"]),
        "occasion": str(message["X-LCM-Occasion"]),
        "channel": "email",
        "to": address,
        "subject": str(message["Subject"]),
        "text": text,
        "headers": headers,
        "sent_at": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": local.isoformat(),
    }


def sms_line(item: dict[str, Any], phone: str, text: str) -> dict[str, Any]:
    """Row of one SMS, described by its ledger item (DynamoDB JSON)."""
    from zoneinfo import ZoneInfo

    sent = datetime.fromisoformat(item["sent_at"]["S"].replace("Z", "+00:00"))
    local = sent.astimezone(ZoneInfo(item["timezone"]["S"]))
    return {
        "customer_id": item["customer_id"]["S"],
        "campaign_id": item["campaign_id"]["S"],
        "occasion": item["occasion"]["S"],
        "channel": "sms",
        "to": phone,
        "subject": None,
        "text": text,
        "headers": {},
        "sent_at": item["sent_at"]["S"],
        "local_time": local.isoformat(),
    }


def sent_messages(ledger: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every message the providers accepted: SES raw mail and SNS SMS, in sending order.

    ``ledger`` (the Deliveries table's items) is read only when an SMS was sent.
    """
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    backend = ses_backends[ACCOUNT][REGION]
    messages = [message_line(m.raw_data) for m in backend.sent_messages if hasattr(m, "raw_data")]
    sms = sns_backends[ACCOUNT][REGION].sms_messages
    if sms:
        by_provider_id = {
            item["provider_message_id"]["S"]: item
            for item in ledger
            if item.get("channel", {}).get("S") == "sms" and "provider_message_id" in item
        }
        for message_id, stored in sms.items():
            phone, text = stored[0], stored[1]
            item = by_provider_id.get(message_id)
            if item is not None:
                messages.append(sms_line(item, phone, text))
    return sorted(
        messages, key=lambda m: (m["sent_at"], m["campaign_id"], m["customer_id"], m["channel"])
    )


_SURVEY_LINK = re.compile(r"/s/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def survey_token(text: str) -> str | None:
    """The token of the first survey link in ``text``."""
    match = _SURVEY_LINK.search(text)
    return match.group(1) if match else None


def survey_owner(token: str) -> tuple[str, str] | None:
    """(customer, campaign) of a survey token, read from its (signed) payload."""
    try:
        payload = token.split(".", maxsplit=1)[0]
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        campaign, customer = str(body["s"]).split("#")[:2]
    except (ValueError, KeyError, TypeError):
        return None
    return customer, campaign


class SurveyLinks:
    """The newest survey link per (customer, campaign) among the messages sent so far.

    Each :meth:`refresh` reads only the mail and SMS that arrived since the previous one.
    """

    def __init__(self) -> None:
        self.links: dict[tuple[str, str], str] = {}
        self._mails_seen = 0
        self._sms_seen = 0

    def refresh(self) -> None:
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        mails = ses_backends[ACCOUNT][REGION].sent_messages
        texts = [
            message_line(m.raw_data)["text"]
            for m in mails[self._mails_seen :]
            if hasattr(m, "raw_data")
        ]
        self._mails_seen = len(mails)
        sms = list(sns_backends[ACCOUNT][REGION].sms_messages.values())
        texts += [str(stored[1]) for stored in sms[self._sms_seen :]]
        self._sms_seen = len(sms)
        for text in texts:
            token = survey_token(text)
            owner = survey_owner(token) if token else None
            if token and owner:
                self.links[owner] = token

    def get(self, customer_id: str, campaign_id: str) -> str | None:
        return self.links.get((customer_id, campaign_id))
