"""The local outbox of ``python -m emulator serve``: what the providers accepted, as people see it.

Owns :func:`collect` (every e-mail moto's SES accepted and every SMS moto's SNS published in
this process, as the rows of ``messages.jsonl`` plus the e-mail's HTML part and its links) and
the pages built from it: :func:`outbox_json` (``/_local/outbox.json``), :func:`outbox_page`
(``/_local/outbox``, newest first), :func:`message_page` (one message: headers, text, the
HTML part in a sandboxed frame) and :func:`html_part` (that frame's document). Everything
taken from a message is escaped on the pages; the HTML part is served as its own document,
sandboxed (no scripts, no same-origin access), with its links opening in the top window.

Links (unsubscribe, preferences, survey) are found in the ``List-Unsubscribe`` header and the
message's text and HTML by their path (``/u/``, ``/p/``, ``/s/`` + token) whatever host they
name, and given as absolute URLs on this server.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from emulator.environment import ACCOUNT, REGION
from emulator.readback import message_line, sent_messages

# First path segment of a link -> its name in ``links``.
LINK_KINDS = {"u": "unsubscribe", "p": "preferences", "s": "survey"}
_URL = re.compile(r"https?://[^\s\"'<>]+")
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_LINK_PATH = re.compile(r"/(u|p|s)/([A-Za-z0-9_\-.~%]+)/?$")


@dataclass(frozen=True)
class OutboxMessage:
    """One message: ``row`` has the fields of a ``messages.jsonl`` line."""

    id: str
    row: dict[str, Any]
    html: str | None
    links: dict[str, str | None]


def find_links(base_url: str, texts: Iterable[str], unsubscribe: str | None) -> dict[str, Any]:
    """``{unsubscribe, preferences, survey}``: the first link of each kind, on ``base_url``.

    ``unsubscribe`` is the ``List-Unsubscribe`` header (its https URL wins over the body's).
    """
    links: dict[str, str | None] = dict.fromkeys(LINK_KINDS.values())
    candidates = _URL.findall(unsubscribe or "")
    for text in texts:
        candidates += _URL.findall(text)
    for url in candidates:
        match = _LINK_PATH.search(urlsplit(html.unescape(url).rstrip(".,;)")).path)
        if match is None:
            continue
        kind = LINK_KINDS[match.group(1)]
        if links[kind] is None:
            links[kind] = f"{base_url}/{match.group(1)}/{match.group(2)}"
    return links


def _email(raw: str | bytes, base_url: str, number: int) -> OutboxMessage:
    data = raw.encode() if isinstance(raw, str) else raw
    row = message_line(data)
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    body = str(part.get_content()) if part is not None else None
    links = find_links(
        base_url, [row["text"], body or ""], str(message.get("List-Unsubscribe") or "")
    )
    return OutboxMessage(id=f"email-{number}", row=row, html=body, links=links)


@dataclass
class OutboxCache:
    """What :func:`collect` has read already: moto's lists of sent mail and SMS only grow."""

    emails: dict[int, OutboxMessage] = field(default_factory=dict)
    sms_seen: int = 0
    sms: list[OutboxMessage] = field(default_factory=list)


def collect(
    base_url: str,
    ledger: Any = None,
    customers: Any = None,
    cache: OutboxCache | None = None,
) -> list[OutboxMessage]:
    """Every message this process's moto SES and SNS accepted, in ``messages.jsonl`` order.

    ``ledger`` and ``customers`` are callables returning the Deliveries and Customers items
    (DynamoDB JSON); they are read only when SMS arrived since the last call (to name each
    SMS's customer and campaign, as ``messages.jsonl`` does). ``cache`` keeps what was read.
    """
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    seen = cache if cache is not None else OutboxCache()
    messages = []
    for n, mail in enumerate(ses_backends[ACCOUNT][REGION].sent_messages):
        if n not in seen.emails and hasattr(mail, "raw_data"):
            seen.emails[n] = _email(mail.raw_data, base_url, n)
        if n in seen.emails:
            messages.append(seen.emails[n])
    sms_count = len(sns_backends[ACCOUNT][REGION].sms_messages)
    if sms_count != seen.sms_seen:
        rows = sent_messages(ledger() if ledger else [], customers() if customers else [])
        seen.sms = []
        for row in (r for r in rows if r["channel"] == "sms"):
            key = f"{row['sent_at']}|{row['to']}|{row['text']}".encode()
            seen.sms.append(
                OutboxMessage(
                    id="sms-" + hashlib.sha256(key).hexdigest()[:16],
                    row=row,
                    html=None,
                    links=find_links(base_url, [row["text"]], None),
                )
            )
        seen.sms_seen = sms_count
    return sorted(
        [*messages, *seen.sms],
        key=lambda m: (
            m.row["sent_at"],
            m.row["campaign_id"],
            m.row["customer_id"],
            m.row["channel"],
        ),
    )


def outbox_json(messages: Iterable[OutboxMessage]) -> list[dict[str, Any]]:
    """One object per message: the ``messages.jsonl`` fields, ``id`` and ``links``."""
    return [{**m.row, "id": m.id, "links": m.links} for m in messages]


_STYLE = """<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222}
header{background:#1f2937;color:#fff;padding:.6em 1em}header a{color:#cde}
main{padding:1em;max-width:70em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}
tr:hover{background:#f4f6fa}.muted{color:#666;font-size:.9em}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.8em;border-radius:4px}
iframe{width:100%;height:32em;border:1px solid #ccc;border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}
dd,pre,td{overflow-wrap:anywhere;margin:0}
</style>"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{_STYLE}</head><body>"
        '<header><a href="/_local/outbox">Local outbox</a> · '
        '<a href="/_local/outbox.json">outbox.json</a> · '
        '<span class="muted">local only: messages of this process</span></header>'
        f"<main>{body}</main></body></html>"
    )


def outbox_page(messages: list[OutboxMessage]) -> str:
    """The list of messages, newest first: when, channel, to, subject (or SMS text)."""
    rows = []
    for message in reversed(messages):
        row = message.row
        title = row["subject"] if row["channel"] == "email" else row["text"][:80]
        rows.append(
            "<tr>"
            f"<td>{html.escape(row['local_time'])}<br>"
            f'<span class="muted">{html.escape(row["sent_at"])}</span></td>'
            f"<td>{html.escape(row['channel'])}</td>"
            f"<td>{html.escape(row['to'])}</td>"
            f'<td><a href="/_local/outbox/{html.escape(message.id)}">'
            f"{html.escape(title or '(no subject)')}</a><br>"
            f'<span class="muted">{html.escape(row["campaign_id"])} · '
            f"{html.escape(row['customer_id'])}</span></td>"
            "</tr>"
        )
    table = (
        "<table><thead><tr><th>Date (recipient's time)</th><th>Channel</th><th>To</th>"
        "<th>Subject</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else "<p>No message has been sent.</p>"
    )
    return _page("Local outbox", f"<h1>Outbox ({len(messages)} messages)</h1>{table}")


def _linkify(text: str) -> str:
    """``text`` escaped, with its http(s) URLs as links."""
    out, last = [], 0
    for match in _URL.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        url = html.escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def message_page(message: OutboxMessage) -> str:
    """One message: its headers and links, its HTML part in a sandboxed frame, its text."""
    row = message.row
    fields = [
        ("To", row["to"]),
        ("Subject", row["subject"] or ""),
        ("Date", row["local_time"]),
        ("Sent (UTC)", row["sent_at"]),
        ("Campaign", row["campaign_id"]),
        ("Customer", row["customer_id"]),
        ("Channel", row["channel"]),
    ]
    details = "".join(
        f"<dt>{html.escape(name)}</dt><dd>{html.escape(value)}</dd>" for name, value in fields
    )
    links = "".join(
        f'<dt>{html.escape(kind)}</dt><dd><a href="{html.escape(url)}">{html.escape(url)}</a></dd>'
        for kind, url in message.links.items()
        if url
    )
    frame = (
        '<h2>HTML</h2><iframe title="HTML part" referrerpolicy="no-referrer" '
        'sandbox="allow-popups allow-popups-to-escape-sandbox '
        'allow-top-navigation-by-user-activation" '
        f'src="/_local/outbox/{html.escape(message.id)}/html"></iframe>'
        if message.html is not None
        else ""
    )
    headers = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in row["headers"].items()
    )
    body = (
        f"<h1>{html.escape(row['subject'] or 'SMS')}</h1><dl>{details}{links}</dl>{frame}"
        f"<h2>Text</h2><pre>{_linkify(row['text'])}</pre>"
        + (f"<details><summary>Headers</summary><dl>{headers}</dl></details>" if headers else "")
    )
    return _page(row["subject"] or "SMS", body)


# The HTML part is a document of its own: sandboxed (no scripts, no same-origin access, no
# forms), images allowed, and links open in the top window (the frame allows that on a click).
HTML_PART_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation;"
    " default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
)


def html_part(message: OutboxMessage) -> str | None:
    """The message's HTML part, its links opening in the top window (``<base target>``)."""
    if message.html is None:
        return None
    base = '<base target="_top">'
    head = _HEAD.search(message.html)
    if head is None:
        return base + message.html
    return message.html[: head.end()] + base + message.html[head.end() :]
