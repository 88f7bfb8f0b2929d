"""Corpus: the Orders stream function with DynamoDB stream records as Lambda delivers them.

Each case changes the ``MODIFY shipped -> delivered`` record of
``events/orders_stream/delivered.json`` (order ``o-<case>-x``) and sends it in one batch with an
unchanged record (order ``o-<case>-a``). Active campaigns: a replenishment reminder
(``restock``) and an NPS survey (``nps``) for customer ``os-1`` (Europe/Berlin). Outcomes:
:class:`BatchFailure` (only that record in ``batchItemFailures``, nothing planned for it),
:class:`Ignored` (no failure, nothing planned), :class:`Accepted` (planned:
``values["nps"]`` is the survey's ``deliver_at``). The unchanged record is always planned.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.corpus.conftest import T0
from tests.corpus.corpus import Accepted, BatchFailure, Case, Ignored, ids
from tests.events import load_event

ENTRY_POINT = "orders stream handler (DynamoDB stream records)"
CUSTOMER = "os-1"
SURVEY_AT = "2027-03-06T08:00:00Z"  # 09:00 in Berlin, three days after delivery

Record = dict[str, Any]
Change = Callable[[Record], None]


def _new(**attributes: Any) -> Change:
    """Set (or, with None, remove) attributes of the NewImage."""

    def change(record: Record) -> None:
        image = record["dynamodb"]["NewImage"]
        for name, value in attributes.items():
            if value is None:
                image.pop(name, None)
            else:
                image[name] = value

    return change


def _drop(*keys: str) -> Change:
    def change(record: Record) -> None:
        for key in keys:
            record["dynamodb"].pop(key, None)

    return change


def _remove_event(record: Record) -> None:
    record["eventName"] = "REMOVE"
    record["dynamodb"].pop("NewImage")


def _keys_only(record: Record) -> None:
    record["dynamodb"].pop("NewImage")
    record["dynamodb"].pop("OldImage")
    record["dynamodb"]["StreamViewType"] = "KEYS_ONLY"


def _insert_delivered(record: Record) -> None:
    record["eventName"] = "INSERT"
    record["dynamodb"].pop("OldImage")


def _old_delivered(record: Record) -> None:
    record["dynamodb"]["OldImage"]["status"] = {"S": "delivered"}
    record["dynamodb"]["OldImage"]["delivered_at"] = {"S": "2027-03-03T15:00:00Z"}


def _no_dynamodb(record: Record) -> None:
    record.pop("dynamodb")


def _null_new_image(record: Record) -> None:
    record["dynamodb"]["NewImage"] = None


CASES: list[Case] = [
    # ---- records that carry no delivered order
    Case("remove-event", _remove_event, Ignored()),
    Case("modify-without-new-image", _drop("NewImage"), Ignored()),
    Case("keys-only-record", _keys_only, Ignored()),
    Case("record-without-dynamodb", _no_dynamodb, Ignored()),
    Case("new-image-null", _null_new_image, Ignored()),
    Case("status-a-number", _new(status={"N": "3"}), Ignored()),
    Case("status-uppercase", _new(status={"S": "DELIVERED"}), Ignored()),
    Case("status-cancelled", _new(status={"S": "cancelled"}), Ignored()),
    Case("old-image-already-delivered", _old_delivered, Ignored()),
    Case("delivered-without-delivered-at", _new(delivered_at=None), Ignored()),
    Case("customer-unknown", _new(customer_id={"S": "nobody"}), Ignored()),
    Case("customer-a-number", _new(customer_id={"N": "1"}), Ignored()),
    # ---- malformed images: retried, then the on-failure queue
    Case("order-id-missing", _new(order_id=None), BatchFailure()),
    Case("customer-id-missing", _new(customer_id=None), BatchFailure()),
    Case("delivered-at-words", _new(delivered_at={"S": "yesterday"}), BatchFailure()),
    Case("delivered-at-naive", _new(delivered_at={"S": "2027-03-03T15:00:00"}), BatchFailure()),
    Case("delivered-at-a-number", _new(delivered_at={"N": "1804086000"}), BatchFailure()),
    Case("attribute-of-unknown-type", _new(total={"X": "42.5"}), BatchFailure()),
    Case(
        "delivered-at-year-one",
        _new(delivered_at={"S": "0001-01-01T00:00:00Z"}),
        BatchFailure(),  # today planned at "1-01-04T08:06:32Z" (not an ISO instant)
    ),
    Case(
        "delivered-at-2099",
        _new(delivered_at={"S": "2099-01-01T00:00:00Z"}),
        BatchFailure(),  # today a survey and a reminder queued for 2099
    ),
    # ---- accepted
    Case("insert-already-delivered", _insert_delivered, Accepted({"nps": SURVEY_AT})),
    Case(
        "delivered-at-with-offset",
        _new(delivered_at={"S": "2027-03-03T17:00:00+02:00"}),
        Accepted({"nps": SURVEY_AT}),
    ),
    Case(
        "items-with-odd-entries",
        _new(
            items={
                "L": [
                    {"S": "not an item"},
                    {"M": {"sku": {"S": "COFFEE-1KG"}, "qty": {"S": "two"}}},
                ]
            }
        ),
        Accepted({"nps": SURVEY_AT}),
    ),
]


# --------------------------------------------------------------------------- the runner
def _record(order_id: str, sequence: str) -> Record:
    record: Record = copy.deepcopy(load_event("orders_stream/delivered.json")["Records"][0])
    record["dynamodb"]["SequenceNumber"] = sequence
    record["dynamodb"]["Keys"]["order_id"] = {"S": order_id}
    for image in ("NewImage", "OldImage"):
        record["dynamodb"][image]["order_id"] = {"S": order_id}
        record["dynamodb"][image]["customer_id"] = {"S": CUSTOMER}
    return record


@pytest.fixture(scope="module")
def stream(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    import json

    from lifecycle.features.importer import import_campaigns, import_customers
    from tests.builders import campaign_doc, email_content

    sim_clock.set(T0)
    campaigns = [
        campaign_doc(
            "restock",
            occasion={"type": "replenishment", "days_after_purchase": 30, "skus": ["COFFEE-1KG"]},
            content=email_content("Restock {{ product.name }}", "{{ order.order_id }}"),
        ),
        campaign_doc(
            "nps",
            occasion={"type": "post_purchase_survey", "delay_days": 3, "kind": "nps"},
            content=email_content("How did we do?", "{{ survey_url }}"),
        ),
    ]
    assert not import_campaigns(json.dumps(campaigns), "campaigns.json", T0).rejected
    customer = {
        "customer_id": CUSTOMER,
        "email": "os-1@example.com",
        "timezone": "Europe/Berlin",
        "consent": {"email": True},
    }
    assert not import_customers([json.dumps(customer)], "customers.jsonl", T0).rejected
    return handler("OrdersStreamFunction")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_orders_stream_case(case: Case, stream: Any, sim_clock: Any) -> None:
    from lifecycle.store import ledger

    number = CASES.index(case) + 1
    bad_order, good_order = f"o-{case.id}-x", f"o-{case.id}-a"
    bad = _record(bad_order, f"{number:012d}000000000001")
    good = _record(good_order, f"{number:012d}000000000002")
    case.input(bad)
    sim_clock.set(datetime(2027, 3, 3, 15, 1, tzinfo=UTC))

    result = stream({"Records": [bad, good]})

    failed = [failure["itemIdentifier"] for failure in result["batchItemFailures"]]
    survey = ledger.get(f"nps#{CUSTOMER}#{bad_order}#email")
    assert ledger.get(f"nps#{CUSTOMER}#{good_order}#email") is not None, "good record lost"
    expect = case.expect
    if isinstance(expect, BatchFailure):
        assert failed == [bad["dynamodb"]["SequenceNumber"]], result
        assert survey is None and ledger.get(f"restock#{CUSTOMER}#{bad_order}#email") is None
    elif isinstance(expect, Ignored):
        assert failed == [], result
        assert survey is None and ledger.get(f"restock#{CUSTOMER}#{bad_order}#email") is None
    else:
        assert isinstance(expect, Accepted)
        assert failed == [], result
        assert survey is not None and survey.deliver_at == expect.values["nps"]
