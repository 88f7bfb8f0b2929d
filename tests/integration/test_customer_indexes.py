"""Customer indexes project keys only: writes that move no index key write no index, and the
planner's readers still get whole customers, in index order, with as many item reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lifecycle.core.aws import client
from lifecycle.rules.records import parse_customer
from lifecycle.store import customers as customers_store
from lifecycle.store.customers import (
    INDEX_READERS,
    get_customer,
    read_index,
    record_activity,
    record_unsubscribe,
    store_nps_group,
    store_rfm,
    upsert_customer,
)
from tests.builders import customer_doc
from tests.write_units import WriteUnits, indexes_of, write_units

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
# The planner's indexes; the table may hold others (the console's by-email, keys only too).
CUSTOMER_INDEXES = ("by-birthday", "by-country", "by-last-active")


def _doc(customer_id: str, **overrides: Any) -> dict[str, Any]:
    """A realistic customer: every index key set, names, phone and a few attributes."""
    return customer_doc(
        customer_id,
        first_name="Ana",
        last_name="Lopez",
        phone="+4915112345678",
        locale="es-ES",
        timezone="Europe/Madrid",
        country="ES",
        birthday="1990-03-14",
        consent={"email": True, "sms": False},
        created_at="2024-05-01T10:00:00Z",
        last_active_at="2027-02-01T08:00:00Z",
        attributes={"tier": "gold", "store": "madrid-centro", "newsletter": True},
        **overrides,
    )


@pytest.fixture
def measure(aws: Any) -> Callable[[str, Callable[[], object]], tuple[WriteUnits, WriteUnits]]:
    """``measure(customer_id, write)``: the write's units with the template's projections
    and with the planner's three indexes projecting ALL (as before)."""
    dynamodb = client("dynamodb")
    table = aws.physical["CustomersTable"]
    description = dynamodb.describe_table(TableName=table)["Table"]
    assert set(CUSTOMER_INDEXES) <= {i.name for i in indexes_of(description)}
    now = indexes_of(description)
    was = [replace(i, projection="ALL") if i.name in CUSTOMER_INDEXES else i for i in now]

    def run(customer_id: str, write: Callable[[], object]) -> tuple[WriteUnits, WriteUnits]:
        key = {"customer_id": {"S": customer_id}}
        before = dynamodb.get_item(TableName=table, Key=key).get("Item")
        write()
        after = dynamodb.get_item(TableName=table, Key=key).get("Item")
        keys = ("customer_id",)
        return write_units(before, after, keys, now), write_units(before, after, keys, was)

    return run


def test_given_template_then_customer_indexes_project_keys_only(aws):
    description = client("dynamodb").describe_table(TableName=aws.physical["CustomersTable"])
    projections = {
        gsi["IndexName"]: gsi["Projection"]["ProjectionType"]
        for gsi in description["Table"]["GlobalSecondaryIndexes"]
    }
    assert {name: projections[name] for name in CUSTOMER_INDEXES} == dict.fromkeys(
        CUSTOMER_INDEXES, "KEYS_ONLY"
    )
    assert set(projections.values()) == {"KEYS_ONLY"}  # no customer index copies the item


def test_given_a_customer_when_written_without_moving_an_index_key_then_no_index_write(measure):
    record = parse_customer(_doc("c-1"), T0)
    # A new customer enters each of the three indexes once (a few bytes each)
    created, created_all = measure("c-1", lambda: upsert_customer(record, T0))
    assert all(created.indexes[name] == 1 for name in CUSTOMER_INDEXES)
    assert created.total <= created_all.total
    # Writes that move no index key: scores, NPS group, unsubscribe, the same file again
    writes: dict[str, Callable[[], object]] = {
        "rfm": lambda: store_rfm("c-1", {"segment": "champions", "score": "555"}),
        "nps": lambda: store_nps_group("c-1", "promoter"),
        "unsubscribe": lambda: record_unsubscribe("c-1", "email", T0),
        "reimport": lambda: upsert_customer(record, T0 + timedelta(days=1)),
    }
    for name, write in writes.items():
        units, units_all = measure("c-1", write)
        # Then only the table is written (1 unit for an item under 1 KB); before, the three
        # ALL indexes rewrote their copy too
        assert units == WriteUnits(1, dict.fromkeys(units.indexes, 0)), name
        assert all(units_all.indexes[i] == 1 for i in CUSTOMER_INDEXES), name


def test_given_new_activity_when_recorded_then_only_the_moved_key_is_written(measure):
    upsert_customer(parse_customer(_doc("c-1"), T0), T0)
    # When a usage event moves the last-active day
    units, units_all = measure("c-1", lambda: record_activity("c-1", T0 + timedelta(days=3)))
    # Then by-last-active deletes and puts a key-only entry; the other indexes are untouched
    assert units == WriteUnits(1, {**dict.fromkeys(units.indexes, 0), "by-last-active": 2})
    assert units_all.total == 1 + 1 + 1 + 2  # before: every ALL index rewrote the item


def _customers(ids: list[str], **overrides: Any) -> None:
    for customer_id in ids:
        upsert_customer(parse_customer(_doc(customer_id, **overrides), T0), T0)


def test_given_more_than_a_batch_under_one_key_when_read_then_whole_customers_in_order(
    aws, monkeypatch
):
    # Given 7 customers with the same birthday and BatchGetItem pages of 3 keys (100 in AWS)
    monkeypatch.setattr(customers_store, "BATCH_GET_KEYS", 3)
    ids = [f"c-{n:03d}" for n in range(7)]
    _customers(list(reversed(ids)))
    # When the planner reads the birthday index key
    customers = read_index("by-birthday", "03-14")
    # Then every customer comes whole (as get_customer gives it), in ascending id order
    assert [c["customer_id"] for c in customers] == ids
    assert customers == [get_customer(i) for i in ids]


@pytest.mark.parametrize("index", sorted(INDEX_READERS))
def test_given_an_unknown_key_when_read_then_nothing(aws, index):
    _customers(["c-1"])
    key = "nobody|01-01|on|2027-01-01" if index == "by-anniversary" else "no-such-key"
    assert read_index(index, key) == []


def test_given_each_customer_index_when_read_then_the_same_customers_as_a_get(aws):
    _customers(["c-2", "c-1"])
    shard = get_customer("c-1")
    assert shard is not None
    expected = [get_customer("c-1"), get_customer("c-2")]
    assert read_index("by-last-active", "2027-02-01") == expected  # Madrid's local day
    from lifecycle.store.customers import country_shard_key

    for customer_id in ("c-1", "c-2"):
        got = read_index("by-country", country_shard_key(customer_id, "ES", 16))
        assert get_customer(customer_id) in got


def test_given_an_unknown_index_when_read_then_value_error(aws):
    with pytest.raises(ValueError, match="no customer index"):
        read_index("by-email", "x")
