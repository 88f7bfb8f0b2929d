"""Read back what moto's SES and SNS received and turn it into message rows.

Owns the rows of ``messages.jsonl`` (one per e-mail SES accepted and per SMS SNS published,
with the SMS's customer and campaign taken from its ledger item), what the providers received
for the integrity check (:func:`received`) and the survey links found in
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
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from emulator.environment import ACCOUNT, REGION
from emulator.integrity import Received


def message_line(raw: str | bytes) -> dict[str, Any]:
    """Row of one raw e-mail as SES received it.

    Parsed with ``policy.compat32`` and the headers decoded by :func:`header_value`: the same
    text as ``policy.default`` gives (unfolded, encoded words decoded), at about a sixth of
    its cost, which is most of the read-back's time on a large run.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    message = message_from_bytes(data, policy=policy.compat32)
    headers = {
        name: address_value(value) if name.lower() in _ADDRESS_HEADERS else header_value(value)
        for name, value in message.items()
    }
    local = parsedate_to_datetime(headers["Date"])
    addresses = getaddresses(message.get_all("To") or [])
    address = addresses[0][1] if addresses and addresses[0][1] else headers.get("To", "")
    return {
        "customer_id": headers.get("X-LCM-Customer-Id", ""),
        "campaign_id": headers.get("X-LCM-Campaign-Id", ""),
        "occasion": headers.get("X-LCM-Occasion", ""),
        "channel": "email",
        "to": address,
        "subject": headers.get("Subject", ""),
        "text": plain_text(message),
        "headers": headers,
        "sent_at": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": local.isoformat(),
    }


_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def header_value(value: Any) -> str:
    """A raw header's text: unfolded (RFC 5322 2.2.3) and its encoded words decoded."""
    return str(make_header(decode_header(_FOLD.sub("", str(value)))))


def address_value(value: Any) -> str:
    """An address header's text as ``policy.default`` writes it: display names decoded and
    quoted where they hold specials (``"Ana \\"Nita\\" López, Jr." <ana@example.com>``)."""
    pairs = getaddresses([_FOLD.sub("", str(value))])
    if not pairs or not all(address for _, address in pairs):
        return header_value(value)  # not addresses as written: the text as it is
    return ", ".join(
        str(Address(display_name=header_value(name), addr_spec=address)) for name, address in pairs
    )


def plain_text(message: Message) -> str:
    """The first text/plain part that is not an attachment, decoded ("" if there is none)."""
    for part in message.walk():
        if part.get_content_type() != "text/plain":
            continue
        if (part.get_content_disposition() or "inline") == "attachment":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        try:
            return payload.decode(part.get_content_charset() or "ascii", errors="replace")
        except LookupError:  # an unknown charset: as policy.default's get_content does
            return payload.decode("utf-8", errors="replace")
    return ""


def sms_line(
    item: dict[str, Any], phone: str, text: str, sent_at: str | None = None
) -> dict[str, Any]:
    """Row of one SMS, described by its ledger item (DynamoDB JSON)."""
    from zoneinfo import ZoneInfo

    at = sent_at or item["sent_at"]["S"]
    sent = datetime.fromisoformat(at.replace("Z", "+00:00"))
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
        "sent_at": at,
        "local_time": local.isoformat(),
    }


def _last_claim(item: dict[str, Any]) -> str | None:
    """When the item was last claimed for sending (its last ``sending`` history entry)."""
    claims = [
        entry["M"]["at"]["S"]
        for entry in item.get("history", {}).get("L", [])
        if entry.get("M", {}).get("status", {}).get("S") == "sending"
    ]
    return claims[-1] if claims else None


def sent_messages(
    ledger: Iterable[dict[str, Any]], customers: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Every message the providers accepted: SES raw mail and SNS SMS, in sending order.

    ``ledger`` (the Deliveries table's items) is read only when an SMS was sent. An SMS whose
    ledger item never recorded SNS's message id (the worker died right after the hand-over)
    is matched through the customer's phone (``customers``, read only then) to that
    customer's one SMS item left claimed or failed without a provider id, and dated by its
    last claim; an SMS that cannot be matched so is left out here (the integrity section
    counts it).
    """
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    backend = ses_backends[ACCOUNT][REGION]
    messages = [message_line(m.raw_data) for m in backend.sent_messages if hasattr(m, "raw_data")]
    sms = sns_backends[ACCOUNT][REGION].sms_messages
    if sms:
        items = [i for i in ledger if i.get("channel", {}).get("S") == "sms"]
        by_provider_id = {
            item["provider_message_id"]["S"]: item
            for item in items
            if "provider_message_id" in item
        }
        unmatched = [
            (phone, text) for mid, (phone, text, *_) in sms.items() if mid not in by_provider_id
        ]
        phones = (
            {c["phone"]["S"]: c["customer_id"]["S"] for c in customers if "phone" in c}
            if unmatched
            else {}
        )
        for message_id, stored in sms.items():
            phone, text = stored[0], stored[1]
            item = by_provider_id.get(message_id)
            if item is not None:
                messages.append(sms_line(item, phone, text))
                continue
            customer = phones.get(phone)
            candidates = [
                i
                for i in items
                if i["customer_id"]["S"] == customer
                and "provider_message_id" not in i
                and i["status"]["S"] in ("sending", "failed")
                and _last_claim(i)
            ]
            if len(candidates) == 1:
                messages.append(sms_line(candidates[0], phone, text, _last_claim(candidates[0])))
    return sorted(
        messages, key=lambda m: (m["sent_at"], m["campaign_id"], m["customer_id"], m["channel"])
    )


def received() -> Received:
    """What SES and SNS accepted: each e-mail's ``X-LCM-Delivery-Id``, each SMS as
    (SNS message id, phone, text), in the order they arrived."""
    from email.parser import BytesHeaderParser

    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    parser = BytesHeaderParser()
    email: list[str | None] = []
    for message in ses_backends[ACCOUNT][REGION].sent_messages:
        if not hasattr(message, "raw_data"):
            continue
        raw = message.raw_data
        headers = parser.parsebytes(raw.encode() if isinstance(raw, str) else raw)
        delivery = headers.get("X-LCM-Delivery-Id")
        email.append(str(delivery) if delivery is not None else None)
    sms = [
        (str(message_id), str(stored[0]), str(stored[1]))
        for message_id, stored in sns_backends[ACCOUNT][REGION].sms_messages.items()
    ]
    return Received(email=email, sms=sms)


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
