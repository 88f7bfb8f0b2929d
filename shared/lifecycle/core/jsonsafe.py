"""Safe JSON parsing for input that anyone can send: files, request bodies, form answers.

:func:`loads` behaves like :func:`json.loads` but refuses, *before* the recursive parser runs,
a value nested deeper than :data:`MAX_DEPTH` (``"[" * 5000`` would otherwise raise
``RecursionError``), and refuses ``NaN``, ``Infinity``, numbers that overflow to infinity and
integers too long to convert. Every refusal is a :class:`JSONLimitError`, a subclass of
:class:`json.JSONDecodeError` (so of ``ValueError``): callers that already catch a decode error
report it with its line and column, e.g. ``nested deeper than 64 levels``.

:func:`array_items` decodes a top-level JSON list one element at a time, so that one hostile
element is reported on its own line while the other elements still parse.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_DEPTH", "JSONLimitError", "array_items", "check", "loads"]

MAX_DEPTH = 64
# Python refuses longer integer literals (ValueError, no position): refuse them ourselves.
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300

# A complete string (skipped whole), a structural character, a lone quote (an unterminated
# string: stop and let the parser report it), a NaN / Infinity literal or a number outside
# strings (checked here, where its position is known: the same digits may occur in a string).
_TOKEN = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},"]|-?Infinity|NaN'
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?",
    re.DOTALL,
)
_WHITESPACE = " \t\r\n"


class JSONLimitError(json.JSONDecodeError):
    """Syntactically JSON, but beyond what we accept (depth, NaN/Infinity, number size)."""


def _number_problem(literal: str) -> str | None:
    """Why a JSON number literal is refused (too long an integer, not finite), else None."""
    if any(mark in literal for mark in ".eE"):
        if not math.isfinite(float(literal)):
            return f"{literal[:20]} is too large (not a finite number)"
    elif len(literal.lstrip("-")) > MAX_INT_DIGITS:
        return f"integer longer than {MAX_INT_DIGITS} digits"
    return None


def _scan(
    text: str, start: int, max_depth: int, *, element: bool
) -> tuple[int, JSONLimitError | None]:
    """Check ``text`` from ``start``: ``(where the scan stopped, the first problem)``.

    Without ``element`` the first problem is raised at once. With ``element`` the scan reads
    on to the ``,`` or closing bracket that ends one element of the surrounding list (at
    depth 0) and returns the problem, so that the caller can skip that element.
    """
    base = 1 if element else 0  # an element sits inside its list
    depth = base
    problem: JSONLimitError | None = None
    for match in _TOKEN.finditer(text, start):
        lexeme = match.group()
        first = lexeme[0]
        found: JSONLimitError | None = None
        if first in "[{":
            depth += 1
            if depth > max_depth and problem is None:
                found = JSONLimitError(
                    f"nested deeper than {max_depth} levels", text, match.start()
                )
        elif first in "]}":
            if depth == base and element:
                return match.start(), problem
            depth -= 1
        elif first == ",":
            if depth == base and element:
                return match.start(), problem
        elif lexeme == '"':
            break  # an unterminated string: the parser says where
        elif first in "-0123456789" and lexeme[-1] != "y":  # a number, not -Infinity
            message = _number_problem(lexeme) if problem is None else None
            if message:
                found = JSONLimitError(message, text, match.start())
        elif first != '"' and problem is None:
            found = JSONLimitError(f"{lexeme} is not allowed", text, match.start())
        if found is not None:
            if not element:
                raise found
            problem = found
    return len(text), problem


def check(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JSONLimitError` if ``text`` nests deeper than ``max_depth`` or uses NaN."""
    _scan(text, 0, max_depth, element=False)


def _decoder(text: str) -> json.JSONDecoder:
    def number_error(literal: str, message: str) -> JSONLimitError:
        return JSONLimitError(message, text, max(text.find(literal), 0))

    def parse_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise number_error(literal, f"{literal[:20]} is too large (not a finite number)")
        return value

    def parse_int(literal: str) -> int:
        if len(literal.lstrip("-")) > MAX_INT_DIGITS:
            raise number_error(literal, f"integer longer than {MAX_INT_DIGITS} digits")
        return int(literal)

    def parse_constant(literal: str) -> Any:
        raise number_error(literal, f"{literal} is not allowed")

    return json.JSONDecoder(
        parse_float=parse_float, parse_int=parse_int, parse_constant=parse_constant
    )


def _text(data: str | bytes | bytearray) -> str:
    if isinstance(data, str):
        return data
    return bytes(data).decode(json.detect_encoding(data), "surrogatepass")


def loads(data: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """:func:`json.loads` without the hazards; any refusal is a :class:`JSONLimitError`."""
    text = _text(data)
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    check(text, max_depth)
    decoder = _decoder(text)
    return decoder.decode(text)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def array_items(text: str, *, max_depth: int = MAX_DEPTH) -> list[tuple[int, Any | JSONLimitError]]:
    """``(line, value)`` for each element of the JSON list in ``text``.

    An element that is too deep or uses NaN/Infinity comes back as its
    :class:`JSONLimitError` (the others still parse); ``max_depth`` counts the list itself.
    A syntax error anywhere, or a document that is not a list, raises
    :class:`json.JSONDecodeError` for the whole text (``ValueError`` names the shape).
    """
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        loads(text, max_depth=max_depth)  # the syntax error, if there is one
        raise ValueError("not a JSON list")
    decoder = _decoder(text)
    decode: Callable[[str, int], tuple[Any, int]] = decoder.raw_decode
    items: list[tuple[int, Any | JSONLimitError]] = []
    position = _skip_space(text, position + 1)
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            line = text.count("\n", 0, position) + 1
            end, problem = _scan(text, position, max_depth, element=True)
            if problem is None:
                try:
                    value, position = decode(text, position)
                except JSONLimitError as exc:  # a number out of range
                    problem = exc
                else:
                    if position > end:  # cannot happen: the scan and the parser agree
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, end)
            if problem is not None:
                value, position = problem, end
            items.append((line, value))
            position = _skip_space(text, position)
            if text.startswith(",", position):
                position = _skip_space(text, position + 1)
                continue
            if text.startswith("]", position):
                position += 1
                break
            raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
    position = _skip_space(text, position)
    if position != len(text):
        raise json.JSONDecodeError("Extra data", text, position)
    return items
