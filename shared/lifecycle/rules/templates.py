"""Template rendering: Jinja2 immutable sandbox, StrictUndefined, size limits, locale fallback."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 200_000
MAX_RANGE = 1_000
MAX_SUBJECT_CHARS = 250

# Names every template may use; ``offer`` only with an offer, others per occasion
# (see ``lifecycle.campaigns.model.template_variables``).
TEMPLATE_VARIABLES = frozenset(
    {"first_name", "last_name", "customer", "campaign", "occasion", "unsubscribe_url"}
)


class RenderError(ValueError):
    """A template cannot be compiled or rendered; ``field`` says which one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """Sandbox that also bounds ``range`` and the size of ``*`` / ``**`` results."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        for seq, times in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(times, int)
                and len(seq) * times > MAX_OUTPUT_CHARS
            ):
                raise SecurityError("repetition result too large")
        return operator.mul(left, right)


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SecurityError(f"range() larger than {MAX_RANGE}")
    return result


def _environment(autoescape: bool) -> _LimitedEnvironment:
    env = _LimitedEnvironment(
        undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True
    )
    env.globals["range"] = _bounded_range
    return env


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)


@lru_cache(maxsize=512)
def _compile(source: str, html: bool) -> Any:
    env = _HTML_ENV if html else _TEXT_ENV
    return env.from_string(source)


def check_template(
    source: str, field: str, *, html: bool = False, allowed: frozenset[str] = TEMPLATE_VARIABLES
) -> None:
    """Compile ``source`` and check it only uses ``allowed`` variables (:class:`RenderError`)."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise RenderError(field, f"template longer than {MAX_TEMPLATE_CHARS} characters")
    env = _HTML_ENV if html else _TEXT_ENV
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        raise RenderError(
            field, f"template syntax error on line {exc.lineno}: {exc.message}"
        ) from None
    unknown = sorted(meta.find_undeclared_variables(ast) - allowed - set(env.globals))
    if unknown:
        hint = (
            " ('offer' needs an offer on the campaign)"
            if "offer" in unknown and "offer" not in allowed
            else ""
        )
        raise RenderError(
            field,
            f"undefined variable(s) {', '.join(unknown)}{hint}; "
            f"available: {', '.join(sorted(allowed))}",
        )


def render(source: str, context: Mapping[str, Any], field: str, *, html: bool = False) -> str:
    """Render one template; any failure is a :class:`RenderError` naming ``field``."""
    try:
        output = str(_compile(source, html).render(**context))
    except TemplateSyntaxError as exc:
        raise RenderError(field, f"template syntax error: {exc.message}") from None
    except UndefinedError as exc:
        raise RenderError(field, f"undefined value: {exc.message}") from None
    except SecurityError as exc:
        raise RenderError(field, f"not allowed in templates: {exc}") from None
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise RenderError(field, f"{type(exc).__name__}: {exc}") from None
    if len(output) > MAX_OUTPUT_CHARS:
        raise RenderError(field, f"rendered text longer than {MAX_OUTPUT_CHARS} characters")
    return output


def choose_locale(available: list[str], wanted: str | None) -> str:
    """Exact match -> same language -> the campaign's first locale (case-insensitive)."""
    if not available:
        raise ValueError("no locales to choose from")
    if wanted:
        wanted_lower = wanted.lower()
        for key in available:
            if key.lower() == wanted_lower:
                return key
        language = wanted_lower.split("-")[0]
        for key in available:
            if key.lower() == language:
                return key
        for key in available:
            if key.lower().split("-")[0] == language:
                return key
    return available[0]


@dataclass(frozen=True)
class RenderedEmail:
    locale: str
    subject: str
    text: str
    html: str | None


FOOTERS = {
    "en": "You receive this because you subscribed. Unsubscribe: {url}",
    "de": "Sie erhalten diese Nachricht, weil Sie sie abonniert haben. Abmelden: {url}",
    "es": "Recibes este mensaje porque te suscribiste. Darte de baja: {url}",
    "fr": "Vous recevez ce message car vous y êtes abonné(e). Se désabonner : {url}",
    "pt": "Você recebe esta mensagem porque se inscreveu. Cancelar inscrição: {url}",
    "it": "Ricevi questo messaggio perché sei iscritto. Annulla l'iscrizione: {url}",
    "zh": "您收到此邮件是因为您订阅了我们的消息。退订：{url}",
    "ja": "このメールは配信登録をいただいた方にお送りしています。配信停止：{url}",
    "ko": "구독하셨기 때문에 이 메일을 받으셨습니다. 수신 거부: {url}",
}


def footer(locale: str, url: str) -> str:
    language = locale.split("-", maxsplit=1)[0].lower()
    return FOOTERS.get(language, FOOTERS["en"]).format(url=url)


def render_email(
    content: Mapping[str, Mapping[str, str | None]],
    locale: str | None,
    context: Mapping[str, Any],
) -> RenderedEmail:
    """Render subject, text and HTML for the customer's locale, with the unsubscribe footer."""
    chosen = choose_locale(list(content), locale)
    parts = content[chosen]
    prefix = f"content.email.{chosen}"
    subject = render(str(parts["subject"]), context, f"{prefix}.subject")
    subject = " ".join(subject.split())[:MAX_SUBJECT_CHARS]
    if not subject:
        raise RenderError(f"{prefix}.subject", "renders to an empty subject")
    text = render(str(parts["text"]), context, f"{prefix}.text").rstrip()
    url = str(context.get("unsubscribe_url", ""))
    note = footer(chosen, url)
    text = f"{text}\n\n-- \n{note}\n"
    html_source = parts.get("html")
    if html_source:
        body = render(html_source, context, f"{prefix}.html", html=True)
    else:
        body = _text_to_html(text.split("\n\n-- \n")[0])
    html = _with_html_footer(body, chosen, url)
    return RenderedEmail(locale=chosen, subject=subject, text=text, html=html)


SMS_STOP = {
    "en": "Reply STOP to opt out.",
    "de": "Abmelden: STOP antworten.",
    "es": "Responde STOP para darte de baja.",
    "fr": "Répondez STOP pour vous désabonner.",
    "pt": "Responda STOP para sair.",
    "it": "Rispondi STOP per annullare.",
    "zh": "回复TD退订。",
    "ja": "配信停止はSTOPと返信。",
    "ko": "수신거부는 STOP 회신.",
}


@dataclass(frozen=True)
class RenderedSms:
    locale: str
    text: str
    encoding: str
    segments: int


def render_sms(
    content: Mapping[str, str], locale: str | None, context: Mapping[str, Any]
) -> RenderedSms:
    """Render the SMS text for the customer's locale, with the opt-out instruction."""
    chosen = choose_locale(list(content), locale)
    body = render(content[chosen], context, f"content.sms.{chosen}.text")
    body = " ".join(body.split())
    language = chosen.split("-")[0].lower()
    text = f"{body} {SMS_STOP.get(language, SMS_STOP['en'])}"
    encoding, segments = sms_segments(text)
    return RenderedSms(locale=chosen, text=text, encoding=encoding, segments=segments)


GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")


def sms_segments(text: str) -> tuple[str, int]:
    """``("GSM-7" | "UCS-2", segments)``: 160/153 septets or 70/67 UTF-16 units per segment."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return encoding, 1
    return encoding, -(-units // multi)


def _text_to_html(text: str) -> str:

    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "\n".join("<p>" + str(escape(p)).replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def _with_html_footer(body: str, locale: str, url: str) -> str:

    language = locale.split("-", maxsplit=1)[0].lower()
    label = FOOTERS.get(language, FOOTERS["en"]).split("{url}")[0].rstrip(" :：")
    return (
        f'<!DOCTYPE html><html lang="{escape(locale)}"><head><meta charset="utf-8"></head>'
        f'<body>{body}\n<hr><p style="font-size:12px;color:#666">{escape(label)}: '
        f'<a href="{escape(url)}">{escape(url)}</a></p></body></html>'
    )
