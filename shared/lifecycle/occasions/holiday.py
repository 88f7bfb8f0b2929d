"""Holiday occasion: country calendars (``holidays``), custom dates and Chinese lunar dates.

* Library holidays are matched by their English name (``language="en_US"``) and greeted on
  the holiday's actual date, never on an "observed" day off (``observed=False``).
* A holiday that spans consecutive days (Spring Festival) is greeted once, on its first day.
* Custom dates (``{"name": "Singles' Day", "month": 11, "day": 11}``) and lunar dates
  (``{"name": "Mid-Autumn Festival", "month": 8, "day": 15}``, converted per year with
  ``lunardate``) apply to every country of the campaign.
* ``localized_name`` gives the name in the customer's language where the library has it.

Planning fans out: the planner only decides which countries have a greeted holiday on a date
and sends one task per (country, shard) partition to the plan queue; plan workers Query the
``by-country`` index for their shard in parallel, so no single Lambda reads a whole country.
Template variables: ``holiday.name`` (localized) and ``holiday.date``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import holidays
from lunardate import LunarDate
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lifecycle.occasions.base import (
    BaseOccasion,
    Check,
    Customer,
    LinkSigner,
    OccasionSpec,
    Occurrence,
    Pending,
    Reader,
    Sample,
)

ENGLISH = "en_US"
COUNTRY_NOT_IN_CAMPAIGN = "country_not_in_campaign"


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomHoliday(_Strict):
    name: str = Field(min_length=1, max_length=100)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    names: dict[str, str] = Field(default_factory=dict)  # locale -> localized name

    @model_validator(mode="after")
    def _real_day(self) -> CustomHoliday:
        try:
            date(2000, self.month, self.day)
        except ValueError:
            raise ValueError(f"{self.month:02d}-{self.day:02d} is not a day of the year") from None
        return self


class LunarHoliday(_Strict):
    name: str = Field(min_length=1, max_length=100)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=30)
    leap_month: bool = False
    names: dict[str, str] = Field(default_factory=dict)


class HolidayOccasion(OccasionSpec):
    type: Literal["holiday"]
    countries: list[str] = Field(min_length=1)
    holidays: list[str] = Field(default_factory=list)
    custom: list[CustomHoliday] = Field(default_factory=list)
    lunar: list[LunarHoliday] = Field(default_factory=list)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        codes = [code.upper() for code in value]
        unknown = [code for code in codes if not supported_country(code)]
        if unknown:
            raise ValueError(f"no holiday calendar for {', '.join(unknown)}")
        if len(set(codes)) != len(codes):
            raise ValueError("lists a country twice")
        return codes

    @model_validator(mode="after")
    def _names_exist(self) -> HolidayOccasion:
        if not (self.holidays or self.custom or self.lunar):
            raise ValueError("needs at least one of holidays, custom, lunar")
        known: set[str] = set()
        for country in self.countries:
            known |= known_names(country, range(2025, 2031))
        missing = [name for name in self.holidays if name not in known]
        if missing:
            raise ValueError(
                f"unknown holiday name(s) {', '.join(repr(m) for m in missing)} for "
                f"{', '.join(self.countries)}; names are the library's English names, e.g. "
                f"{', '.join(sorted(known)[:5])}"
            )
        return self


def hits_for(spec: HolidayOccasion, day: date, country: str) -> list[HolidayHit]:
    """The campaign's holidays greeted on ``day`` in ``country``."""
    return holidays_on(
        day,
        country,
        spec.holidays,
        [c.model_dump() for c in spec.custom],
        [entry.model_dump() for entry in spec.lunar],
    )


def holiday_occurrence(hit: HolidayHit) -> Occurrence:
    return Occurrence(
        key=hit.date.isoformat(),
        local_date=hit.date,
        context={
            "type": "holiday",
            "date": hit.date.isoformat(),
            "name": hit.name,
            "country": hit.country,
            "source": hit.source,
        },
    )


def _translations(spec: HolidayOccasion, name: str) -> dict[str, str]:
    for entry in spec.custom:
        if entry.name == name:
            return dict(entry.names)
    for lunar_entry in spec.lunar:
        if lunar_entry.name == name:
            return dict(lunar_entry.names)
    return {}


class Holiday(BaseOccasion):
    type = "holiday"
    spec_model = HolidayOccasion
    variables = frozenset({"holiday"})

    def fans_out(self) -> bool:
        return True

    def partitions(self, spec: HolidayOccasion, day: date, shards: int) -> list[str]:
        """``COUNTRY#shard`` for every country with a greeted holiday on ``day``."""
        return [
            f"{country}#{shard}"
            for country in spec.countries
            if hits_for(spec, day, country)
            for shard in range(shards)
        ]

    def candidates(
        self, spec: HolidayOccasion, day: date, partition: str, read: Reader
    ) -> Iterator[tuple[Customer, Occurrence]]:
        """Customers of one country shard greeted on ``day`` (nothing read without a holiday)."""
        country = partition.split("#", 1)[0]
        hits = hits_for(spec, day, country)
        if not hits:
            return
        found = holiday_occurrence(hits[0])  # several on one day: one greeting, the first
        for customer in read("by-country", partition):
            if customer.get("country") == country:
                yield customer, found

    def check(
        self,
        spec: HolidayOccasion,
        pending: Pending,
        customer: Customer,
        now: datetime,
        links: LinkSigner,
    ) -> Check:
        context = pending.context
        name = localized_name(
            context.get("name", ""),
            date.fromisoformat(context["date"]),
            context.get("country", ""),
            context.get("source", "calendar"),
            customer.get("locale"),
            _translations(spec, context.get("name", "")),
        )
        return Check(variables={"holiday": {"name": name, "date": context["date"]}})

    def sample(self, spec: HolidayOccasion) -> Sample:
        return Sample(
            occasion={"name": "Christmas Day", "country": spec.countries[0]},
            variables={"holiday": {"name": "Christmas Day", "date": "2027-12-25"}},
        )

    def explain(self, spec: HolidayOccasion, customer: Customer) -> list[str]:
        return [] if customer.get("country") in spec.countries else [COUNTRY_NOT_IN_CAMPAIGN]


OCCASION = Holiday()
