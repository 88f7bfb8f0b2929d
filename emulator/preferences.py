"""``--preferences prefs.jsonl``: customers using the links in their last e-mail.

Each line ``{customer_id, at, action, topic?, channel?}`` is performed at ``at`` on the
simulated clock through the real endpoints, as a person with a browser would:

* ``one_click``: the mail client's RFC 8058 one-click POST to the ``List-Unsubscribe`` URL
  of the last e-mail the customer received (it switches off that message's topic);
* ``topic_off`` / ``topic_on``: open the preference link of that e-mail (GET /p/{token}),
  untick or tick ``topic`` on ``channel`` (default ``email``) and save the form (POST);
* ``all_off``: open the preference link and press "Unsubscribe from everything".

A line that cannot be performed (no e-mail received before ``at``, a topic the page does not
offer, an endpoint answering an error) is listed under the report's ``rejected``; a line that
cannot be read is rejected like any other input line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from pydantic import Field, field_validator, model_validator

from emulator.config import existing
from emulator.environment import ACCOUNT, REGION
from emulator.inputs import TimelineEntry, _instant, _Line, read_lines
from lifecycle.features.importer import Rejection

EVENTS = Path(__file__).resolve().parent.parent / "events" / "unsubscribe"
TOPIC_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
# After every order, usage event and survey answer given the same instant.
SEQUENCE_BASE = 1_000_000_000


class PreferenceLine(_Line):
    customer_id: str
    at: datetime
    action: Literal["one_click", "topic_off", "topic_on", "all_off"]
    topic: str | None = Field(default=None, pattern=TOPIC_PATTERN)
    channel: Literal["email", "sms"] = "email"

    _at = field_validator("at", mode="before")(lambda cls, v: _instant(v))

    @model_validator(mode="after")
    def _needs_topic(self) -> PreferenceLine:
        if self.action in ("topic_off", "topic_on") and not self.topic:
            raise ValueError(f"{self.action} needs a topic")
        return self


def read_preferences(path: Path) -> tuple[list[TimelineEntry], list[Rejection]]:
    """The lines as timeline entries (kind ``preference``); bad lines are rejected."""
    lines, rejected = read_lines(existing(path, "preferences"), PreferenceLine, "customer_id")
    timeline: list[TimelineEntry] = [
        (line.at, SEQUENCE_BASE + number, "preference", (number, line)) for number, line in lines
    ]
    return timeline, rejected


# --------------------------------------------------------------------------- the mailbox
class MailLinks:
    """The links of the last e-mail each customer received (read from what SES accepted)."""

    def __init__(self) -> None:
        self.links: dict[str, dict[str, str]] = {}
        self._seen = 0

    def refresh(self) -> None:
        from moto.ses.models import ses_backends

        mails = ses_backends[ACCOUNT][REGION].sent_messages
        for mail in mails[self._seen :]:
            raw = getattr(mail, "raw_data", None)
            if raw is None:
                continue
            links = mail_links(raw.encode() if isinstance(raw, str) else raw)
            if links is not None:
                customer, found = links
                self.links[customer] = found
        self._seen = len(mails)

    def get(self, customer_id: str) -> dict[str, str] | None:
        return self.links.get(customer_id)


def mail_links(raw: bytes) -> tuple[str, dict[str, str]] | None:
    """(customer id, {unsubscribe, preferences}) of one raw e-mail."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    customer = message["X-LCM-Customer-Id"]
    if customer is None:
        return None
    found: dict[str, str] = {}
    unsubscribe = str(message.get("List-Unsubscribe", "")).strip().strip("<>")
    if unsubscribe:
        found["unsubscribe"] = unsubscribe
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    for word in text.split():
        if "/p/" in word and word.startswith("http"):
            found["preferences"] = word.rstrip(".,;)")
    return str(customer), found


def _token(url: str, prefix: str) -> str | None:
    path = urlsplit(url).path
    index = path.rfind(prefix)
    return path[index + len(prefix) :] if index >= 0 else None


# --------------------------------------------------------------------------- the browser
class _Forms(HTMLParser):
    """The forms of a page: their hidden fields and checkboxes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"fields": [], "boxes": {}})
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            if values.get("type") == "checkbox":
                form["boxes"][values.get("name", "")] = "checked" in values
            elif values.get("name"):
                form["fields"].append((values["name"], values.get("value", "")))


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _form_with(forms: list[dict[str, Any]], action: str) -> dict[str, Any] | None:
    return next((f for f in forms if ("action", action) in f["fields"]), None)


def form_body(form: dict[str, Any]) -> str:
    pairs = list(form["fields"]) + [(name, "on") for name, on in form["boxes"].items() if on]
    return urlencode(pairs)


def page_event(name: str, prefix: str, token: str, body: str | None = None) -> dict[str, Any]:
    """API Gateway REST event of ``/u/{token}`` or ``/p/{token}`` from the fixtures."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    event["path"] = f"{prefix}{token}"
    event["pathParameters"] = {"token": token}
    event["requestContext"]["path"] = f"/v1{prefix}{token}"
    if body is not None:
        event["body"] = body
    return event


Call = Callable[[dict[str, Any]], dict[str, Any]]


def perform(line: PreferenceLine, links: dict[str, str] | None, call: Call) -> str | None:
    """Do what ``line`` asks with the links of the customer's last e-mail through ``call``
    (the unsubscribe function, synchronously); the reason it could not, or None."""
    if links is None:
        return f"no e-mail received before {line.at.isoformat()}"
    if line.action == "one_click":
        token = _token(links.get("unsubscribe", ""), "/u/")
        if not token:
            return "the last e-mail has no List-Unsubscribe link"
        event = page_event("post_one_click.json", "/u/", token, "List-Unsubscribe=One-Click")
        response = call(event)
        return None if response["statusCode"] == 200 else _status(response)
    token = _token(links.get("preferences", ""), "/p/")
    if not token:
        return "the last e-mail has no preference link"
    page = call(page_event("preferences_get.json", "/p/", token))
    if page["statusCode"] != 200:
        return _status(page)
    forms = forms_of(page["body"])
    if line.action == "all_off":
        form = _form_with(forms, "unsubscribe_all")
        if form is None:
            return "the page offers no unsubscribe from everything"
    else:
        form = _form_with(forms, "save")
        box = f"topic:{line.channel}:{line.topic}"
        if form is None or box not in form["boxes"]:
            return f"the page offers no topic {line.topic} on {line.channel}"
        form["boxes"][box] = line.action == "topic_on"
    response = call(page_event("preferences_post.json", "/p/", token, form_body(form)))
    return None if response["statusCode"] == 200 else _status(response)


def _status(response: dict[str, Any]) -> str:
    return f"the endpoint answered {response['statusCode']}"
