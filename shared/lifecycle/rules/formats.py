"""Dates and amounts written the way a locale writes them (Babel; pure, no I/O).

``format_day("2027-02-28", "medium", "en-GB")`` is ``28 Feb 2027``; in ``de`` it is
``28.02.2027``. ``format_money(19.9, "EUR", "de-DE")`` is ``19,90 €``. Used by the campaign
templates' ``date`` and ``money`` filters (:mod:`lifecycle.rules.templates`) and by the customer
pages (:mod:`lifecycle.pages`). Bad input is a :class:`ValueError` naming the problem.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, list_currencies

DATE_FORMS = ("short", "medium", "long", "full")
MAX_AMOUNT = Decimal(10) ** 15
_CURRENCY = re.compile(r"^[A-Za-z]{3}\Z")
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}\Z")


@lru_cache(maxsize=256)
def babel_locale(tag: str | None) -> Locale:
    """The Babel locale of a tag (``de-AT``, ``zh_CN``); its language alone, else English."""
    if tag and _TAG.match(tag):
        parts = tag.replace("_", "-")
        for candidate in (parts, parts.split("-")[0]):
            try:
                return Locale.parse(candidate, sep="-")
            except (ValueError, UnknownLocaleError):
                continue
    return Locale("en")


def format_locale(shown: str, wanted: str | None) -> str:
    """The tag to format with: the customer's own (``de-AT``) when the text shown is in its
    language, else the language shown (a Swiss customer reading French gets French formats)."""

    def language(tag: str) -> str:
        return tag.replace("_", "-").split("-", maxsplit=1)[0].lower()

    return wanted if wanted and language(wanted) == language(shown) else shown


def as_day(value: object) -> date:
    """A calendar day from a date, a datetime or an ISO 8601 text (``2027-02-28``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) <= 40:
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise ValueError(f"not a date: {str(value)[:40]!r} (use YYYY-MM-DD)")


def format_day(value: object, form: str = "medium", tag: str | None = None) -> str:
    """``value`` as a day in ``tag``'s way; ``form`` is short, medium, long or full."""
    if form not in DATE_FORMS:
        raise ValueError(f"date format must be one of {', '.join(DATE_FORMS)}")
    return str(format_date(as_day(value), form, locale=babel_locale(tag)))


def as_amount(value: object) -> Decimal:
    """A finite amount below 10**15 from a number or a decimal text (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(f"not an amount: {str(value)[:40]!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not an amount: not finite")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {str(value)[:40]!r}") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError("not an amount: not finite or too large")
    return amount


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def format_money(value: object, currency: object, tag: str | None = None) -> str:
    """``value`` in ``currency`` (ISO 4217, e.g. EUR) as ``tag`` writes prices."""
    code = str(currency).upper() if isinstance(currency, str) else ""
    if not _CURRENCY.match(code) or code not in _currencies():
        raise ValueError(f"not a currency: {str(currency)[:10]!r} (use an ISO 4217 code)")
    return str(format_currency(as_amount(value), code, locale=babel_locale(tag)))


def format_number(value: object, tag: str | None = None) -> str:
    """``value`` with ``tag``'s decimal and grouping signs (``1.234,5`` in German)."""
    return str(format_decimal(as_amount(value), locale=babel_locale(tag)))
