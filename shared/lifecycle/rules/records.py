"""Validation of input records (customers) shared by every import path.

Each invalid record raises :class:`RecordError` with a reason that starts with the offending
field (``"birthday: 1991-02-29 is not a valid date"``) so that operators can fix their data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field

from lifecycle.core.clock import get_clock
from lifecycle.core.jsonsafe import MAX_DEPTH

# \Z, not $: "$" also matches before a trailing newline ("c-1\n" must not pass). ASCII
# digits only: \d would accept other scripts' digits.
CUSTOMER_ID_RE = re.compile(r"^[A-Za-z0-9._:@+-]{1,128}\Z")
LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
FULL_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
MONTH_DAY_RE = re.compile(r"^--([0-9]{2})-([0-9]{2})\Z")
MAX_NAME_LENGTH = 200
MAX_ATTRIBUTES_JSON = 4096
# An instant later than this after "now" is a bug in the source (a clock, a unit, a default
# of 2099) and would suppress inactivity reminders for ever.
MAX_FUTURE = timedelta(days=1)
# C0 controls (tab included), DEL, C1 controls and the Unicode line/paragraph separators:
# a name ends up in an e-mail header and in logs, where each of them does harm.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same without U+2028/U+2029: for text that never reaches a header or a log line on its
# own (a campaign name may hold a line separator; a CR/LF or NUL in it is still refused).
C0_C1_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Instants before this year are placeholders ("0001-01-01", Go's zero time), not real events.
MIN_INSTANT_YEAR = 1900

KNOWN_FIELDS = frozenset(
    {
        "customer_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "locale",
        "timezone",
        "country",
        "birthday",
        "consent",
        "created_at",
        "last_active_at",
        "attributes",
        "dates",
    }
)
# The tombstone of an erased customer carries ``attributes.erased_at`` (features/erasure.py);
# imports may not set it.
ERASED_AT = "erased_at"
DATE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"  # for pydantic (Rust regex: $ is the very end)
DATE_NAME_RE = re.compile(DATE_NAME_PATTERN.removesuffix("$") + r"\Z")
MAX_DATES = 20


class RecordError(ValueError):
    """An input record is invalid; ``reason`` names the field first."""

    def __init__(self, reason: str, record_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record_id = record_id


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: bool = False
    sms: bool = False


class CustomerRecord(BaseModel):
    """A validated, normalized customer."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    country: str | None = None
    birthday: str | None = None
    consent: Consent = Field(default_factory=Consent)
    created_at: datetime | None = None
    last_active_at: datetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    dates: dict[str, str] = Field(default_factory=dict)  # name -> YYYY-MM-DD
    unknown_fields: list[str] = Field(default_factory=list)

    @property
    def birthday_month_day(self) -> str | None:
        """``"MM-DD"`` of the birthday (the birthday index key), or None."""
        return birthday_month_day(self.birthday) if self.birthday else None

    @property
    def birth_year(self) -> int | None:
        if self.birthday and not self.birthday.startswith("--"):
            return int(self.birthday[:4])
        return None


def birthday_month_day(birthday: str) -> str:
    return birthday[2:] if birthday.startswith("--") else birthday[5:]


@cache
def is_valid_timezone(name: str) -> bool:
    if not name or name.strip() != name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_birthday(value: object) -> str:
    """Validate ``YYYY-MM-DD`` (real date, 1900-2100) or ``--MM-DD`` (Feb 29 allowed)."""
    if not isinstance(value, str):
        raise ValueError("must be a string 'YYYY-MM-DD' or '--MM-DD'")
    full = FULL_DATE_RE.match(value)
    if full:
        year, month, day = (int(part) for part in full.groups())
        if not 1900 <= year <= 2100:
            raise ValueError(f"{value} has a year outside 1900-2100")
        try:
            date(year, month, day)
        except ValueError:
            raise ValueError(f"{value} is not a valid date") from None
        return value
    month_day = MONTH_DAY_RE.match(value)
    if month_day:
        month, day = (int(part) for part in month_day.groups())
        try:
            date(2000, month, day)  # a leap year: --02-29 is a real birthday
        except ValueError:
            raise ValueError(f"{value} is not a valid month and day") from None
        return value
    raise ValueError(f"{value!r} must be 'YYYY-MM-DD' or '--MM-DD'")


def parse_instant(value: object, now: datetime | None = None) -> datetime:
    """An ISO 8601 instant with an offset; with ``now``, at most :data:`MAX_FUTURE` after it."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a UTC offset")
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if instant.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (add Z or +hh:mm)")
    try:
        in_utc = instant.astimezone(UTC)  # "0001-01-01T00:00:00+01:00" is before year 1
    except OverflowError:
        raise ValueError(f"{value} is out of range") from None
    if in_utc.year < MIN_INSTANT_YEAR:
        raise ValueError(f"{value} is before {MIN_INSTANT_YEAR}")
    if now is not None and instant > now + MAX_FUTURE:
        raise ValueError(
            f"{value} is in the future (more than {MAX_FUTURE.days} day after "
            f"{now.isoformat(timespec='seconds')})"
        )
    return instant


def normalize_locale(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string such as 'en-US'")
    candidate = value.replace("_", "-")
    if not LOCALE_RE.match(candidate):
        raise ValueError(f"{value!r} is not a language tag such as 'en' or 'zh-CN'")
    parts = candidate.split("-")
    normalized = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2:
            normalized.append(part.upper())
        elif len(part) == 4:
            normalized.append(part.title())
        else:
            normalized.append(part)
    return "-".join(normalized)


def normalize_email(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid address ({exc})") from None
    return result.normalized


def normalize_phone(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("+"):
        raise ValueError("must be an E.164 number such as +4915112345678")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{value!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid E.164 number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalize_country(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError("must be an ISO 3166-1 alpha-2 code such as 'DE'")
    code = value.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def check_no_control(value: str, pattern: re.Pattern[str] = CONTROL_RE) -> None:
    """ValueError naming the first control character (``pattern``) in ``value``, if any."""
    control = pattern.search(value)
    if control:
        raise ValueError(
            f"contains the control character U+{ord(control.group()):04X} "
            f"at position {control.start() + 1}"
        )


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"longer than {MAX_NAME_LENGTH} characters")
    check_no_control(value)
    return value.strip()


def _timezone(value: object) -> str:
    if not isinstance(value, str) or not is_valid_timezone(value):
        raise ValueError(f"{value!r} is not an IANA timezone such as 'Europe/Berlin'")
    return value


def _consent(value: object) -> Consent:
    if not isinstance(value, dict):
        raise ValueError('must be an object such as {"email": true, "sms": false}')
    for key in ("email", "sms"):
        if key in value and not isinstance(value[key], bool):
            raise ValueError(f"{key} must be true or false")
    return Consent(email=value.get("email", False), sms=value.get("sms", False))


def is_erased(customer: Mapping[str, Any] | None) -> bool:
    """True for the tombstone of an erased customer (a stored customer as a dict)."""
    attributes = (customer or {}).get("attributes")
    return isinstance(attributes, Mapping) and bool(attributes.get(ERASED_AT))


def _attributes(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    if ERASED_AT in value:
        raise SubfieldError(ERASED_AT, "is reserved (only erasure sets it)")
    if len(json.dumps(value, default=str)) > MAX_ATTRIBUTES_JSON:
        raise ValueError(f"larger than {MAX_ATTRIBUTES_JSON} bytes")
    return dict(value)


class SubfieldError(ValueError):
    """A problem in one entry of an object field (reported as ``field.entry``)."""

    def __init__(self, entry: str, message: str) -> None:
        super().__init__(message)
        self.entry = entry


def _dates(value: object) -> dict[str, str]:
    """Named dates: ``{"signup": "2024-02-29"}``, each a real calendar day."""
    if not isinstance(value, dict):
        raise ValueError('must be an object such as {"signup": "2024-02-29"}')
    if len(value) > MAX_DATES:
        raise ValueError(f"more than {MAX_DATES} dates")
    dates: dict[str, str] = {}
    for name, day in value.items():
        if not DATE_NAME_RE.match(name):
            raise SubfieldError(
                str(name)[:40], "names are 1-40 characters a-z, 0-9 and _, starting with a letter"
            )
        if not isinstance(day, str) or not FULL_DATE_RE.match(day):
            raise SubfieldError(name, f"{day!r} is not a date YYYY-MM-DD")
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise SubfieldError(name, f"{day} is not a valid date") from None
        if not 1900 <= parsed.year <= 2199:
            raise SubfieldError(name, f"{day} is outside 1900-2199")
        dates[name] = day
    return dates


def lone_surrogate(text: str) -> str | None:
    """``"a lone surrogate U+D800 at position 4"`` if ``text`` is not encodable, else None.

    JSON's ``"\\ud800"`` escape decodes to one; it cannot be stored or sent (UTF-8 refuses it).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate U+{ord(text[exc.start]):04X} at position {exc.start + 1}"
    return None


def _first_unusable_value(raw: dict[Any, Any]) -> str | None:
    """``"path: problem"`` for a NaN/Infinity float, a lone surrogate in a string or key, or
    over-deep nesting anywhere, else None."""
    for key in raw:
        if isinstance(key, str) and (surrogate := lone_surrogate(key)):
            return f"record: a field name contains {surrogate}"
    stack: list[tuple[Any, str, int, str]] = [
        (value, str(key), 1, str(key)) for key, value in reversed(raw.items())
    ]
    while stack:
        value, path, depth, top = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{path}: {value} is not a number (NaN and Infinity are not allowed)"
        if isinstance(value, str) and (surrogate := lone_surrogate(value)):
            return f"{path}: contains {surrogate}"
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and (surrogate := lone_surrogate(key)):
                    return f"{path}: a key contains {surrogate}"
        if isinstance(value, dict | list | tuple):
            if depth > MAX_DEPTH:
                return f"{top}: nested deeper than {MAX_DEPTH} levels"
            children = (
                [(item, f"{path}.{key}") for key, item in value.items()]
                if isinstance(value, dict)
                else [(item, f"{path}[{index}]") for index, item in enumerate(value)]
            )
            stack.extend((item, where, depth + 1, top) for item, where in reversed(children))
    return None


INSTANT_FIELDS = frozenset({"created_at", "last_active_at"})

_FIELD_PARSERS: dict[str, Any] = {
    "email": normalize_email,
    "phone": normalize_phone,
    "first_name": _name,
    "last_name": _name,
    "locale": normalize_locale,
    "timezone": _timezone,
    "country": _normalize_country,
    "birthday": parse_birthday,
    "consent": _consent,
    "created_at": parse_instant,
    "last_active_at": parse_instant,
    "attributes": _attributes,
    "dates": _dates,
}


def parse_customer(raw: object, now: datetime | None = None) -> CustomerRecord:
    """Validate and normalize one customer record.

    ``created_at`` and ``last_active_at`` may be at most :data:`MAX_FUTURE` after ``now``
    (default: the clock's now).

    Raises
    ------
    RecordError
        The first problem found, naming the field (``"timezone: 'Mars/X' is not ..."``).
    """
    if not isinstance(raw, dict):
        raise RecordError(f"record: must be a JSON object, got {type(raw).__name__}")
    customer_id = raw.get("customer_id")
    if customer_id is None:
        raise RecordError("customer_id: is required")
    if not isinstance(customer_id, str) or not CUSTOMER_ID_RE.match(customer_id):
        shown = customer_id if isinstance(customer_id, str) else None
        raise RecordError(
            "customer_id: must be 1-128 characters from A-Z a-z 0-9 . _ : @ + -", shown
        )
    unusable = _first_unusable_value(raw)
    if unusable:
        raise RecordError(unusable, customer_id)
    reference = now or get_clock().now()
    values: dict[str, Any] = {"customer_id": customer_id}
    for field, parser in _FIELD_PARSERS.items():
        value = raw.get(field)
        if value is None:
            continue
        try:
            values[field] = parser(value, reference) if field in INSTANT_FIELDS else parser(value)
        except SubfieldError as exc:
            raise RecordError(f"{field}.{exc.entry}: {exc}", customer_id) from None
        except ValueError as exc:
            raise RecordError(f"{field}: {exc}", customer_id) from None
    values["unknown_fields"] = sorted(key for key in raw if key not in KNOWN_FIELDS)
    return CustomerRecord(**values)
