"""The preference centre's markup (kept apart from its logic, :mod:`.preferences`, so it can
move onto the shared customer-page layout and its message catalogs).

A self-contained page: ``lang`` set to the language shown (English; each topic name carries
its own ``lang``), one fieldset per channel with a legend, every checkbox inside its label,
tap targets at least 44 px tall, one column that fits a 375 px phone, a visible focus ring,
the company name and postal address at the bottom. The forms post to the token's own URL.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from lifecycle.features.unsubscribe import Page

if TYPE_CHECKING:
    from lifecycle.features.preferences import ChannelPrefs, PreferencesView

CHANNEL_NAMES = {"email": "E-mail", "sms": "Text messages (SMS)"}
RECEIVE = {"email": "Receive e-mails from us", "sms": "Receive text messages from us"}
NOTICES = {
    "saved": "Your preferences are saved.",
    "undone": "Your last change was undone.",
    "unchanged": "Nothing changed: your preferences were already like this.",
    "conflict": (
        "Your preferences changed since then, so that change was not undone. "
        "This is what is saved now."
    ),
}
LINK_ERRORS = {
    "malformed": "This link is not complete. Please copy the whole link from the message.",
    "forged": "This link is not valid.",
    "expired": "This link has expired. Use the link in a more recent message.",
    "erased": "This link is no longer valid.",
}

_STYLE = """
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f1f1f;
background:#fff}
main{max-width:36rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
fieldset{border:1px solid #c4c4c4;border-radius:8px;margin:0 0 1rem;padding:.5rem 1rem 1rem}
fieldset fieldset{border:0;padding:0;margin:.5rem 0 0}
legend{font-weight:600;padding:0 .25rem}
label.row{display:flex;align-items:center;gap:.75rem;min-height:44px;padding:.25rem 0;
cursor:pointer}
label.row input{width:24px;height:24px;flex:none;margin:0}
button{font:inherit;min-height:44px;min-width:44px;padding:.5rem 1rem;border-radius:8px;
border:2px solid #1f1f1f;background:#1f1f1f;color:#fff;cursor:pointer;width:100%}
button.secondary{background:#fff;color:#1f1f1f}
form+form{margin-top:1rem}
:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.notice{border-left:4px solid #1f7a1f;background:#eef7ee;padding:.5rem 1rem;margin:0 0 1rem}
.notice.conflict{border-color:#a15c00;background:#fff4e5}
.muted{color:#555}
footer{margin-top:2rem;font-size:.875rem;color:#555}
"""


def _document(title: str, body: str, footer: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}{footer}</main></body></html>"
    )


def _checkbox(name: str, checked: bool, label: str, lang: str = "en") -> str:
    span = f'<span lang="{escape(lang)}">{escape(label)}</span>' if lang != "en" else escape(label)
    return (
        f'<input type="hidden" name="shown" value="{escape(name)}">'
        f'<label class="row"><input type="checkbox" name="{escape(name)}"'
        f"{' checked' if checked else ''}>{span}</label>"
    )


def _channel(prefs: ChannelPrefs) -> str:
    name = CHANNEL_NAMES.get(prefs.channel, prefs.channel)
    parts = [f"<fieldset><legend>{escape(name)}</legend>"]
    if prefs.can_change:
        parts.append(
            _checkbox(f"channel:{prefs.channel}", prefs.subscribed, RECEIVE[prefs.channel])
        )
    else:
        parts.append(f'<p class="muted">You have not signed up for {escape(name.lower())}.</p>')
    if prefs.topics:
        parts.append("<fieldset><legend>Topics</legend>")
        if not prefs.subscribed:
            parts.append('<p class="muted">Topics apply while you receive these messages.</p>')
        for topic in prefs.topics:
            parts.append(
                _checkbox(f"topic:{prefs.channel}:{topic.topic}", topic.on, topic.name, topic.lang)
            )
        parts.append("</fieldset>")
    parts.append("</fieldset>")
    return "".join(parts)


def render(view: PreferencesView, status: int = 200) -> Page:
    """The preference page for ``view``."""
    action = escape(view.action)
    parts: list[str] = []
    if view.notice:
        kind = "notice conflict" if view.notice == "conflict" else "notice"
        parts.append(f'<div class="{kind}" role="status"><p>{escape(NOTICES[view.notice])}</p>')
        if view.undo_event:
            parts.append(
                f'<form method="post" action="{action}">'
                '<input type="hidden" name="action" value="undo">'
                f'<input type="hidden" name="event" value="{escape(view.undo_event)}">'
                '<button type="submit" class="secondary">Undo</button></form>'
            )
        parts.append("</div>")
    if not view.channels:
        parts.append("<p>We have no address of yours to send messages to.</p>")
    else:
        parts.append(
            "<p>Choose what you would like to receive. Unticked topics and channels "
            "are not sent to you.</p>"
        )
        parts.append(f'<form method="post" action="{action}">')
        parts.append('<input type="hidden" name="action" value="save">')
        parts.extend(_channel(prefs) for prefs in view.channels)
        parts.append('<button type="submit">Save preferences</button></form>')
        parts.append(
            f'<form method="post" action="{action}">'
            '<input type="hidden" name="action" value="unsubscribe_all">'
            '<button type="submit" class="secondary">Unsubscribe from everything</button></form>'
        )
    footer_lines = [line for line in (view.company_name, view.postal_address) if line]
    footer = (
        "<footer>" + "<br>".join(escape(line) for line in footer_lines) + "</footer>"
        if footer_lines
        else ""
    )
    return Page(status, _document("Your preferences", "".join(parts), footer))


def link_error(status: int, kind: str) -> Page:
    """The page of a preference link that does not work (400, 403 or 410)."""
    return Page(status, _document("Link not valid", f"<p>{escape(LINK_ERRORS[kind])}</p>"))


def bad_form(status: int) -> Page:
    """The answer to a form this page did not send (400)."""
    return Page(
        status,
        _document(
            "Preferences not saved",
            "<p>We could not read that form. Please open the link from the message again.</p>",
        ),
    )
