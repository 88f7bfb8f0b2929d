"""Optional runner inputs that stand for other services: orders, usage events, survey answers.

Each file is JSON Lines; a bad line is listed in the report's ``rejected`` with its line
number and reason, and the rest run. :func:`read_timeline` merges the three files into the
time-ordered list of outside events the simulation replays.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from emulator.config import existing
from lifecycle.core.clock import utc_iso
from lifecycle.features.importer import Rejection
from lifecycle.rules.records import CUSTOMER_ID_RE, parse_instant

T = TypeVar("T", bound=BaseModel)
# (instant, sequence, kind, payload): kind "order" -> (OrderLine, status), "usage" ->
# UsageLine, "response" -> (line number, ResponseLine).
TimelineEntry = tuple[datetime, int, str, Any]
ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("customer_id", check_fields=False)
    @classmethod
    def _customer(cls, value: str) -> str:
        if not CUSTOMER_ID_RE.match(value):
            raise ValueError("not a customer id")
        return value


def _instant(value: Any) -> datetime:
    return parse_instant(value)


class OrderItemLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: str = Field(min_length=1, max_length=100)
    name: str | None = None
    qty: int = Field(default=1, ge=1)
    price: float | None = Field(default=None, ge=0)


class OrderLine(_Line):
    order_id: str = Field(min_length=1, max_length=128)
    customer_id: str
    status: Literal["placed", "shipped", "delivered", "cancelled", "returned"]
    created_at: datetime
    delivered_at: datetime | None = None
    returned_at: datetime | None = None
    cancelled_at: datetime | None = None
    items: list[OrderItemLine] = Field(default_factory=list)
    total: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    _instants = field_validator(
        "created_at", "delivered_at", "returned_at", "cancelled_at", mode="before"
    )(lambda cls, v: None if v is None else _instant(v))

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
    campaign_id: str = Field(min_length=1)
    score: Any
    comment: str | None = None
    at: datetime

    _at = field_validator("at", mode="before")(lambda cls, v: _instant(v))


def _reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    return f"{where}: {err['msg'].removeprefix('Value error, ')}"


def read_lines(
    path: Path, model: type[T], id_field: str
) -> tuple[list[tuple[int, T]], list[Rejection]]:
    """Parse a JSON Lines file into ``model`` objects; bad lines become rejections."""
    source = path.name
    good: list[tuple[int, T]] = []
    rejected: list[Rejection] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            rejected.append(Rejection(source, number, None, f"record: not valid JSON ({exc.msg})"))
            continue
        ident = raw.get(id_field) if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            rejected.append(Rejection(source, number, None, "record: must be a JSON object"))
            continue
        try:
            good.append((number, model.model_validate(raw)))
        except ValidationError as exc:
            rejected.append(
                Rejection(source, number, ident if isinstance(ident, str) else None, _reason(exc))
            )
    return good, rejected


def read_timeline(
    orders: Path | None, events: Path | None, responses: Path | None
) -> tuple[list[TimelineEntry], list[Rejection]]:
    """Orders, usage events and survey answers as a timeline; bad lines are rejected."""
    timeline: list[TimelineEntry] = []
    rejected: list[Rejection] = []
    sequence = 0
    if orders:
        order_lines, bad = read_lines(existing(orders, "orders"), OrderLine, "order_id")
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
