"""The limits a marketer's template renders under (see :mod:`lifecycle.rules.templates`).

The render budget (CPU time and steps, counted in a context variable for the render in
progress), size checks made *before* a big value is built (``*``, ``+``, ``~``, ``%``,
``str.format``, ``replace``, ``join``, padding, ...), the refusal of methods of built-in types
that could exhaust memory, and the guards Jinja's filters run behind. Every breach raises
Jinja's :class:`~jinja2.exceptions.SecurityError`, which the renderer turns into a
:class:`~lifecycle.rules.templates.RenderError`.
"""

from __future__ import annotations

import functools
import inspect
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.utils import Namespace

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


# ---------------------------------------------------------------------------- the budget
@dataclass
class RenderBudget:
    deadline: float
    steps: int = 0
    produced: int = 0

    @classmethod
    def starting_now(cls) -> RenderBudget:
        """A budget for a render that starts now (:data:`MAX_RENDER_SECONDS` of CPU time)."""
        return cls(deadline=time.thread_time() + MAX_RENDER_SECONDS)

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


RENDER_BUDGET: ContextVar[RenderBudget | None] = ContextVar("template_render_budget", default=None)


def count_step() -> None:
    budget = RENDER_BUDGET.get()
    if budget is not None:
        budget.step()


# ---------------------------------------------------------------------------- size checks
_FLOAT_CHARS = 330  # '%f' % 1e308 has 316 characters


def size_of(value: Any, limit: int = MAX_OUTPUT_CHARS) -> int:
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
    if size_of(value) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"{what} larger than {MAX_OUTPUT_CHARS} characters")


def within_limits(value: Any, what: str = "result") -> Any:
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


def check_estimate(estimate: int, what: str) -> None:
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


def check_percent(template: str, args: Any) -> None:
    """``template % args``: widths and precisions bounded, the result estimated first."""
    largest = max((size_of(value) for value in _format_values(args)), default=0)
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
    check_estimate(estimate, "% formatting")


def check_format(template: str, values: list[Any]) -> None:
    """``template.format(...)``: no nested fields in specs, bounded widths, result estimated."""
    largest = max((size_of(value) for value in values), default=0)
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
    check_estimate(estimate, "str.format")


def _check_replace(text: str, old: Any, new: Any, count: Any) -> None:
    if not isinstance(old, str) or not isinstance(new, str):
        return
    occurrences = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    check_estimate(len(text) + occurrences * len(new), "replace()")


def _check_join(separator: Any, items: list[Any]) -> None:
    total = len(str(separator)) * max(len(items) - 1, 0) if isinstance(separator, str) else 0
    total += sum(size_of(item) for item in items)
    check_estimate(total, "join()")


# ------------------------------------------------------- calls of methods of built-in types
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_REFUSED_METHODS = frozenset({"translate", "maketrans"})
_BUILTIN_VALUES = (str, bytes, int, float, list, tuple, dict)


def check_method_call(
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
                check_estimate(len(owner) + owner.count("\t") * tabsize, "expandtabs()")
    return args


# ------------------------------------------------------------------------ guarded filters
def _filter_center(arguments: dict[str, Any]) -> None:
    _check_width(arguments.get("width"), "center() width")


def _filter_indent(arguments: dict[str, Any]) -> None:
    width, text = arguments.get("width"), str(arguments.get("s", ""))
    _check_width(width, "indent() width")
    size = width if isinstance(width, int) else len(str(width))
    check_estimate(len(text) + (text.count("\n") + 1) * size, "indent()")


def _filter_replace(arguments: dict[str, Any]) -> None:
    count = arguments.get("count")
    _check_replace(str(arguments.get("s", "")), arguments.get("old"), arguments.get("new"), count)


def _filter_join(arguments: dict[str, Any]) -> None:
    items = list(arguments.get("value") or ())
    arguments["value"] = items
    _check_join(arguments.get("d", ""), items)


def _filter_format(arguments: dict[str, Any]) -> None:
    check_percent(
        str(arguments.get("value", "")), arguments.get("kwargs") or arguments.get("args") or ()
    )


def _filter_wordwrap(arguments: dict[str, Any]) -> None:
    text, width = str(arguments.get("s", "")), arguments.get("width")
    wrap = arguments.get("wrapstring") or "\n"
    lines = len(text) // max(width, 1) + 1 if isinstance(width, int) else len(text)
    check_estimate(len(text) + lines * len(str(wrap)), "wordwrap()")


def _filter_count(name: str, field: str) -> Callable[[dict[str, Any]], None]:
    def check(arguments: dict[str, Any]) -> None:
        value = arguments.get(field)
        if isinstance(value, int) and value > MAX_RANGE:
            raise SecurityError(f"{name}() {field} larger than {MAX_RANGE}")

    return check


def _filter_tojson(arguments: dict[str, Any]) -> None:
    _check_width(arguments.get("indent"), "tojson() indent")


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


def guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` counted in the budget, its arguments and its result size-checked."""
    signature = _filter_signature(function)
    check = _FILTER_CHECKS.get(name)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        count_step()
        if signature is None:
            for value in (*args, *kwargs.values()):
                _check_size(value, f"the input of the {name} filter")
            return within_limits(function(*args, **kwargs), f"the {name} filter's result")
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for key, value in bound.arguments.items():
            if key not in _CONTEXT_ARGUMENTS:
                _check_size(value, f"the input of the {name} filter")
        if check is not None:
            check(bound.arguments)
        return within_limits(function(*bound.args, **bound.kwargs), f"the {name} filter's result")

    return guarded


class GuardedIterable:
    """An iterable whose every item costs one step of the render budget."""

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        for item in self._iterable:
            count_step()
            yield item

    def __len__(self) -> int:
        return len(self._iterable)  # type: ignore[arg-type]  # TypeError: LoopContext copes


def count_produced(text: str) -> str:
    budget = RENDER_BUDGET.get()
    if budget is not None:
        budget.produce(len(text))
    return text
