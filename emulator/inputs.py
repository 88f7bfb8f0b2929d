"""Optional runner inputs that stand for other services: orders, usage events, survey answers.

Each file is JSON Lines; a bad line is listed in the report's ``rejected`` with its line
number and reason, and the rest run. :func:`read_timeline` merges the three files into the
time-ordered list of outside events the simulation replays.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from emulator.config import InputError, existing, read_input
from lifecycle.core import jsonsafe
from lifecycle.core.clock import utc_iso
from lifecycle.features.importer import MAX_LINE_BYTES, Rejection, split_lines
from lifecycle.rules.records import CONTROL_RE, CUSTOMER_ID_RE, MAX_NAME_LENGTH, parse_instant

T = TypeVar("T", bound=BaseModel)
# (instant, sequence, kind, payload): kind "order" -> (OrderLine, status), "usage" ->
# UsageLine, "response" -> (line number, ResponseLine).
TimelineEntry = tuple[datetime, int, str, Any]
ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")
# Amounts and quantities DynamoDB can store and the simulation can add up.
MAX_AMOUNT = 1_000_000_000
MAX_QTY = 1_000_000
MAX_ITEMS = 1000
MAX_COMMENT = 10_000
# Instants the simulation can shift by days and weeks without leaving datetime's range.
YEARS = range(1900, 2101)


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("customer_id", check_fields=False)
    @classmethod
    def _customer(cls, value: str) -> str:
        if not CUSTOMER_ID_RE.match(value):
            raise ValueError("not a customer id")
        return value


def _instant(value: Any) -> datetime:
    instant = parse_instant(value)
    try:
        year = instant.astimezone(UTC).year
    except OverflowError:
        year = 0
    if year not in YEARS:
        raise ValueError(f"{value} is outside the years {YEARS.start}-{YEARS.stop - 1}")
    return instant


def _no_control(value: str) -> str:
    control = CONTROL_RE.search(value)
    if control:
        raise ValueError(f"contains the control character U+{ord(control.group()):04X}")
    return value


class OrderItemLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    qty: int = Field(default=1, ge=1, le=MAX_QTY, strict=True)
    price: float | None = Field(default=None, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)


class OrderLine(_Line):
    order_id: str = Field(min_length=1, max_length=128)
    customer_id: str
    status: Literal["placed", "shipped", "delivered", "cancelled", "returned"]
    created_at: datetime
    delivered_at: datetime | None = None
    returned_at: datetime | None = None
    cancelled_at: datetime | None = None
    items: list[OrderItemLine] = Field(default_factory=list, max_length=MAX_ITEMS)
    total: float | None = Field(default=None, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    _instants = field_validator(
        "created_at", "delivered_at", "returned_at", "cancelled_at", mode="before"
    )(lambda cls, v: None if v is None else _instant(v))
    _order_id = field_validator("order_id")(lambda cls, v: _no_control(v))

    @model_validator(mode="after")
    def _timeline(self) -> OrderLine:
        if (
            self.status in ("delivered", "returned")
            and self.delivered_at is None
            and (self.status == "delivered")
        ):
            raise ValueError("a delivered order needs delivered_at")
        if self.delivered_at and self.delivered_at < self.created_at:
            raise ValueError("delivered_at is before created_at")
        if self.returned_at and (self.delivered_at is None or self.returned_at < self.delivered_at):
            raise ValueError("returned_at needs an earlier delivered_at")
        if self.cancelled_at and self.cancelled_at < self.created_at:
            raise ValueError("cancelled_at is before created_at")
        return self

    def writes(self) -> list[tuple[datetime, str]]:
        """(instant, status) writes the shop makes to the Orders table, in order."""
        first = "placed" if self.status in ("delivered", "returned") else self.status
        if self.status == "cancelled" and self.cancelled_at:
            first = "placed"
        steps: list[tuple[datetime, str]] = [(self.created_at, first)]
        if self.delivered_at and self.status in ("delivered", "returned"):
            steps.append((self.delivered_at, "delivered"))
        if self.status == "returned" and self.returned_at:
            steps.append((self.returned_at, "returned"))
        if self.status == "cancelled" and self.cancelled_at:
            steps.append((self.cancelled_at, "cancelled"))
        return steps

    def item(self, status: str, at: datetime) -> dict[str, Any]:
        document: dict[str, Any] = {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "status": status,
            "created_at": utc_iso(self.created_at),
            "items": [i.model_dump(exclude_none=True) for i in self.items],
        }
        if status in ("delivered", "returned") and self.delivered_at:
            document["delivered_at"] = utc_iso(self.delivered_at)
        if self.total is not None:
            document["total"] = self.total
        if self.currency:
            document["currency"] = self.currency
        document["updated_at"] = utc_iso(at)
        # DynamoDB numbers: Decimal, never float.
        result: dict[str, Any] = json.loads(json.dumps(document), parse_float=Decimal)
        return result


class UsageLine(_Line):
    customer_id: str
    type: str = Field(min_length=1, max_length=100)
    at: datetime

    _at = field_validator("at", mode="before")(lambda cls, v: _instant(v))


class ResponseLine(_Line):
    customer_id: str
    campaign_id: str = Field(min_length=1, max_length=128)
    # A whole number; the survey endpoint checks the campaign's scale (11 is its 400).
    score: int = Field(strict=True)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)
    at: datetime

    _at = field_validator("at", mode="before")(lambda cls, v: _instant(v))
    _campaign = field_validator("campaign_id")(lambda cls, v: _no_control(v))


def _reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    return f"{where}: {err['msg'].removeprefix('Value error, ')}"


def read_lines(
    path: Path, model: type[T], id_field: str, *, unique: bool = False
) -> tuple[list[tuple[int, T]], list[Rejection]]:
    """Parse a JSON Lines file into ``model`` objects; bad lines become rejections.

    Lines are split on ``\\n`` only and decoded one by one (a BOM is dropped); with
    ``unique`` a later line repeating an earlier line's ``id_field`` is rejected.
    """
    source = path.name
    good: list[tuple[int, T]] = []
    rejected: list[Rejection] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(split_lines(path.read_bytes()), start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            reason = f"record: not UTF-8 text (byte {exc.start + 1} of the line)"
            rejected.append(Rejection(source, number, None, reason))
            continue
        if not text:
            continue
        if len(line) > MAX_LINE_BYTES:
            reason = f"record: line longer than {MAX_LINE_BYTES} bytes"
            rejected.append(Rejection(source, number, None, reason))
            continue
        try:
            raw = jsonsafe.loads(text)
        except json.JSONDecodeError as exc:
            rejected.append(Rejection(source, number, None, f"record: not valid JSON ({exc.msg})"))
            continue
        ident = raw.get(id_field) if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            rejected.append(Rejection(source, number, None, "record: must be a JSON object"))
            continue
        try:
            parsed = model.model_validate(raw)
        except ValidationError as exc:
            rejected.append(
                Rejection(source, number, ident if isinstance(ident, str) else None, _reason(exc))
            )
            continue
        if unique:
            key = getattr(parsed, id_field)
            if key in seen:
                reason = f"{id_field}: {key} repeats line {seen[key]}"
                rejected.append(Rejection(source, number, key, reason))
                continue
            seen[key] = number
        good.append((number, parsed))
    return good, rejected


def read_timeline(
    orders: Path | None, events: Path | None, responses: Path | None
) -> tuple[list[TimelineEntry], list[Rejection]]:
    """Orders, usage events and survey answers as a timeline; bad lines are rejected."""
    timeline: list[TimelineEntry] = []
    rejected: list[Rejection] = []
    sequence = 0
    if orders:
        order_lines, bad = read_lines(
            existing(orders, "orders"), OrderLine, "order_id", unique=True
        )
        rejected += bad
        for _, order in order_lines:
            for at, status in order.writes():
                sequence += 1
                timeline.append((at, sequence, "order", (order, status)))
    if events:
        usage_lines, bad = read_lines(existing(events, "events"), UsageLine, "customer_id")
        rejected += bad
        for _, event in usage_lines:
            sequence += 1
            timeline.append((event.at, sequence, "usage", event))
    if responses:
        answers, bad = read_lines(existing(responses, "responses"), ResponseLine, "customer_id")
        rejected += bad
        for number, answer in answers:
            sequence += 1
            timeline.append((answer.at, sequence, "response", (number, answer)))
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    return timeline, rejected


def read_policy(path: Path) -> dict[str, Any]:
    """``--policy``: the messaging policy document, validated as ``PUT /policy`` would.

    Raises :class:`~emulator.config.InputError` naming the file and every bad field.
    """
    from lifecycle.occasions.registry import types as occasion_types
    from lifecycle.rules.policy import PolicyError, parse_policy

    data = read_input(path, "policy")
    try:
        raw = jsonsafe.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: the policy is not UTF-8 text") from None
    except ValueError as exc:
        raise InputError(f"{path}: the policy is not valid JSON ({exc})") from None
    try:
        policy = parse_policy(raw, occasion_types())
    except PolicyError as exc:
        raise InputError(f"{path}: invalid policy: {exc}") from None
    return policy.document()
