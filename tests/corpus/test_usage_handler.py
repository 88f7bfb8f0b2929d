"""Corpus: the usage function with EventBridge ``usage.recorded`` events.

Each case changes the sample event ``events/usage/usage_recorded.json`` (its ``detail`` is about
a customer of the case's own, ``CID``, last active 2027-03-01; the clock is 2027-03-13).
Outcomes: :class:`Dropped` (``{"status": "invalid", "error": ...}``, last activity unchanged),
:class:`Accepted` (``updated``, ``last_active_at`` as given), :class:`Ignored` (that status,
unchanged).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.corpus.conftest import T0
from tests.corpus.corpus import Accepted, Case, Dropped, Ignored, ids
from tests.events import load_event

ENTRY_POINT = "usage handler (EventBridge usage.recorded)"
BEFORE = "2027-03-01T00:00:00Z"
MISSING = object()


@dataclass(frozen=True)
class Change:
    """Replace (or, with MISSING, remove) top-level keys and keys of ``detail``."""

    detail: dict[str, Any] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)


def _detail(**values: Any) -> Change:
    return Change(detail=values)


CASES: list[Case] = [
    Case(
        "detail-type-capitalized",
        Change(top={"detail-type": "Usage.Recorded"}),
        Dropped("detail-type"),
    ),
    Case("detail-type-missing", Change(top={"detail-type": MISSING}), Dropped("detail-type")),
    Case("detail-a-list", Change(top={"detail": [1]}), Dropped("detail: ")),
    Case("type-a-number", _detail(type=5), Dropped("type: ")),
    Case("type-of-101-chars", _detail(type="t" * 101), Dropped("type: ")),
    Case("customer-a-number", _detail(customer_id=17), Dropped("customer_id: ")),
    Case("customer-a-list", _detail(customer_id=["CID"]), Dropped("customer_id: ")),
    Case("customer-of-129-chars", _detail(customer_id="c" * 129), Dropped("customer_id: ")),
    Case("customer-trailing-newline", _detail(customer_id="CID\n"), Dropped("customer_id: ")),
    Case("at-epoch-number", _detail(at=1804000000), Dropped("at: ")),
    Case("at-date-only", _detail(at="2027-03-12"), Dropped("at: ")),
    Case("at-null", _detail(at=None), Dropped("at: ")),
    Case(
        "at-year-one-with-offset",
        _detail(at="0001-01-01T00:00:00+01:00"),
        Dropped("at: "),  # OverflowError today: Lambda retries, then AsyncFailureDLQ
    ),
    Case(
        "at-year-9999-west-of-utc",
        _detail(at="9999-12-31T23:59:59-01:00"),
        Dropped("at: "),  # OverflowError today
    ),
    Case(
        "event-time-in-2099",
        Change(detail={"at": "2099-03-19T00:00:00Z"}, top={"time": "2099-03-20T00:00:00Z"}),
        Dropped("at: "),  # today the event's own time lets last activity jump to 2099
    ),
    Case(
        "event-time-unreadable",
        Change(detail={"at": "2027-03-12T10:00:00Z"}, top={"time": "soon"}),
        Accepted({"last_active_at": "2027-03-12T10:00:00Z"}),
    ),
    Case(
        "event-time-missing",
        Change(detail={"at": "2027-03-12T10:00:00Z"}, top={"time": MISSING}),
        Accepted({"last_active_at": "2027-03-12T10:00:00Z"}),
    ),
    Case(
        "at-with-offset",
        _detail(at="2027-03-12T12:00:00+02:00"),
        Accepted({"last_active_at": "2027-03-12T10:00:00Z"}),
    ),
    Case(
        "at-nanoseconds",
        _detail(at="2027-03-12T10:00:00.123456789Z"),
        Accepted({"last_active_at": "2027-03-12T10:00:00Z"}),
    ),
    Case(
        "at-lowercase-t-z",
        _detail(at="2027-03-12t10:00:00z"),
        Accepted({"last_active_at": "2027-03-12T10:00:00Z"}),
    ),
    Case(
        "extra-detail-fields",
        _detail(at="2027-03-12T10:00:00Z", device={"os": "ios"}, score=float("inf")),
        Accepted({"last_active_at": "2027-03-12T10:00:00Z"}),
    ),
    Case("at-before-last-activity", _detail(at="2027-02-01T00:00:00Z"), Ignored("stale")),
]


# --------------------------------------------------------------------------- the runner
def _event(change: Change, cid: str) -> dict[str, Any]:
    event = load_event("usage/usage_recorded.json")
    event["time"] = "2027-03-13T00:00:00Z"
    event["detail"] = {"customer_id": cid, "type": "login", "at": "2027-03-12T10:00:00Z"}
    for key, value in change.top.items():
        if value is MISSING:
            event.pop(key, None)
        else:
            event[key] = copy.deepcopy(value)
    if isinstance(event.get("detail"), dict):
        for key, value in change.detail.items():
            if value == ["CID"]:
                event["detail"][key] = [cid]
            elif isinstance(value, str):
                event["detail"][key] = value.replace("CID", cid)
            else:
                event["detail"][key] = value
    return event


@pytest.fixture(scope="module")
def usage(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    return handler("UsageFunction")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_usage_handler_case(case: Case, usage: Any, sim_clock: Any) -> None:
    from lifecycle.features.importer import import_customers
    from lifecycle.store.customers import get_customer

    cid = f"{case.id}-x"
    sim_clock.set(T0)
    line = f'{{"customer_id": "{cid}", "last_active_at": "{BEFORE}"}}'
    assert not import_customers([line], "customers.jsonl", T0).rejected

    outcome = usage(_event(case.input, cid))

    customer = get_customer(cid)
    assert customer is not None
    expect = case.expect
    if isinstance(expect, Dropped):
        assert outcome["status"] == "invalid", outcome
        assert outcome["error"].startswith(expect.error), outcome
        assert customer["last_active_at"] == BEFORE
    elif isinstance(expect, Ignored):
        assert outcome == {"status": expect.status}
        assert customer["last_active_at"] == BEFORE
    else:
        assert isinstance(expect, Accepted)
        assert outcome == {"status": "updated"}
        assert customer["last_active_at"] == expect.values["last_active_at"]
