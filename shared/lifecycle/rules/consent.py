"""Consent and suppression, checked at plan time and again at send time.

Reason codes: ``unsubscribed`` (the customer unsubscribed from everything on the channel:
an old one-click link, the preference centre's "unsubscribe from everything", SMS STOP),
``topic_unsubscribed`` (the customer switched off the campaign's topic on the channel),
``no_consent`` (never opted in for the channel), ``no_address`` (nothing to send to),
``suppressed_bounce`` / ``suppressed_complaint`` (the address bounced or its owner
complained; see :mod:`lifecycle.rules.deliverability`).

Service messages (campaign category ``service``, e.g. a post-purchase survey) ignore topic
opt-outs: topics are what a customer picks among marketing messages. "Unsubscribe from
everything" on a channel stops every message on it, service messages included.

The consent state of a customer is :class:`ConsentState`: per channel the consent flag, the
time they unsubscribed from everything (if they did) and the topics switched off. The
preference centre changes it only through the pure transitions below, so every change can be
described (:func:`changes`) and recorded, and undone by restoring the state before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.rules.deliverability import BOUNCE, COMPLAINT, address_key

UNSUBSCRIBED = "unsubscribed"
TOPIC_UNSUBSCRIBED = "topic_unsubscribed"
NO_CONSENT = "no_consent"
NO_ADDRESS = "no_address"
SUPPRESSED_BOUNCE = "suppressed_bounce"
SUPPRESSED_COMPLAINT = "suppressed_complaint"
SUPPRESSION_REASONS = {BOUNCE: SUPPRESSED_BOUNCE, COMPLAINT: SUPPRESSED_COMPLAINT}

ADDRESS_FIELD = {"email": "email", "sms": "phone"}


def consent_block(
    customer: Mapping[str, Any], channel: str, topic: str | None = None, *, marketing: bool = True
) -> str | None:
    """The reason ``customer`` (a plain dict) must not get a message of ``topic`` on
    ``channel`` now, or None. ``marketing=False`` (a service message) ignores topic opt-outs."""
    unsubscribed = customer.get("unsubscribed") or {}
    if channel in unsubscribed:
        return UNSUBSCRIBED
    if marketing and topic and topic in ((customer.get("topics_off") or {}).get(channel) or ()):
        return TOPIC_UNSUBSCRIBED
    consent = customer.get("consent") or {}
    if consent.get(channel) is not True:
        return NO_CONSENT
    address = customer.get(ADDRESS_FIELD[channel])
    if not address:
        return NO_ADDRESS
    # The flag names the address that bounced: a customer with a new address is mailed again.
    flag = (customer.get("suppressed") or {}).get(channel)
    if flag and flag.get("address") == address_key(str(address)):
        return suppression_reason(flag.get("reason"))
    return None


def suppression_reason(cause: Any) -> str:
    """The skip reason for an address suppressed because of ``cause`` (bounce, complaint)."""
    return SUPPRESSION_REASONS.get(str(cause), SUPPRESSED_BOUNCE)


# ---------------------------------------------------------------------------- the state
# Actions a change consists of, as recorded in the consent trail.
UNSUBSCRIBE = "unsubscribed"  # from everything on the channel
RESUBSCRIBE = "resubscribed"
TOPIC_OFF = "topic_off"
TOPIC_ON = "topic_on"
CONSENT_GIVEN = "consent_given"
CONSENT_WITHDRAWN = "consent_withdrawn"


@dataclass(frozen=True)
class ConsentState:
    """What a customer agreed to: ``consent`` per channel, ``unsubscribed`` (channel -> when
    they unsubscribed from everything) and ``topics_off`` (channel -> topics switched off)."""

    consent: Mapping[str, bool] = field(default_factory=dict)
    unsubscribed: Mapping[str, str] = field(default_factory=dict)
    topics_off: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, customer: Mapping[str, Any]) -> ConsentState:
        """The state of a customer dict (or of a snapshot, :meth:`snapshot`)."""
        consent = customer.get("consent") or {}
        topics = customer.get("topics_off") or {}
        return cls(
            consent={str(k): v is True for k, v in consent.items()},
            unsubscribed={str(k): str(v) for k, v in (customer.get("unsubscribed") or {}).items()},
            topics_off={str(k): tuple(sorted({str(t) for t in v})) for k, v in topics.items() if v},
        )

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON (stored with each recorded change; restoring it is an exact undo)."""
        return {
            "consent": dict(sorted(self.consent.items())),
            "unsubscribed": dict(sorted(self.unsubscribed.items())),
            "topics_off": {k: list(v) for k, v in sorted(self.topics_off.items()) if v},
        }

    def subscribed(self, channel: str) -> bool:
        """Messages on ``channel`` may be sent (consent given, not unsubscribed)."""
        return self.consent.get(channel) is True and channel not in self.unsubscribed

    def can_resubscribe(self, channel: str) -> bool:
        """The customer once agreed to ``channel`` (a link cannot give first consent)."""
        return self.consent.get(channel) is True or channel in self.unsubscribed

    def topic_on(self, channel: str, topic: str) -> bool:
        return topic not in self.topics_off.get(channel, ())


def unsubscribe_channel(state: ConsentState, channel: str, at: str) -> ConsentState:
    """Unsubscribe from everything on ``channel`` (the first time is kept)."""
    if channel in state.unsubscribed and state.consent.get(channel) is not True:
        return state
    return ConsentState(
        consent={**state.consent, channel: False},
        unsubscribed={channel: at, **state.unsubscribed},
        topics_off=state.topics_off,
    )


def resubscribe_channel(state: ConsentState, channel: str) -> ConsentState:
    """Receive ``channel`` again; only a channel the customer once agreed to."""
    if state.subscribed(channel) or not state.can_resubscribe(channel):
        return state
    unsubscribed = {k: v for k, v in state.unsubscribed.items() if k != channel}
    return ConsentState(
        consent={**state.consent, channel: True},
        unsubscribed=unsubscribed,
        topics_off=state.topics_off,
    )


def set_topics(state: ConsentState, channel: str, off: Iterable[str]) -> ConsentState:
    """Switch the topics ``off`` off on ``channel`` (and only those)."""
    topics = tuple(sorted(set(off)))
    if topics == state.topics_off.get(channel, ()):
        return state
    other = {k: v for k, v in state.topics_off.items() if k != channel}
    return ConsentState(
        consent=state.consent,
        unsubscribed=state.unsubscribed,
        topics_off={**other, channel: topics} if topics else other,
    )


def switch_topic(state: ConsentState, channel: str, topic: str, on: bool) -> ConsentState:
    current = set(state.topics_off.get(channel, ()))
    return set_topics(state, channel, current - {topic} if on else current | {topic})


def one_click(state: ConsentState, channel: str, topic: str | None, at: str) -> ConsentState:
    """What a one-click unsubscribe changes: the message's topic on its channel, or (a link
    without a topic: older links, service messages) everything on the channel."""
    if topic:
        return switch_topic(state, channel, topic, on=False)
    return unsubscribe_channel(state, channel, at)


def changes(before: ConsentState, after: ConsentState) -> list[dict[str, str]]:
    """What changed from ``before`` to ``after``: ``{channel, action[, topic]}`` in order."""
    result: list[dict[str, str]] = []
    channels = sorted(
        set(before.consent)
        | set(after.consent)
        | set(before.unsubscribed)
        | set(after.unsubscribed)
        | set(before.topics_off)
        | set(after.topics_off)
    )
    for channel in channels:
        was, now = before.subscribed(channel), after.subscribed(channel)
        if channel in after.unsubscribed and channel not in before.unsubscribed:
            result.append({"channel": channel, "action": UNSUBSCRIBE})
        elif channel in before.unsubscribed and channel not in after.unsubscribed and now:
            result.append({"channel": channel, "action": RESUBSCRIBE})
        elif was != now or before.consent.get(channel) != after.consent.get(channel):
            given = after.consent.get(channel) is True
            result.append(
                {"channel": channel, "action": CONSENT_GIVEN if given else CONSENT_WITHDRAWN}
            )
        off_before = set(before.topics_off.get(channel, ()))
        off_after = set(after.topics_off.get(channel, ()))
        for topic in sorted(off_after - off_before):
            result.append({"channel": channel, "action": TOPIC_OFF, "topic": topic})
        for topic in sorted(off_before - off_after):
            result.append({"channel": channel, "action": TOPIC_ON, "topic": topic})
    return result
