"""Template rendering: Jinja2 immutable sandbox, StrictUndefined, hard limits, locale fallback.

Templates come from marketers, so a template must not be able to stall or exhaust the sender.
Every render runs under a budget, enforced *while* rendering (the limits and their checks are
in :mod:`lifecycle.rules.template_limits`):

* time: at most :data:`MAX_RENDER_SECONDS` of the rendering thread's CPU time and
  :data:`MAX_RENDER_STEPS` loop iterations plus calls (four nested ``range(1000)`` loops stop
  after 100,000 iterations, not 10**12);
* size: no value, piece of output or intermediate result larger than
  :data:`MAX_OUTPUT_CHARS` characters, checked *before* the big ones are built (``*``, ``+``,
  ``~``, ``%``, ``str.format``, ``replace``, ``join``, ``center``, ...), integers of at most
  :data:`MAX_INT_BITS` bits, format widths and precisions of at most
  :data:`MAX_FORMAT_WIDTH`; the text a render produces in all is counted as it is produced;
* no recursion: ``{% for ... recursive %}`` is refused and a macro calling itself ends as a
  :class:`RenderError`, like every other failure.

For a mapping, ``a.b`` looks up the key ``b`` before the attribute, so ``{{ order.items }}``
is the order's items, not ``dict.items`` (``d.items()`` still works for a dict without such
a key; the ``items`` filter always does).

Locale filters write dates and amounts the way the message's language does (Babel, see
:mod:`lifecycle.rules.formats`): ``{{ offer.valid_until | date }}`` is ``28 Feb 2027`` for an
``en-GB`` customer and ``28.02.2027`` in German (``date("long")``: ``28. Februar 2027``;
forms short, medium, long, full), ``{{ 19.9 | money("EUR") }}`` is ``19,90 €`` and
``{{ 1234.5 | number }}`` is ``1.234,5``. The locale is the customer's when the chosen content
is in the customer's language, else the content's (:func:`render`'s ``locale``; English when
none is given, as when a campaign is validated).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

from lifecycle.rules.formats import format_day, format_locale, format_money, format_number
from lifecycle.rules.template_limits import (
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_OUTPUT_CHARS,
    MAX_RANGE,
    MAX_SUBJECT_CHARS,
    MAX_TEMPLATE_CHARS,
    RENDER_BUDGET,
    GuardedIterable,
    RenderBudget,
    check_estimate,
    check_format,
    check_method_call,
    check_percent,
    count_produced,
    count_step,
    guard_filter,
    size_of,
    within_limits,
)

# Names every template may use; ``offer`` only with an offer, others per occasion
# (see ``lifecycle.campaigns.model.template_variables``).
TEMPLATE_VARIABLES = frozenset(
    {
        "first_name",
        "last_name",
        "customer",
        "campaign",
        "occasion",
        "unsubscribe_url",
        "preferences_url",
    }
)


class RenderError(ValueError):
    """A template cannot be compiled or rendered; ``field`` says which one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# ------------------------------------------------------------------------ locale filters
# The tag dates and amounts are written for during one render (None: English).
_FORMAT_LOCALE: ContextVar[str | None] = ContextVar("template_format_locale", default=None)


def _date_filter(value: Any, form: str = "medium") -> str:
    return format_day(value, form, _FORMAT_LOCALE.get())


def _money_filter(value: Any, currency: str) -> str:
    return format_money(value, currency, _FORMAT_LOCALE.get())


def _number_filter(value: Any) -> str:
    return format_number(value, _FORMAT_LOCALE.get())


LOCALE_FILTERS: dict[str, Callable[..., str]] = {
    "date": _date_filter,
    "money": _money_filter,
    "number": _number_filter,
}


# ---------------------------------------------------------------------------- environment
class _LimitedCodeGenerator(CodeGenerator):
    """Counts every piece of output (also into buffers) and checks ``~`` before joining."""

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.produced(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.produced({super()._output_const_repr(group)})"

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802 (Jinja's name)
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.concat_checked({join}, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


def _concat_checked(join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
    check_estimate(sum(size_of(part) for part in parts), "~ concatenation")
    joined = join(parts)  # a Markup stays a Markup: escaping is unchanged
    within_limits(joined, "~ concatenation")
    return joined


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with the render budget, size limits and key-first lookup on mappings."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _LimitedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.globals["range"] = _bounded_range
        self.globals.pop("lipsum", None)
        self.filters.update(LOCALE_FILTERS)
        self.filters = {name: guard_filter(name, f) for name, f in self.filters.items()}
        self.guarded_iterable = GuardedIterable
        self.produced = count_produced
        self.concat_checked = _concat_checked

    @staticmethod
    def _finalize(value: Any) -> Any:
        return within_limits(value, "output value")

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            if loop.recursive:
                raise TemplateSyntaxError(
                    "recursive loops are not allowed", loop.lineno, name, filename
                )
            guard = nodes.Call(
                nodes.EnvironmentAttribute("guarded_iterable"), [loop.iter], [], None, None
            )
            loop.iter = guard.set_lineno(loop.lineno).set_environment(self)
        return tree

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):  # {{ order.items }}: the key, not dict.items
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                pass
        return super().getattr(obj, attribute)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        count_step()
        args = check_method_call(obj, args, kwargs)
        return within_limits(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template: str = value.__self__
        is_format_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            values = [*args, *kwargs.values()]
            if is_format_map and args and isinstance(args[0], Mapping):
                values = list(args[0].values())
            check_format(template, values)
            return str(within_limits(wrapped(*args, **kwargs), "str.format"))

        return checked

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError("exponent too large")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                _check_bits(max(left.bit_length(), 1) * right, "power")
            result = operator.pow(left, right)
        elif op == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    check_estimate(size_of(seq) * times, "* repetition")
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(left.bit_length() + right.bit_length(), "product")
            result = operator.mul(left, right)
        elif op == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                check_estimate(size_of(left) + size_of(right), "+ result")
            result = operator.add(left, right)
        else:  # "%"
            if isinstance(left, str):
                check_percent(left, right)
            result = operator.mod(left, right)
        return within_limits(result)


def _check_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise SecurityError(f"{what} larger than {MAX_INT_BITS} bits")


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SecurityError(f"range() larger than {MAX_RANGE}")
    return result


def _environment(autoescape: bool) -> _LimitedEnvironment:
    return _LimitedEnvironment(
        undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True
    )


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)

# A template nested too deeply fails in Jinja's recursive parser or in Python's compiler.
_TOO_DEEP = (RecursionError, SyntaxError, MemoryError)


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
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:
        raise RenderError(
            field, f"template syntax error on line {exc.lineno}: {exc.message}"
        ) from None
    except _TOO_DEEP:
        raise RenderError(field, "template nests too deeply") from None
    unknown = sorted(undeclared - allowed - set(env.globals))
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


def _render_limited(
    source: str, context: Mapping[str, Any], field: str, html: bool, locale: str | None = None
) -> str:
    # CPU time of this thread: a busy machine (other processes, other threads) cannot make a
    # valid template fail, while a template that computes too long still stops.
    budget = RenderBudget.starting_now()
    token = RENDER_BUDGET.set(budget)
    locale_token = _FORMAT_LOCALE.set(locale)
    try:
        pieces = _compile(source, html).generate(**context)
        try:
            parts: list[str] = []
            size = 0
            for piece in pieces:
                size += len(piece)
                if size > MAX_OUTPUT_CHARS:
                    raise RenderError(
                        field, f"rendered text longer than {MAX_OUTPUT_CHARS} characters"
                    )
                parts.append(piece)
            return "".join(parts)
        finally:
            pieces.close()
    finally:
        _FORMAT_LOCALE.reset(locale_token)
        RENDER_BUDGET.reset(token)


def render(
    source: str,
    context: Mapping[str, Any],
    field: str,
    *,
    html: bool = False,
    locale: str | None = None,
) -> str:
    """Render one template within the limits; any failure is a :class:`RenderError`.

    ``locale`` is the tag the ``date``, ``money`` and ``number`` filters write for.
    """
    try:
        return _render_limited(source, context, field, html, locale)
    except TemplateSyntaxError as exc:
        raise RenderError(field, f"template syntax error: {exc.message}") from None
    except UndefinedError as exc:
        raise RenderError(field, f"undefined value: {exc.message}") from None
    except SecurityError as exc:
        raise RenderError(field, f"not allowed in templates: {exc}") from None
    except RenderError:
        raise
    except _TOO_DEEP:  # a macro calling itself, or a template nested too deeply to compile
        raise RenderError(field, "template nests or recurses too deeply") from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(field, f"{type(exc).__name__}: {exc}") from None


def choose_locale(available: list[str], wanted: str | None) -> str:
    """Exact match -> same language -> the campaign's first locale.

    Compared case-insensitively with ``_`` as ``-``, as locales are normalized
    (``normalize_locale``): content keyed ``zh_CN`` serves a ``zh-CN`` customer.
    """
    if not available:
        raise ValueError("no locales to choose from")
    if wanted:
        keys = [(key, key.replace("_", "-").lower()) for key in available]
        wanted_lower = wanted.replace("_", "-").lower()
        for key, lowered in keys:
            if lowered == wanted_lower:
                return key
        language = wanted_lower.split("-")[0]
        for key, lowered in keys:
            if lowered == language:
                return key
        for key, lowered in keys:
            if lowered.split("-")[0] == language:
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
    tag = format_locale(chosen, locale)
    subject = render(str(parts["subject"]), context, f"{prefix}.subject", locale=tag)
    subject = " ".join(subject.split())[:MAX_SUBJECT_CHARS]
    if not subject:
        raise RenderError(f"{prefix}.subject", "renders to an empty subject")
    text = render(str(parts["text"]), context, f"{prefix}.text", locale=tag).rstrip()
    url = str(context.get("unsubscribe_url", ""))
    note = footer(chosen, url)
    text = f"{text}\n\n-- \n{note}\n"
    html_source = parts.get("html")
    if html_source:
        body = render(html_source, context, f"{prefix}.html", html=True, locale=tag)
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
    tag = format_locale(chosen, locale)
    body = render(content[chosen], context, f"content.sms.{chosen}.text", locale=tag)
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
