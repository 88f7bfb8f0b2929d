"""SES's mailbox simulator for the local runner: the events SES would publish for each message.

Given what SES accepted (message id, sender, recipients, raw MIME and the message's tags),
:func:`ses_events` returns the EventBridge events the configuration set's event destination
would put on the default bus, as the stack's ``FeedbackRule`` hands them to ``FeedbackQueue``
(each event is one message body); :func:`feedback_sqs_event` wraps them into the SQS batch
``FeedbackFunction`` receives. Addresses of ``simulator.amazonses.com`` behave like SES's
mailbox simulator, a ``+label`` included (``bounce+c1@simulator.amazonses.com`` bounces):

============================ ===============================================================
``success@``                 Send, Delivery
``bounce@``                  Send, Bounce (Permanent, General, 5.1.1 user unknown)
``ooto@``                    Send, Delivery (the out-of-office reply goes to the sender; SES
                             reports no bounce)
``complaint@``               Send, Delivery, Complaint (abuse)
``suppressionlist@``         Send, Bounce (Permanent, OnAccountSuppressionList: SES counts
                             the send but does not deliver)
any other address            Send, Delivery
============================ ===============================================================

:class:`MailboxFeed` is the runner's hook: after each drain of the send queue it takes the mail
SES accepted since the previous call and puts the events of every message to a simulator
address on ``FeedbackQueue``, each delayed until the instant SES would publish it (plus
EventBridge's hop), so ``FeedbackFunction`` processes them on the simulated clock. Mail to
other addresses gets no events in the runner (their ledger items stay ``sent``): their
outcome is unknown, and runs of ordinary data stay as fast and as they were.

Imports nothing of ``lifecycle`` (the layer). moto's SES keeps no ``EmailTags``, so
:func:`received_from_moto` rebuilds the tags the sender sets from the message's ``X-LCM-*``
headers with the same encoding as ``lifecycle.messages.tags`` (a unit test holds the two
equal).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import getaddresses
from typing import Any

from emulator.environment import ACCOUNT, REGION

SIMULATOR_DOMAIN = "simulator.amazonses.com"
DELIVERED = "delivered"
BOUNCE = "bounce"
COMPLAINT = "complaint"
OOTO = "ooto"
SUPPRESSED = "suppressionlist"
OUTCOMES = (DELIVERED, BOUNCE, COMPLAINT, OOTO, SUPPRESSED)
DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
}
_SEND_TO_DELIVERY = timedelta(seconds=2)
_DELIVERY_TO_COMPLAINT = timedelta(minutes=10)
_NAMESPACE = uuid.UUID("5f0b8a52-1d8e-4c55-9c6f-0ac1d4d1e0a7")
_TAG_VALUE_MAX = 256
# EventBridge puts an event on its SQS target about this long after SES published it.
_EVENTBRIDGE_HOP = timedelta(seconds=1)
_MAX_DELAY_SECONDS = 900  # SQS DelaySeconds


@dataclass(frozen=True)
class ReceivedMail:
    """One message SES accepted: its id, sender, recipients, raw bytes and tags."""

    message_id: str
    source: str
    destinations: tuple[str, ...]
    raw: bytes
    tags: Mapping[str, Sequence[str]] = field(default_factory=dict)


def outcome(address: str) -> str:
    """What the simulator does with ``address`` (delivered for every non-simulator one)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != SIMULATOR_DOMAIN:
        return DELIVERED
    mailbox = local.split("+", 1)[0]
    if mailbox in (BOUNCE, COMPLAINT, OOTO, SUPPRESSED):
        return mailbox
    return DELIVERED  # success@ and any other simulator mailbox


def delivery_tags(delivery_id: str) -> dict[str, list[str]]:
    """The ``delivery`` tags the sender sets (base64url without padding, 256-character
    values ``delivery``, ``delivery_2`` ...), as SES shows tags in an event."""
    encoded = base64.urlsafe_b64encode(delivery_id.encode("utf-8")).decode("ascii").rstrip("=")
    chunks = [encoded[i : i + _TAG_VALUE_MAX] for i in range(0, len(encoded), _TAG_VALUE_MAX)]
    return {
        ("delivery" if n == 0 else f"delivery_{n + 1}"): [chunk] for n, chunk in enumerate(chunks)
    }


def delivery_id_of(tags: Mapping[str, Sequence[str]]) -> str | None:
    """The delivery id in ``delivery`` tags (no validation: the feedback function does it)."""
    parts, n = [], 0
    while (values := tags.get("delivery" if n == 0 else f"delivery_{n + 1}")) and values:
        parts.append(values[0])
        n += 1
    if not parts:
        return None
    encoded = "".join(parts)
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")


def _tag_value(value: str) -> str:
    """The sender's plain tags: characters SES refuses become '_' (as ``email._tag`` does)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in value)[:256]


def tags_from_headers(raw: bytes) -> dict[str, list[str]]:
    """The tags the sender gave a message, rebuilt from its ``X-LCM-*`` headers."""
    message = message_from_bytes(raw, policy=policy.default)
    tags: dict[str, list[str]] = {}
    campaign, occasion = message.get("X-LCM-Campaign-Id"), message.get("X-LCM-Occasion")
    if campaign is not None:
        tags["campaign_id"] = [_tag_value(str(campaign))]
    if occasion is not None:
        tags["occasion"] = [_tag_value(str(occasion))]
    delivery = message.get("X-LCM-Delivery-Id")
    if delivery is not None:
        tags.update(delivery_tags(str(delivery)))
    return tags


def received_from_moto(messages: Iterable[Any]) -> list[ReceivedMail]:
    """``ReceivedMail`` of moto's SES ``sent_messages`` (raw ones; tags from the headers)."""
    received = []
    for message in messages:
        raw = getattr(message, "raw_data", None)
        if raw is None:
            continue
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        received.append(
            ReceivedMail(
                message_id=str(message.id),
                source=str(message.source),
                destinations=tuple(str(d) for d in message.destinations),
                raw=data,
                tags=tags_from_headers(data),
            )
        )
    return received


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _mail(mail: ReceivedMail, at: datetime, configuration_set: str) -> dict[str, Any]:
    message = message_from_bytes(mail.raw, policy=policy.default)
    headers = [{"name": name, "value": str(value)} for name, value in message.items()]
    domain = mail.source.rpartition("@")[2].strip(">")
    tags: dict[str, list[str]] = {
        "ses:configuration-set": [configuration_set],
        "ses:source-ip": ["192.0.2.10"],
        "ses:from-domain": [domain],
        "ses:caller-identity": ["lcm-SenderFunction-role"],
        "ses:outgoing-ip": ["198.51.100.7"],
    }
    tags.update({name: list(values) for name, values in mail.tags.items()})
    return {
        "timestamp": _iso(at),
        "source": mail.source,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{mail.source}",
        "sendingAccountId": ACCOUNT,
        "messageId": mail.message_id,
        "destination": list(mail.destinations),
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": [str(message.get("From", mail.source))],
            "to": [str(message.get("To", ""))],
            "messageId": mail.message_id,
            "subject": str(message.get("Subject", "")),
        },
        "tags": tags,
    }


def _feedback_id(mail: ReceivedMail, kind: str, recipient: str) -> str:
    digest = hashlib.sha256(f"{mail.message_id}:{kind}:{recipient}".encode()).hexdigest()
    return f"{digest[:16]}-{digest[16:24]}-{digest[24:28]}-{digest[28:32]}-{digest[32:44]}-000000"


def _envelope(
    event_type: str, mail: dict[str, Any], part: dict[str, Any] | None, at: datetime, key: str
) -> dict[str, Any]:
    detail: dict[str, Any] = {"eventType": event_type, "mail": mail}
    detail[event_type[0].lower() + event_type[1:]] = {} if part is None else part
    configuration_set = mail["tags"]["ses:configuration-set"][0]
    return {
        "version": "0",
        "id": str(uuid.uuid5(_NAMESPACE, f"{mail['messageId']}:{key}")),
        "detail-type": DETAIL_TYPES[event_type],
        "source": "aws.ses",
        "account": ACCOUNT,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{configuration_set}"],
        "detail": detail,
    }


def _bounce(mail: ReceivedMail, recipient: str, at: datetime, suppressed: bool) -> dict[str, Any]:
    diagnostic = (
        "Amazon SES did not send the message to this address because it is on the "
        "suppression list for your account."
        if suppressed
        else "smtp; 550 5.1.1 user unknown"
    )
    return {
        "feedbackId": _feedback_id(mail, "bounce", recipient),
        "bounceType": "Permanent",
        "bounceSubType": "OnAccountSuppressionList" if suppressed else "General",
        "bouncedRecipients": [
            {
                "emailAddress": recipient,
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": diagnostic,
            }
        ],
        "timestamp": _iso(at),
        "reportingMTA": "dns; amazonses.com" if suppressed else f"dns; {SIMULATOR_DOMAIN}",
    }


def ses_events(
    mail: ReceivedMail, at: datetime, configuration_set: str = "lcm-SendConfigurationSet"
) -> list[dict[str, Any]]:
    """The EventBridge events SES publishes for ``mail`` accepted at ``at``, in order.

    One Send event per message, then per recipient what the simulator does with it.
    """
    common = _mail(mail, at, configuration_set)
    events = [_envelope("Send", common, None, at, "send")]
    for recipient in mail.destinations:
        address = getaddresses([recipient])[0][1] or recipient
        kind = outcome(address)
        later = at + _SEND_TO_DELIVERY
        if kind in (BOUNCE, SUPPRESSED):
            bounce = _bounce(mail, address, later, suppressed=kind == SUPPRESSED)
            events.append(_envelope("Bounce", common, bounce, later, f"bounce:{address}"))
            continue
        delivery = {
            "timestamp": _iso(later),
            "processingTimeMillis": int(_SEND_TO_DELIVERY.total_seconds() * 1000),
            "recipients": [address],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-30.smtp-out.amazonses.com",
        }
        events.append(_envelope("Delivery", common, delivery, later, f"delivery:{address}"))
        if kind == COMPLAINT:
            complained = later + _DELIVERY_TO_COMPLAINT
            complaint = {
                "feedbackId": _feedback_id(mail, "complaint", address),
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": _iso(complained),
                "userAgent": "Amazon SES Mailbox Simulator",
                "complaintFeedbackType": "abuse",
                "arrivalDate": _iso(complained),
            }
            events.append(
                _envelope("Complaint", common, complaint, complained, f"complaint:{address}")
            )
    return events


def feedback_sqs_event(
    envelopes: Sequence[Mapping[str, Any]],
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:lcm-FeedbackQueue",
    at: datetime | None = None,
) -> dict[str, Any]:
    """The SQS batch ``FeedbackFunction`` receives with these events as message bodies."""
    sent = int((at or datetime.now(UTC)).timestamp() * 1000)
    records = []
    for envelope in envelopes:
        body = json.dumps(envelope)
        records.append(
            {
                "messageId": str(uuid.uuid5(_NAMESPACE, f"sqs:{envelope['id']}")),
                "receiptHandle": f"feedback-{envelope['id']}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(sent),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": str(sent),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - as SQS
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def feedback_counts(envelopes: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per campaign (from the delivery tag): Delivery, Bounce and Complaint events as the
    simulator produced them, the expected side of what the ledger ends up counting."""
    counts: dict[str, dict[str, int]] = {}
    names = {"Delivery": "delivered", "Bounce": "bounced", "Complaint": "complained"}
    for envelope in envelopes:
        detail = envelope.get("detail", {})
        name = names.get(str(detail.get("eventType")))
        if name is None:
            continue
        delivery = delivery_id_of(detail.get("mail", {}).get("tags", {}))
        campaign = delivery.split("#", 1)[0] if delivery else "?"
        row = counts.setdefault(campaign, {"delivered": 0, "bounced": 0, "complained": 0})
        row[name] += 1
    return dict(sorted(counts.items()))


def is_simulator(address: str) -> bool:
    """Whether ``address`` (``Name <addr>`` allowed) is one of SES's mailbox simulator's."""
    plain = getaddresses([address])[0][1] or address
    return plain.strip().lower().rpartition("@")[2] == SIMULATOR_DOMAIN


def event_time(envelope: Mapping[str, Any]) -> datetime:
    """When SES published ``envelope`` (its ``time``, to the second)."""
    return datetime.strptime(str(envelope["time"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class MailboxFeed:
    """The runner's SES mailbox simulator: events of newly accepted mail -> ``FeedbackQueue``.

    ``send(body, delay_seconds)`` puts one message on the queue (the runner's simulated
    queues); ``sent_messages()`` returns moto's SES ``sent_messages`` list (append-only: each
    :meth:`after_send` reads only what arrived since the previous one).
    """

    def __init__(
        self,
        send: Callable[[str, int], object],
        sent_messages: Callable[[], Sequence[Any]],
        configuration_set: str,
    ) -> None:
        self._send = send
        self._sent_messages = sent_messages
        self.configuration_set = configuration_set
        self._seen = 0
        self.events = 0

    def after_send(self, now: datetime) -> int:
        """Queue the events of the simulator-addressed mail accepted since the last call."""
        mails = self._sent_messages()
        new = list(mails[self._seen :])
        self._seen = len(mails)
        simulated = [
            m for m in new if any(is_simulator(str(d)) for d in getattr(m, "destinations", ()))
        ]
        queued = 0
        for mail in received_from_moto(simulated):
            for envelope in ses_events(mail, now, self.configuration_set):
                wait = (event_time(envelope) + _EVENTBRIDGE_HOP - now).total_seconds()
                delay = min(_MAX_DELAY_SECONDS, max(0, math.ceil(wait)))
                self._send(json.dumps(envelope), delay)
                queued += 1
        self.events += queued
        return queued
