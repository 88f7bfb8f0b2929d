"""Template rendering: Jinja2 immutable sandbox, StrictUndefined, hard limits, locale fallback.

Templates come from marketers, so a template must not be able to stall or exhaust the sender.
Every render runs under a budget, enforced *while* rendering:

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

import functools
import inspect
import operator
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import escape

from lifecycle.rules.formats import format_day, format_locale, format_money, format_number

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 200_000
# All the text one render produces, macro and {% set %} buffers included.
MAX_PRODUCED_CHARS = 4 * MAX_OUTPUT_CHARS
MAX_RANGE = 1_000
MAX_SUBJECT_CHARS = 250
MAX_RENDER_SECONDS = 1.0
MAX_RENDER_STEPS = 100_000
MAX_FORMAT_WIDTH = 1_000
MAX_INT_BITS = 4_096
MAX_EXPONENT = 64

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


# ---------------------------------------------------------------------------- the budget
@dataclass
class _Budget:
    deadline: float
    steps: int = 0
    produced: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_RENDER_STEPS:
            raise SecurityError(f"more than {MAX_RENDER_STEPS} loop iterations and calls")
        self.check_time()

    def check_time(self) -> None:
        if time.thread_time() > self.deadline:
            raise SecurityError(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")

    def produce(self, count: int) -> None:
        self.produced += count
        if self.produced > MAX_PRODUCED_CHARS:
            raise SecurityError(f"template produced more than {MAX_PRODUCED_CHARS} characters")
        self.check_time()


_BUDGET: ContextVar[_Budget | None] = ContextVar("template_render_budget", default=None)


def _step() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.step()


# ---------------------------------------------------------------------------- size checks
_FLOAT_CHARS = 330  # '%f' % 1e308 has 316 characters


def _size(value: Any, limit: int = MAX_OUTPUT_CHARS) -> int:
    """About how many characters ``value`` takes as text; stops counting past ``limit``."""
    if isinstance(value, str):
        return len(value)
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 4  # in a container: quotes and a separator in its repr
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, float):
            total += 24
        elif isinstance(item, Mapping):
            total += 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2
            stack.extend(item)
        elif isinstance(item, Namespace):
            total += 16
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        else:
            total += 16
    return total


def _check_size(value: Any, what: str) -> None:
    if _size(value) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"{what} larger than {MAX_OUTPUT_CHARS} characters")


def _checked(value: Any, what: str = "result") -> Any:
    """``value`` if it is within the size limits, else :class:`SecurityError`."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise SecurityError(f"{what} is an integer larger than {MAX_INT_BITS} bits")
    if not isinstance(value, int | float | bool) and value is not None:
        _check_size(value, what)
    return value


def _check_width(number: Any, what: str) -> None:
    if isinstance(number, int) and abs(number) > MAX_FORMAT_WIDTH:
        raise SecurityError(f"{what} {number} larger than {MAX_FORMAT_WIDTH}")
    if isinstance(number, str) and len(number) > MAX_FORMAT_WIDTH:
        raise SecurityError(f"{what} longer than {MAX_FORMAT_WIDTH} characters")


def _check_estimate(estimate: int, what: str) -> None:
    if estimate > MAX_OUTPUT_CHARS:
        raise SecurityError(f"{what} would be larger than {MAX_OUTPUT_CHARS} characters")


_PERCENT_SPEC = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?[hlL]?"
    r"(?P<type>[diouxXeEfFgGcrsa%])"
)


def _format_values(args: Any) -> list[Any]:
    if isinstance(args, Mapping):
        return list(args.values())
    if isinstance(args, tuple):
        return list(args)
    return [args]


def _check_percent(template: str, args: Any) -> None:
    """``template % args``: widths and precisions bounded, the result estimated first."""
    largest = max((_size(value) for value in _format_values(args)), default=0)
    estimate = len(template)
    for match in _PERCENT_SPEC.finditer(template):
        if match["type"] == "%":
            continue
        padding = 0
        for part in ("width", "precision"):
            number = match[part]
            if number == "*":
                raise SecurityError(f"'*' as the {part} of a % format is not allowed")
            if number:
                _check_width(int(number), f"% format {part}")
                padding += int(number)
        estimate += max(largest, _FLOAT_CHARS) + padding
    _check_estimate(estimate, "% formatting")


def _check_format(template: str, values: list[Any]) -> None:
    """``template.format(...)``: no nested fields in specs, bounded widths, result estimated."""
    largest = max((_size(value) for value in values), default=0)
    estimate = len(template)
    for _, field_name, format_spec, _ in string.Formatter().parse(template):
        if field_name is None:
            continue
        spec = format_spec or ""
        if "{" in spec:
            raise SecurityError("replacement fields inside a format spec are not allowed")
        numbers = [int(number) for number in re.findall(r"\d+", spec)]
        for number in numbers:
            _check_width(number, "format width or precision")
        estimate += max(largest, _FLOAT_CHARS) + sum(numbers)
    _check_estimate(estimate, "str.format")


def _check_replace(text: str, old: Any, new: Any, count: Any) -> None:
    if not isinstance(old, str) or not isinstance(new, str):
        return
    occurrences = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    _check_estimate(len(text) + occurrences * len(new), "replace()")


def _check_join(separator: Any, items: list[Any]) -> None:
    total = len(str(separator)) * max(len(items) - 1, 0) if isinstance(separator, str) else 0
    total += sum(_size(item) for item in items)
    _check_estimate(total, "join()")


# ------------------------------------------------------- calls of methods of built-in types
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_REFUSED_METHODS = frozenset({"translate", "maketrans"})
_BUILTIN_VALUES = (str, bytes, int, float, list, tuple, dict)


def _check_method_call(
    method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Checks before ``str.replace``, ``str.join``, ``str.center``, ... (args, maybe listed)."""
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, _BUILTIN_VALUES) or isinstance(owner, bool):
        return args
    name = getattr(method, "__name__", "")
    if name in _REFUSED_METHODS:
        raise SecurityError(f"{type(owner).__name__}.{name}() is not allowed in templates")
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool):
            limit = MAX_FORMAT_WIDTH if name in _PADDING_METHODS else MAX_OUTPUT_CHARS
            if abs(value) > limit:
                raise SecurityError(f"{name}() argument {value} larger than {limit}")
    if isinstance(owner, str):
        if name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
        elif name == "join" and args:
            items = list(args[0])
            _check_join(owner, items)
            args = (items, *args[1:])
        elif name == "expandtabs":
            tabsize = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tabsize, int):
                _check_estimate(len(owner) + owner.count("\t") * tabsize, "expandtabs()")
    return args


# ------------------------------------------------------------------------ guarded filters
def _filter_center(arguments: dict[str, Any]) -> None:
    _check_width(arguments.get("width"), "center() width")


def _filter_indent(arguments: dict[str, Any]) -> None:
    width, text = arguments.get("width"), str(arguments.get("s", ""))
    _check_width(width, "indent() width")
    size = width if isinstance(width, int) else len(str(width))
    _check_estimate(len(text) + (text.count("\n") + 1) * size, "indent()")


def _filter_replace(arguments: dict[str, Any]) -> None:
    count = arguments.get("count")
    _check_replace(str(arguments.get("s", "")), arguments.get("old"), arguments.get("new"), count)


def _filter_join(arguments: dict[str, Any]) -> None:
    items = list(arguments.get("value") or ())
    arguments["value"] = items
    _check_join(arguments.get("d", ""), items)


def _filter_format(arguments: dict[str, Any]) -> None:
    _check_percent(
        str(arguments.get("value", "")), arguments.get("kwargs") or arguments.get("args") or ()
    )


def _filter_wordwrap(arguments: dict[str, Any]) -> None:
    text, width = str(arguments.get("s", "")), arguments.get("width")
    wrap = arguments.get("wrapstring") or "\n"
    lines = len(text) // max(width, 1) + 1 if isinstance(width, int) else len(text)
    _check_estimate(len(text) + lines * len(str(wrap)), "wordwrap()")


def _filter_count(name: str, field: str) -> Callable[[dict[str, Any]], None]:
    def check(arguments: dict[str, Any]) -> None:
        value = arguments.get(field)
        if isinstance(value, int) and value > MAX_RANGE:
            raise SecurityError(f"{name}() {field} larger than {MAX_RANGE}")

    return check


def _filter_tojson(arguments: dict[str, Any]) -> None:
    _check_width(arguments.get("indent"), "tojson() indent")


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

_FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "center": _filter_center,
    "indent": _filter_indent,
    "replace": _filter_replace,
    "join": _filter_join,
    "format": _filter_format,
    "wordwrap": _filter_wordwrap,
    "batch": _filter_count("batch", "linecount"),
    "slice": _filter_count("slice", "slices"),
    "tojson": _filter_tojson,
}
_CONTEXT_ARGUMENTS = frozenset({"eval_ctx", "environment", "context", "env"})


def _filter_signature(function: Callable[..., Any]) -> inspect.Signature | None:
    """The parameters a filter is called with (Jinja may pass an eval context first)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    first = parameters[0].name if parameters else None
    if getattr(function, "jinja_pass_arg", None) is not None and first not in _CONTEXT_ARGUMENTS:
        # Jinja's sync/async filters take the eval context that their signature hides.
        passed = inspect.Parameter("eval_ctx", inspect.Parameter.POSITIONAL_ONLY)
        signature = signature.replace(parameters=[passed, *parameters])
    return signature


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` counted in the budget, its arguments and its result size-checked."""
    signature = _filter_signature(function)
    check = _FILTER_CHECKS.get(name)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        if signature is None:
            for value in (*args, *kwargs.values()):
                _check_size(value, f"the input of the {name} filter")
            return _checked(function(*args, **kwargs), f"the {name} filter's result")
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for key, value in bound.arguments.items():
            if key not in _CONTEXT_ARGUMENTS:
                _check_size(value, f"the input of the {name} filter")
        if check is not None:
            check(bound.arguments)
        return _checked(function(*bound.args, **bound.kwargs), f"the {name} filter's result")

    return guarded


class _Guarded:
    """An iterable whose every item costs one step of the render budget."""

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        for item in self._iterable:
            _step()
            yield item

    def __len__(self) -> int:
        return len(self._iterable)  # type: ignore[arg-type]  # TypeError: LoopContext copes


def _produced(text: str) -> str:
    budget = _BUDGET.get()
    if budget is not None:
        budget.produce(len(text))
    return text


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
    _check_estimate(sum(_size(part) for part in parts), "~ concatenation")
    joined = join(parts)  # a Markup stays a Markup: escaping is unchanged
    _checked(joined, "~ concatenation")
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
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.guarded_iterable = _Guarded
        self.produced = _produced
        self.concat_checked = _concat_checked

    @staticmethod
    def _finalize(value: Any) -> Any:
        return _checked(value, "output value")

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
        _step()
        args = _check_method_call(obj, args, kwargs)
        return _checked(super().call(context, obj, *args, **kwargs))

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
            _check_format(template, values)
            return str(_checked(wrapped(*args, **kwargs), "str.format"))

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
                    _check_estimate(_size(seq) * times, "* repetition")
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(left.bit_length() + right.bit_length(), "product")
            result = operator.mul(left, right)
        elif op == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _check_estimate(_size(left) + _size(right), "+ result")
            result = operator.add(left, right)
        else:  # "%"
            if isinstance(left, str):
                _check_percent(left, right)
            result = operator.mod(left, right)
        return _checked(result)


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
    budget = _Budget(deadline=time.thread_time() + MAX_RENDER_SECONDS)
    token = _BUDGET.set(budget)
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
        _BUDGET.reset(token)


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
