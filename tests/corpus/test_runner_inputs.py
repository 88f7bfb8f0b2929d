"""Corpus: the local runner's orders, usage events and survey answers files.

:func:`emulator.inputs.read_timeline` parses them (JSON Lines). Each case is line 2 of a
file between two good lines; ``CID`` is replaced by an id of the case's own (the order id of
an order line, the customer id of the others). A rejected line is listed with its line
number and a reason naming the field and the good lines stay in the timeline; an accepted
line is in the timeline with ``Accepted.values`` (dotted attribute paths, instants as UTC
ISO text). :class:`RawFile` cases give the whole file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.corpus import Accepted, Case, Rejected, ids, prefix_ok

ENTRY_POINT = "runner inputs (orders, usage events, survey answers files)"


@dataclass(frozen=True)
class Line:
    file: str  # "orders", "events" or "responses"
    text: str | bytes


@dataclass(frozen=True)
class RawFile:
    file: str
    data: bytes


def _order(**fields: Any) -> str:
    order: dict[str, Any] = {
        "order_id": "CID",
        "customer_id": "c-1",
        "status": "delivered",
        "created_at": "2027-03-01T10:00:00Z",
        "delivered_at": "2027-03-03T10:00:00Z",
        "items": [{"sku": "COFFEE-1KG", "name": "Coffee", "qty": 1, "price": 12.5}],
        "total": 12.5,
        "currency": "EUR",
    }
    order.update(fields)
    return json.dumps(order, ensure_ascii=False)


def _event(**fields: Any) -> str:
    event = {"customer_id": "CID", "type": "login", "at": "2027-03-02T08:00:00Z", **fields}
    return json.dumps(event, ensure_ascii=False)


def _answer(**fields: Any) -> str:
    answer = {
        "customer_id": "CID",
        "campaign_id": "nps",
        "score": 9,
        "comment": "fine",
        "at": "2027-03-06T12:00:00Z",
        **fields,
    }
    return json.dumps(answer, ensure_ascii=False)


def _raw(text: str, replace: str, by: str) -> str:
    assert replace in text
    return text.replace(replace, by, 1)


DEEP = "[" * 5000 + "]" * 5000
NOT_JSON = "record: not valid JSON"

ORDERS: list[Case] = [
    Case("order-nested-5000-deep", Line("orders", DEEP), Rejected(2, NOT_JSON)),
    Case(
        "order-nan-total",
        Line("orders", _raw(_order(), '"total": 12.5', '"total": NaN')),
        Rejected(2, ("total: ", NOT_JSON)),
    ),
    Case(
        "order-infinity-total",
        Line("orders", _raw(_order(), '"total": 12.5', '"total": Infinity')),
        Rejected(2, ("total: ", NOT_JSON)),  # accepted today; the DynamoDB write fails later
    ),
    Case(
        "order-overflowing-price",
        Line("orders", _raw(_order(), '"price": 12.5', '"price": 1e999')),
        Rejected(2, ("items.0.price: ", NOT_JSON)),
    ),
    Case(
        "order-total-of-5000-digits",
        Line("orders", _raw(_order(), '"total": 12.5', '"total": ' + "9" * 5000)),
        Rejected(2, ("total: ", NOT_JSON)),
    ),
    Case(
        "order-latin-1-line",
        Line("orders", _order(items=[{"sku": "C", "name": "Café"}]).encode("latin-1")),
        Rejected(2, "record: not UTF-8"),  # UnicodeDecodeError today: the whole run stops
    ),
    Case(
        "order-item-name-of-500-kb",
        Line("orders", _order(items=[{"sku": "C", "name": "x" * 500_000}])),
        Rejected(2, ("record: ", "items.0.name: ")),  # over DynamoDB's 400 KB item limit
    ),
    Case(
        "order-created-year-one-offset",
        Line("orders", _order(created_at="0001-01-01T00:00:00+01:00")),
        Rejected(2, "created_at: "),  # OverflowError when the order is replayed today
    ),
    Case(
        "order-cancelled-before-created",
        Line(
            "orders",
            _order(status="cancelled", delivered_at=None, cancelled_at="2027-02-01T00:00:00Z"),
        ),
        Rejected(2, ("record: ", "cancelled_at: ")),  # replayed as cancelled, then placed
    ),
    Case(
        "order-repeated-id",
        Line("orders", _order(order_id="GOOD1", total=99.0)),
        Rejected(2, "order_id: "),  # both are replayed today
    ),
    Case(
        "order-qty-true",
        Line("orders", _order(items=[{"sku": "C", "qty": True}])),
        Rejected(2, "items.0.qty: "),
    ),
    Case(
        "order-items-a-string", Line("orders", _order(items="COFFEE-1KG")), Rejected(2, "items: ")
    ),
    Case(
        "order-item-without-sku",
        Line("orders", _order(items=[{"name": "Coffee", "qty": 1}])),
        Rejected(2, "items.0.sku: "),
    ),
    Case(
        "order-currency-lowercase",
        Line("orders", _order(currency="eur")),
        Rejected(2, "currency: "),
    ),
    Case("order-id-empty", Line("orders", _order(order_id="")), Rejected(2, "order_id: ")),
    Case(
        "order-delivered-at-naive",
        Line("orders", _order(delivered_at="2027-03-03T10:00:00")),
        Rejected(2, "delivered_at: "),
    ),
    Case("order-line-null", Line("orders", "null"), Rejected(2, "record: must be a JSON object")),
    Case(
        "order-raw-line-separator-in-name",
        Line("orders", _order(items=[{"sku": "C", "name": "Kaffee\u2028Bohnen"}])),
        Accepted({"items.0.name": "Kaffee\u2028Bohnen"}),  # split into two bad lines today
    ),
    Case(
        "order-total-as-text",
        Line("orders", _order(total="12.50")),
        Accepted({"total": 12.5}),
    ),
    Case(
        "order-file-with-bom",
        RawFile("orders", b"\xef\xbb\xbf" + _order().encode() + b"\n"),
        Accepted({"created_at": "2027-03-01T10:00:00Z"}),  # line 1 rejected today
    ),
]

EVENTS: list[Case] = [
    Case("event-nested-5000-deep", Line("events", DEEP), Rejected(2, NOT_JSON)),
    Case(
        "event-latin-1-line",
        Line("events", _event(type="café").encode("latin-1")),
        Rejected(2, "record: not UTF-8"),
    ),
    Case(
        "event-at-year-one-offset",
        Line("events", _event(at="0001-01-01T00:00:00+01:00")),
        Rejected(2, "at: "),  # OverflowError when the event is replayed today
    ),
    Case("event-at-naive", Line("events", _event(at="2027-03-02T08:00:00")), Rejected(2, "at: ")),
    Case("event-at-epoch-number", Line("events", _event(at=1804000000)), Rejected(2, "at: ")),
    Case(
        "event-at-nan",
        Line("events", _raw(_event(), '"at": "2027-03-02T08:00:00Z"', '"at": NaN')),
        Rejected(2, ("at: ", NOT_JSON)),
    ),
    Case("event-type-empty", Line("events", _event(type="")), Rejected(2, "type: ")),
    Case("event-type-101-chars", Line("events", _event(type="t" * 101)), Rejected(2, "type: ")),
    Case(
        "event-customer-with-space",
        Line("events", _event(customer_id="c 1")),
        Rejected(2, "customer_id: "),
    ),
    Case(
        "event-customer-number",
        Line("events", _event(customer_id=17)),
        Rejected(2, "customer_id: "),
    ),
    Case("event-line-a-list", Line("events", "[]"), Rejected(2, "record: must be a JSON object")),
    Case(
        "event-at-offset-normalized",
        Line("events", _event(at="2027-03-02T10:00:00+02:00")),
        Accepted({"at": "2027-03-02T08:00:00Z"}),
    ),
    Case(
        "event-raw-line-separator-in-type",
        Line("events", _event(type="page\u2028view")),
        Accepted({"type": "page\u2028view"}),  # split into two bad lines today
    ),
]

RESPONSES: list[Case] = [
    Case("answer-score-banana", Line("responses", _answer(score="banana")), Rejected(2, "score: ")),
    Case("answer-score-null", Line("responses", _answer(score=None)), Rejected(2, "score: ")),
    Case("answer-score-list", Line("responses", _answer(score=[9])), Rejected(2, "score: ")),
    Case("answer-score-true", Line("responses", _answer(score=True)), Rejected(2, "score: ")),
    Case("answer-score-fraction", Line("responses", _answer(score=7.5)), Rejected(2, "score: ")),
    Case(
        "answer-score-nan",
        Line("responses", _raw(_answer(), '"score": 9', '"score": NaN')),
        Rejected(2, ("score: ", NOT_JSON)),
    ),
    Case(
        "answer-score-missing",
        Line(
            "responses",
            json.dumps({"customer_id": "CID", "campaign_id": "nps", "at": "2027-03-06T12:00:00Z"}),
        ),
        Rejected(2, "score: "),
    ),
    Case("answer-comment-number", Line("responses", _answer(comment=5)), Rejected(2, "comment: ")),
    Case(
        "answer-campaign-empty",
        Line("responses", _answer(campaign_id="")),
        Rejected(2, "campaign_id: "),
    ),
    Case(
        "answer-at-missing",
        Line("responses", json.dumps({"customer_id": "CID", "campaign_id": "nps", "score": 9})),
        Rejected(2, "at: "),
    ),
    Case(
        "answer-comment-with-emoji",
        Line("responses", _answer(comment="🎂 great")),
        Accepted({"comment": "🎂 great", "score": 9}),
    ),
]

CASES = ORDERS + EVENTS + RESPONSES


# --------------------------------------------------------------------------- the runner
def _names(case: Case) -> dict[str, str]:
    return {"GOOD1": f"{case.id}-a", "CID": f"{case.id}-x", "GOOD2": f"{case.id}-b"}


def _fill(data: bytes, names: dict[str, str]) -> bytes:
    for placeholder, value in names.items():
        data = data.replace(placeholder.encode(), value.encode())
    return data


def _good(file: str, ident: str) -> bytes:
    text = {"orders": _order, "events": _event, "responses": _answer}[file]()
    return text.replace("CID", ident).encode()


def _key(file: str, payload: Any) -> str:
    if file == "orders":
        return str(payload[0].order_id)
    line = payload[1] if file == "responses" else payload
    return str(line.customer_id)


def _value(payload: Any, path: str) -> Any:
    value = payload
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    if isinstance(value, datetime):
        from lifecycle.core.clock import utc_iso

        return utc_iso(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_runner_input_case(case: Case, tmp_path: Path) -> None:
    from emulator.inputs import read_timeline

    names = _names(case)
    file = case.input.file
    if isinstance(case.input, RawFile):
        data = _fill(case.input.data, names)
    else:
        text = case.input.text
        bad = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        data = b"\n".join(
            [_good(file, names["GOOD1"]), _fill(bad, names), _good(file, names["GOOD2"])]
        )
    path = tmp_path / f"{file}.jsonl"
    path.write_bytes(data + b"\n")
    files: dict[str, Path | None] = {"orders": None, "events": None, "responses": None}
    files[file] = path

    timeline, rejections = read_timeline(files["orders"], files["events"], files["responses"])

    rejected = [(r.line, r.reason) for r in rejections]
    entries = [(_key(file, payload), payload) for _, _, _, payload in timeline]
    kept = {key for key, _ in entries}
    if not isinstance(case.input, RawFile):
        assert {names["GOOD1"], names["GOOD2"]} <= kept, (kept, rejected)
    expect = case.expect
    if isinstance(expect, Rejected):
        assert len(rejected) == 1 and rejected[0][0] == expect.line, rejected
        assert prefix_ok(rejected[0][1], expect.reason), rejected
        if expect.reason != "order_id: ":  # a repeated id names a good line's id
            assert names["CID"] not in kept
        return
    assert isinstance(expect, Accepted)
    assert rejected == [], rejected
    mine = [payload for key, payload in entries if key == names["CID"]]
    assert mine, kept
    for path_, value in expect.values.items():
        target = mine[0] if file != "orders" else mine[0][0]
        if file == "responses":
            target = mine[0][1]
        assert _value(target, path_) == value, path_
