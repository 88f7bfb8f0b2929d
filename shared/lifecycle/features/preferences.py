"""The preference centre: ``GET /p/{token}`` shows, ``POST /p/{token}`` saves or undoes.

What the page shows (:func:`preferences_view`): per channel the customer has an address for,
whether they receive it ("unsubscribe from everything" on that channel when not), and each
topic they can receive on it (the topics of active and paused marketing campaigns on that
channel), with its name in the customer's language (:mod:`lifecycle.rules.topics`).

What a POST may do (a form, ``application/x-www-form-urlencoded``; the form posts to the
token's own URL, no cookies, so the signed token is the only credential):

* ``action=save``: for every control the page showed (``shown=channel:email``,
  ``shown=topic:email:birthday``) a checked box (``channel:email=on``) means on, an absent
  one off. A channel can be switched back on only if the customer once agreed to it.
* ``action=unsubscribe_all``: unsubscribe from everything on every channel.
* ``action=undo&event=<event_id>``: restore the state before that change, exactly, if nothing
  changed since (else 409 with the current state).

Every change is saved with its record in one transaction (via ``page`` or ``undo``) and the
answer shows the saved state with an Undo button. GET never changes anything. A forged link
is 403, a malformed one 400, an expired one 410; the link of an erased customer is 410 and
stores nothing; a form that cannot be read is 400. Service messages are not listed: topic
opt-outs apply to marketing messages only (:mod:`lifecycle.rules.consent`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from lifecycle.campaigns.model import CHANNELS, TOPIC_RE
from lifecycle.campaigns.repository import list_stored
from lifecycle.core.clock import utc_iso
from lifecycle.core.observability import logger
from lifecycle.core.tokens import Keys, PreferencesClaim, TokenError, verify_preferences
from lifecycle.features import preference_page
from lifecycle.features.preference_page import ChannelPrefs, PreferencesView, Topic
from lifecycle.pages import Page, PageLocale, negotiate
from lifecycle.rules import consent as rules
from lifecycle.rules.consent import ADDRESS_FIELD, ConsentState
from lifecycle.rules.records import CUSTOMER_ID_RE, is_erased
from lifecycle.rules.topics import topic_name
from lifecycle.store import consent as trail
from lifecycle.store.customers import ConsentSaved, get_customer, save_consent

CONFLICT = 409
MAX_FORM_BYTES = 16_384
MAX_FIELDS = 200
MAX_TOPICS_PER_CHANNEL = 50
LISTED_STATUSES = frozenset({"active", "paused"})
EVENT_ID_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ#[0-9a-f]{1,32}\Z")
UNDOABLE = frozenset({trail.PAGE, trail.UNDO, trail.ONE_CLICK})
Change = Callable[[ConsentState], ConsentState]


class FormError(ValueError):
    """The posted form cannot be read or asks for something impossible (400)."""


# ----------------------------------------------------------------------------- topics
def marketing_topics() -> dict[str, dict[str, Any]]:
    """topic -> {channels, names} of active and paused marketing campaigns (the campaigns
    table is small: one Scan)."""
    topics: dict[str, dict[str, Any]] = {}
    for stored in list_stored():
        campaign = stored.campaign
        if campaign.status not in LISTED_STATUSES or not campaign.is_marketing:
            continue
        entry = topics.setdefault(campaign.topic, {"channels": set(), "names": {}})
        entry["channels"].update(campaign.channels)
        entry["names"].update(campaign.topic_names or {})
    return topics


def preferences_view(
    customer: dict[str, Any], action: str, locale: str, **notice: Any
) -> PreferencesView:
    """What the page shows, topic names in ``locale`` (the page's language) where known."""
    state = ConsentState.of(customer)
    topics = marketing_topics()
    channels = []
    for channel in CHANNELS:
        if not customer.get(ADDRESS_FIELD[channel]):
            continue
        listed = []
        for topic in sorted(topics):
            if channel not in topics[topic]["channels"]:
                continue
            name, lang = topic_name(topic, locale, topics[topic]["names"])
            listed.append(Topic(topic, name, lang, state.topic_on(channel, topic)))
        # A topic switched off earlier stays visible while it is off (it can be switched on).
        for topic in state.topics_off.get(channel, ()):
            if topic not in topics or channel not in topics[topic]["channels"]:
                name, lang = topic_name(topic, locale)
                listed.append(Topic(topic, name, lang, False))
        channels.append(
            ChannelPrefs(
                channel=channel,
                subscribed=state.subscribed(channel),
                can_change=state.can_resubscribe(channel),
                topics=tuple(listed),
            )
        )
    return PreferencesView(action=action, channels=tuple(channels), **notice)


# ----------------------------------------------------------------------------- the form
def parse_form(body: str) -> dict[str, list[str]]:
    """The posted fields; :class:`FormError` when the body is not a form we sent."""
    if len(body.encode("utf-8", "surrogatepass")) > MAX_FORM_BYTES:
        raise FormError("form too large")
    try:
        pairs = parse_qsl(
            body, keep_blank_values=True, strict_parsing=bool(body), max_num_fields=MAX_FIELDS
        )
    except ValueError:
        raise FormError("not a form") from None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\ufffd" in name or "\ufffd" in value:
            raise FormError("form is not UTF-8")
        fields.setdefault(name, []).append(value)
    return fields


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name, [])
    if len(values) != 1:
        raise FormError(f"{name}: expected exactly one value")
    return values[0]


def _control(name: str) -> tuple[str, str | None]:
    """``channel:<channel>`` or ``topic:<channel>:<topic>`` -> (channel, topic)."""
    parts = name.split(":")
    if len(parts) == 2 and parts[0] == "channel" and parts[1] in CHANNELS:
        return parts[1], None
    if (
        len(parts) == 3
        and parts[0] == "topic"
        and parts[1] in CHANNELS
        and TOPIC_RE.match(parts[2])
    ):
        return parts[1], parts[2]
    raise FormError("unknown control")


def save_change(fields: dict[str, list[str]], at: str) -> Change:
    """The state change a ``save`` form asks for (a function of the current state)."""
    shown = [_control(name) for name in fields.get("shown", [])]
    for name, values in fields.items():
        if name in ("action", "shown"):
            continue
        if _control(name) not in shown:  # every other field is a control the page showed
            raise FormError("a control the page did not show")
        if values != ["on"]:
            raise FormError("a checkbox is either on (once) or absent")
    if len(shown) > len(CHANNELS) * (MAX_TOPICS_PER_CHANNEL + 1):
        raise FormError("too many controls")

    def change(state: ConsentState) -> ConsentState:
        for channel, topic in shown:
            checked = f"channel:{channel}" if topic is None else f"topic:{channel}:{topic}"
            on = checked in fields
            if topic is None:
                if on:
                    state = rules.resubscribe_channel(state, channel)
                else:
                    state = rules.unsubscribe_channel(state, channel, at)
            else:
                state = rules.switch_topic(state, channel, topic, on)
        for channel in CHANNELS:
            if len(state.topics_off.get(channel, ())) > MAX_TOPICS_PER_CHANNEL:
                raise FormError("too many topics switched off")
        return state

    return change


# ----------------------------------------------------------------------------- endpoints
def _claim(key: Keys, token: str, now: datetime) -> PreferencesClaim:
    claim = verify_preferences(key, token, now)
    if not CUSTOMER_ID_RE.match(claim.customer_id):
        raise TokenError("malformed", "token names no customer")
    return claim


def _locale(customer: dict[str, Any] | None, accept_language: str | None) -> PageLocale:
    locale = (customer or {}).get("locale")
    return negotiate(str(locale) if locale else None, accept_language)


def _customer(
    key: Keys, token: str, now: datetime, accept_language: str | None
) -> dict[str, Any] | Page:
    try:
        claim = _claim(key, token, now)
    except TokenError as exc:
        logger.info("preferences token rejected", kind=exc.kind)
        return preference_page.invalid_link(exc.kind, _locale(None, accept_language))
    customer = get_customer(claim.customer_id)
    if customer is None or is_erased(customer):
        # Erased (or never known): the link is gone; nothing is stored.
        return preference_page.invalid_link("erased", _locale(None, accept_language))
    return customer


def show_preferences(
    token: str, key: Keys, now: datetime, accept_language: str | None = None
) -> Page:
    """GET: the customer's current preferences; changes nothing."""
    customer = _customer(key, token, now, accept_language)
    if isinstance(customer, Page):
        return customer
    locale = _locale(customer, accept_language)
    return preference_page.render(preferences_view(customer, token, locale.tag), locale)


def submit_preferences(
    token: str, body: str, key: Keys, now: datetime, accept_language: str | None = None
) -> Page:
    """POST: save the form (or undo a change) and show the saved state."""
    customer = _customer(key, token, now, accept_language)
    if isinstance(customer, Page):
        return customer
    customer_id = str(customer["customer_id"])
    locale = _locale(customer, accept_language)
    try:
        fields = parse_form(body)
        action = _one(fields, "action")
        if action == "save":
            saved = save_consent(customer_id, save_change(fields, utc_iso(now)), trail.PAGE, now)
        elif action == "unsubscribe_all":
            if set(fields) != {"action"}:
                raise FormError("unsubscribe_all takes no other field")
            saved = save_consent(customer_id, _everything_off(utc_iso(now)), trail.PAGE, now)
        elif action == "undo":
            return _undo(customer_id, _one(fields, "event"), token, now, locale)
        else:
            raise FormError("unknown action")
    except FormError as exc:
        logger.info("preferences form rejected", reason=str(exc))
        return preference_page.bad_form(locale)
    return _saved(customer_id, saved, token, locale)


def _everything_off(at: str) -> Change:
    def change(state: ConsentState) -> ConsentState:
        for channel in CHANNELS:
            if state.can_resubscribe(channel):
                state = rules.unsubscribe_channel(state, channel, at)
        return state

    return change


def _shown(
    customer_id: str, token: str, locale: PageLocale, status: int = 200, **notice: Any
) -> Page:
    """The saved state as the page shows it; 410 when the customer was erased meanwhile."""
    customer = get_customer(customer_id)
    if customer is None or is_erased(customer):
        return preference_page.invalid_link("erased", locale)
    view = preferences_view(customer, token, locale.tag, **notice)
    return preference_page.render(view, locale, status)


def _saved(customer_id: str, saved: ConsentSaved | None, token: str, locale: PageLocale) -> Page:
    if saved is None:
        return preference_page.invalid_link("erased", locale)  # erased meanwhile
    if saved.event is None:
        return _shown(customer_id, token, locale, notice="unchanged")
    logger.info(
        "preferences saved",
        customer_id=customer_id,
        event_id=saved.event.event_id,
        changes=len(saved.event.changes),
    )
    return _shown(customer_id, token, locale, notice="saved", undo_event=saved.event.event_id)


def _undo(customer_id: str, event_id: str, token: str, now: datetime, locale: PageLocale) -> Page:
    if not EVENT_ID_RE.match(event_id):
        raise FormError("not an event id")
    event = trail.get_event(customer_id, event_id)
    if event is None or event.via not in UNDOABLE or event.before is None or event.after is None:
        raise FormError("no such change to undo")
    target = ConsentState.of(event.before)
    expected = ConsentState.of(event.after)
    conflict = False

    def change(state: ConsentState) -> ConsentState:
        nonlocal conflict
        conflict = state not in (expected, target)
        return target if state == expected else state

    saved = save_consent(customer_id, change, trail.UNDO, now, undoes=event_id)
    if saved is None:
        return preference_page.invalid_link("erased", locale)
    if conflict:
        return _shown(customer_id, token, locale, CONFLICT, notice="conflict")
    if saved.event is None:
        return _shown(customer_id, token, locale, notice="unchanged")
    return _shown(customer_id, token, locale, notice="undone", undo_event=saved.event.event_id)


def consent_history(customer_id: str) -> list[dict[str, Any]]:
    """The customer's recorded consent changes, oldest first (for the history API)."""
    return [event.public() for event in trail.events_of(customer_id)]
