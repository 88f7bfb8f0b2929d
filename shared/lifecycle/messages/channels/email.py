"""E-mail: raw MIME (text + HTML) with RFC 8058 one-click unsubscribe, sent with SES v2.

A marketing e-mail also carries a footer under the unsubscribe line: a link to the
preference centre, the company name and the postal address (composition passes them in the
context under :data:`FOOTER_KEY`; a service message passes none).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from typing import Any, ClassVar

from lifecycle.messages.channels.base import (
    Message,
    ProviderError,
    Providers,
    Rendered,
    call_provider,
)
from lifecycle.messages.tags import delivery_tags
from lifecycle.rules.templates import choose_locale, render_email

__all__ = [
    "EMAIL",
    "FOOTER_KEY",
    "OutgoingEmail",
    "ProviderError",
    "build_mime",
    "send_email",
    "with_marketing_footer",
]

# Context key of the marketing footer: {preferences_url, company_name, postal_address}.
FOOTER_KEY = "marketing_footer"
PREFERENCES_LABEL = {
    "en": "Manage your preferences",
    "de": "Einstellungen verwalten",
    "fr": "Gérer vos préférences",
    "es": "Gestionar tus preferencias",
    "it": "Gestisci le tue preferenze",
    "pt": "Gerir as suas preferências",
    "nl": "Je voorkeuren beheren",
    "pl": "Zarządzaj preferencjami",
    "zh-CN": "管理您的偏好设置",
    "ja": "配信設定の変更",
    "ko": "수신 설정 관리",
}

# SES errors that will not succeed on retry: the message is marked failed, never resent.
PERMANENT_ERRORS = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
    }
)


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    to: str
    to_name: str | None
    subject: str
    text: str
    html: str | None
    local_date: datetime  # aware, in the customer's timezone: becomes the Date header
    unsubscribe_url: str
    delivery_id: str
    campaign_id: str
    customer_id: str
    occasion: str
    locale: str


# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators: never in a header
# (CR/LF would start a new header, NUL is copied as is). Import refuses them in names; this
# also covers data stored before that and subjects rendered from templates.
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text(value: str) -> str:
    """``value`` on one line: unsafe characters become spaces, runs of spaces one space."""
    return " ".join(_HEADER_UNSAFE.sub(" ", value).split())


def build_mime(mail: OutgoingEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    local, _, domain = mail.to.rpartition("@")
    message["To"] = Address(
        display_name=header_text(mail.to_name or ""), username=local, domain=domain
    )
    message["Subject"] = header_text(mail.subject)
    message["Date"] = format_datetime(mail.local_date)
    sender_domain = mail.sender.rpartition("@")[2].strip(">") or "localhost"
    digest = hashlib.sha256(mail.delivery_id.encode()).hexdigest()[:32]
    # Deterministic Message-ID: if a copy were ever sent twice, clients can fold it.
    message["Message-ID"] = f"<{digest}@{sender_domain}>"
    message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-LCM-Delivery-Id"] = mail.delivery_id
    message["X-LCM-Campaign-Id"] = mail.campaign_id
    message["X-LCM-Customer-Id"] = mail.customer_id
    message["X-LCM-Occasion"] = mail.occasion
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    message["Content-Language"] = mail.locale  # after set_content, which drops Content-* headers
    if message.is_multipart():
        message.set_boundary(f"lcm-{digest}")  # deterministic: same delivery, same bytes
    return message


def send_email(sesv2: Any, mail: OutgoingEmail, configuration_set: str = "") -> str:
    """Send through SES v2 (Raw content); return the SES message id."""
    raw = build_mime(mail).as_bytes()
    request: dict[str, Any] = {
        "FromEmailAddress": mail.sender,
        "Destination": {"ToAddresses": [mail.to]},
        "Content": {"Raw": {"Data": raw}},
        # SES copies the tags into its events: the delivery id lets feedback find the item.
        "EmailTags": [
            {"Name": "campaign_id", "Value": _tag(mail.campaign_id)},
            {"Name": "occasion", "Value": _tag(mail.occasion)},
            *delivery_tags(mail.delivery_id),
        ],
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    response = call_provider("SES", lambda: sesv2.send_email(**request), PERMANENT_ERRORS)
    return str(response.get("MessageId", ""))


def _tag(value: str) -> str:
    """SES tag values allow only ASCII letters, digits, '_' and '-'."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "_" for ch in value)[
        :256
    ]


def with_marketing_footer(rendered: Rendered, footer: Mapping[str, str]) -> Rendered:
    """``rendered`` with the preference link, company name and postal address appended to
    its text and HTML (after the unsubscribe line)."""
    url = footer.get("preferences_url", "")
    label = PREFERENCES_LABEL[choose_locale(list(PREFERENCES_LABEL), rendered.locale)]
    sender = [line for line in (footer.get("company_name"), footer.get("postal_address")) if line]
    text = rendered.text.rstrip("\n") + f"\n{label}: {url}\n"
    if sender:
        text += " · ".join(header_text(line) for line in sender) + "\n"
    html = rendered.html
    if html:
        block = (
            f'<p style="font-size:12px;color:#666">{escape(label)}: '
            f'<a href="{escape(url)}">{escape(url)}</a></p>'
        )
        if sender:
            block += (
                '<p style="font-size:12px;color:#666">'
                + "<br>".join(escape(line) for line in sender)
                + "</p>"
            )
        if "</body>" in html:
            head, tail = html.rsplit("</body>", 1)
            html = f"{head}{block}</body>{tail}"
        else:
            html += block
    return replace(rendered, text=text, html=html)


class Email:
    """The e-mail channel: subject, text and HTML; no provider opt-out list (links instead)."""

    name: ClassVar[str] = "email"
    address_field: ClassVar[str] = "email"
    write_ahead: ClassVar[bool] = True

    def render(
        self, content: Mapping[str, Mapping[str, str | None]], locale: str | None, context: Any
    ) -> Rendered:
        mail = render_email(content, locale, context)
        rendered = Rendered(
            channel=self.name,
            locale=mail.locale,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
        )
        footer = context.get(FOOTER_KEY) if isinstance(context, Mapping) else None
        return with_marketing_footer(rendered, footer) if footer else rendered

    def over_limit(self, rendered: Rendered, max_segments: int) -> str | None:
        return None

    def opted_out(self, providers: Providers, address: str) -> bool:
        return False

    def send(self, providers: Providers, message: Message) -> str:
        rendered = message.rendered
        mail = OutgoingEmail(
            sender=message.sender,
            to=message.to,
            to_name=message.to_name,
            subject=rendered.subject or "",
            text=rendered.text,
            html=rendered.html,
            local_date=message.local_date,
            unsubscribe_url=message.unsubscribe_url,
            delivery_id=message.delivery_id,
            campaign_id=message.campaign_id,
            customer_id=message.customer_id,
            occasion=message.occasion,
            locale=rendered.locale,
        )
        return send_email(providers.sesv2, mail, providers.configuration_set)


EMAIL = Email()
