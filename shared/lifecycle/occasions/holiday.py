"""Holiday occasion: country calendars (``holidays``), custom dates and Chinese lunar dates.

* Library holidays are matched by their English name (``language="en_US"``) and greeted on
  the holiday's actual date, never on an "observed" day off (``observed=False``).
* A holiday that spans consecutive days (Spring Festival) is greeted once, on its first day.
* Custom dates (``{"name": "Singles' Day", "month": 11, "day": 11}``) and lunar dates
  (``{"name": "Mid-Autumn Festival", "month": 8, "day": 15}``, converted per year with
  ``lunardate``) apply to every country of the campaign.
* ``localized_name`` gives the name in the customer's language where the library has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays
from lunardate import LunarDate

ENGLISH = "en_US"


@dataclass(frozen=True)
class HolidayHit:
    """A holiday greeted on ``date`` in ``country``."""

    name: str  # English name (library) or the marketer's name (custom/lunar)
    date: date
    country: str
    source: str  # "calendar" | "custom" | "lunar"


@lru_cache(maxsize=512)
def _calendar(country: str, year: int, language: str) -> dict[date, str]:
    calendar = holidays.country_holidays(country, years=year, observed=False, language=language)
    return dict(calendar.items())


@lru_cache(maxsize=512)
def first_days(country: str, year: int) -> dict[str, list[date]]:
    """English holiday name -> the first day of each consecutive run of that name in ``year``."""
    by_name: dict[str, list[date]] = {}
    for day, joined in sorted(_calendar(country, year, ENGLISH).items()):
        for name in joined.split("; "):
            by_name.setdefault(name, []).append(day)
    result: dict[str, list[date]] = {}
    for name, days in by_name.items():
        starts = [d for d in days if d - timedelta(days=1) not in days]
        # A run crossing New Year (Dec 31 -> Jan 1) starts in the previous year.
        if starts and starts[0] == date(year, 1, 1):
            previous = _calendar(country, year - 1, ENGLISH).get(date(year - 1, 12, 31), "")
            if name in previous.split("; "):
                starts = starts[1:]
        result[name] = starts
    return result


def known_names(country: str, years: Iterable[int]) -> set[str]:
    names: set[str] = set()
    for year in years:
        names.update(first_days(country, year))
    return names


def supported_country(country: str) -> bool:
    return country in holidays.list_supported_countries()


def lunar_to_gregorian(year: int, month: int, day: int, leap_month: bool = False) -> date | None:
    """Gregorian date of a Chinese lunar date in lunar ``year`` (None if that day is missing)."""
    try:
        solar = LunarDate(year, month, day, leap_month).to_solar_date()
    except ValueError:
        return None
    return solar if isinstance(solar, date) else None


def holidays_on(
    day: date,
    country: str,
    names: Sequence[str],
    custom: Sequence[Mapping[str, Any]],
    lunar: Sequence[Mapping[str, Any]],
) -> list[HolidayHit]:
    """Every holiday of the campaign greeted on ``day`` in ``country`` (calendar order)."""
    hits: list[HolidayHit] = []
    if names and supported_country(country):
        starts = first_days(country, day.year)
        for name in names:
            if day in starts.get(name, []):
                hits.append(HolidayHit(name, day, country, "calendar"))
    for entry in custom:
        if (day.month, day.day) == (entry["month"], entry["day"]):
            hits.append(HolidayHit(entry["name"], day, country, "custom"))
    for entry in lunar:
        # The lunar year that contains this Gregorian day starts in this or the previous year.
        for lunar_year in (day.year - 1, day.year):
            solar = lunar_to_gregorian(
                lunar_year, entry["month"], entry["day"], entry.get("leap_month", False)
            )
            if solar == day:
                hits.append(HolidayHit(entry["name"], day, country, "lunar"))
                break
    return hits


def _language_for(locale: str | None, supported: Sequence[str]) -> str | None:
    if not locale:
        return None
    wanted = locale.replace("-", "_")
    lowered = {code.lower().replace("-", "_"): code for code in supported}
    if wanted.lower() in lowered:
        return lowered[wanted.lower()]
    language = wanted.split("_")[0].lower()
    if language in lowered:
        return lowered[language]
    for code in supported:
        if code.replace("-", "_").split("_")[0].lower() == language:
            return code
    return None


def localized_name(
    name: str,
    day: date,
    country: str,
    source: str,
    locale: str | None,
    translations: Mapping[str, str] | None = None,
) -> str:
    """``name`` in the customer's language: library translation or the campaign's own names."""
    if source != "calendar":
        if translations and locale:
            language = _language_for(locale, list(translations))
            if language:
                return translations[language]
        return name
    if not supported_country(country):
        return name
    supported = holidays.country_holidays(country).supported_languages
    language = _language_for(locale, supported)
    if language is None or language == ENGLISH:
        return name
    english = _calendar(country, day.year, ENGLISH).get(day, "").split("; ")
    local = _calendar(country, day.year, language).get(day, "").split("; ")
    if name in english and len(local) == len(english):
        return local[english.index(name)]
    return name
