"""The runner's cost meter: DynamoDB units from item sizes and the table's indexes, SQS and
EventBridge counts, Lambda time, and the price table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import prices
from emulator.boundary import AwsBoundary
from emulator.cost import CostMeter, IndexShape, TableShape, item_size, read_units, write_units
from emulator.queues import SimulatedQueues

LEDGER = TableShape(
    keys=("id",),
    indexes=(
        IndexShape("due", ("shard", "at"), "KEYS_ONLY"),
        IndexShape("by-customer", ("customer", "at"), "ALL"),
        IndexShape("by-campaign", ("campaign", "at"), "INCLUDE", ("status",)),
    ),
)


def item(**attributes: str) -> dict[str, Any]:
    return {name: {"S": value} for name, value in attributes.items()}


def test_given_attributes_when_sized_then_names_and_values_count_as_documented() -> None:
    # Given a string, a number, a boolean, a list and a map
    # When sized, Then: names + UTF-8 bytes; numbers 1 byte per 2 digits + 1; lists and
    # maps 3 bytes + 1 per element
    assert item_size({"ab": {"S": "xyz"}}) == 5
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"b": {"BOOL": True}}) == 2
    assert item_size({"l": {"L": [{"S": "a"}, {"S": "bc"}]}}) == 1 + 3 + 2 + 3
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"s": {"S": "ü"}}) == 3


def test_given_sizes_when_priced_in_units_then_writes_round_per_kb_and_reads_per_4kb() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert read_units(10, consistent=True) == 1.0
    assert read_units(10, consistent=False) == 0.5
    assert read_units(4097, consistent=False) == 1.0


def test_given_a_new_item_when_written_then_every_index_holding_it_costs_a_put() -> None:
    new = item(id="1", shard="0", at="t", customer="c", campaign="k", status="queued")
    assert LEDGER.index_writes(None, new) == {"due": 1, "by-customer": 1, "by-campaign": 1}


def test_given_an_update_when_no_projected_attribute_changes_then_no_index_is_written() -> None:
    old = item(id="1", at="t", campaign="k", status="queued")
    new = item(id="1", at="t", campaign="k", status="queued")
    assert LEDGER.index_writes(old, new) == {}


def test_given_an_update_when_a_projected_attribute_changes_then_that_index_is_rewritten() -> None:
    old = item(id="1", at="t", customer="c", campaign="k", status="queued")
    new = item(id="1", at="t", customer="c", campaign="k", status="sending")
    assert LEDGER.index_writes(old, new) == {"by-customer": 1, "by-campaign": 1}


def test_given_a_sparse_key_when_removed_then_the_index_entry_is_deleted() -> None:
    old = item(id="1", shard="0", at="t")
    new = item(id="1", at="t")
    assert LEDGER.index_writes(old, new) == {"due": 1}


def test_given_an_index_key_when_it_changes_then_the_entry_moves_for_two_writes() -> None:
    old = item(id="1", at="t", customer="c")
    new = item(id="1", at="u", customer="c")
    assert LEDGER.index_writes(old, new) == {"by-customer": 2}


@pytest.fixture
def boundary() -> Iterator[tuple[AwsBoundary, Any]]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="Ledger",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "shard", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "due",
                    "KeySchema": [
                        {"AttributeName": "shard", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
        clock = lambda: datetime(2027, 1, 1, tzinfo=UTC)  # noqa: E731
        hook = AwsBoundary(SimulatedQueues(clock), cost=CostMeter({"Fn": 2048}))
        hook.install()
        hook.chaos_on = True
        try:
            yield hook, client
        finally:
            hook.uninstall()


def test_given_a_handler_when_it_writes_then_table_and_index_units_are_counted(
    boundary: tuple[AwsBoundary, Any],
) -> None:
    hook, client = boundary
    # Given a handler that puts an item into the sparse index, then takes it out again
    with hook.handler("Fn"):
        answer = client.put_item(TableName="Ledger", Item=item(id="1", shard="0", at="t"))
        client.update_item(
            TableName="Ledger",
            Key=item(id="1"),
            UpdateExpression="REMOVE #s",
            ExpressionAttributeNames={"#s": "shard"},
        )
        client.get_item(TableName="Ledger", Key=item(id="1"), ConsistentRead=True)
    usage = hook.cost.run["Fn"]
    # Then: two table writes, one index put and one index delete, one strong read
    assert dict(usage.write_units) == {"Ledger": 2, "Ledger/due": 2}
    assert dict(usage.read_units) == {"Ledger": 1.0}
    assert usage.invocations == 1
    # and the product never sees consumed capacity it did not ask for
    assert "ConsumedCapacity" not in answer


def test_given_a_failed_condition_when_writing_then_the_table_write_is_still_counted(
    boundary: tuple[AwsBoundary, Any],
) -> None:
    hook, client = boundary
    client.put_item(TableName="Ledger", Item=item(id="1", shard="0", at="t"))  # not a handler
    with hook.handler("Fn"), pytest.raises(ClientError):
        client.put_item(
            TableName="Ledger",
            Item=item(id="1", shard="0", at="t"),
            ConditionExpression="attribute_not_exists(id)",
        )
    assert dict(hook.cost.run["Fn"].write_units) == {"Ledger": 1}


def test_given_a_query_when_the_caller_asks_for_capacity_then_it_still_gets_it(
    boundary: tuple[AwsBoundary, Any],
) -> None:
    hook, client = boundary
    client.put_item(TableName="Ledger", Item=item(id="1", shard="0", at="t"))
    with hook.handler("Fn"):
        answer = client.query(
            TableName="Ledger",
            IndexName="due",
            KeyConditionExpression="shard = :s",
            ExpressionAttributeValues={":s": {"S": "0"}},
            ReturnConsumedCapacity="TOTAL",
        )
    assert "ConsumedCapacity" in answer
    assert dict(hook.cost.run["Fn"].read_units) == {"Ledger/due": 0.5}


def test_given_calls_before_the_clock_runs_when_reported_then_they_are_setup_only(
    boundary: tuple[AwsBoundary, Any],
) -> None:
    hook, client = boundary
    hook.chaos_on = False
    with hook.handler("Importer"):
        client.put_item(TableName="Ledger", Item=item(id="9"))
    report = hook.cost.report(messages=0)
    assert report["setup"]["Importer"]["dynamodb_write_units"] == {"Ledger": 1.0}
    assert report["by_function"] == {}
    assert report["usd_per_million_emails_excluding_ses"] is None


def test_given_quantities_when_priced_then_each_service_uses_the_one_price_table() -> None:
    dollars = prices.usd(
        write_units=1e6,
        read_units=1e6,
        sqs_requests=1e6,
        events=1e6,
        gb_seconds=1.0,
        invocations=1e6,
    )
    assert dollars["dynamodb"] == pytest.approx(0.625 + 0.125)
    assert dollars["sqs"] == pytest.approx(0.40)
    assert dollars["eventbridge"] == pytest.approx(1.00)
    assert dollars["lambda"] == pytest.approx(0.0000133334 + 0.20)
    assert dollars["total"] == pytest.approx(sum(v for k, v in dollars.items() if k != "total"))
