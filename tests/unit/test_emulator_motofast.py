"""The runner's moto fast paths answer exactly as moto does (emulator/motofast.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator.motofast import fast_moto

ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": f"c-{n % 7}"},
        "sk": {"N": str(100 - n)},
        "bucket": {"S": f"b{n % 3}"},
        "due": {"N": str((n * 37) % 11)},
        "text": {"S": "héllo\u2028" + "x" * n},
        "flag": {"BOOL": n % 2 == 0},
        "none": {"NULL": True},
        "tags": {"SS": ["a", "b", f"t{n}"]},
        "scores": {"NS": ["1.5", "2.5", str(n + 10)]},
        "blob": {"B": b"\x00\x01" + bytes([n])},
        "blobs": {"BS": [b"\x02", bytes([n + 3])]},
        "nested": {
            "M": {
                "list": {"L": [{"S": "x"}, {"N": "-1e3"}, {"M": {"deep": {"BOOL": False}}}]},
                "empty": {"M": {}},
                "empty_list": {"L": []},
            }
        },
    }
    for n in range(40)
]


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.Session(region_name="us-east-1").client("dynamodb")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in (("pk", "S"), ("sk", "N"), ("bucket", "S"), ("due", "N"))
            ],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "due",
                    "KeySchema": [
                        {"AttributeName": "bucket", "KeyType": "HASH"},
                        {"AttributeName": "due", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "by_bucket",
                    "KeySchema": [{"AttributeName": "bucket", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        )
        for item in ITEMS:
            client.put_item(TableName="t", Item=item)
        yield client


def _answers(client: Any) -> list[Any]:
    # The update comes first and sets what it set before: both passes read the same table.
    calls: list[tuple[str, dict[str, Any]]] = [
        (
            "update_item",
            {
                "Key": {"pk": {"S": "c-1"}, "sk": {"N": "99"}},
                "UpdateExpression": "SET cnt = :one + :one, lst = list_append(:e, :l), "
                "#t2 = if_not_exists(#t2, :one) REMOVE #nn ADD tags :t DELETE scores :s",
                "ExpressionAttributeNames": {"#nn": "none", "#t2": "text2"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":e": {"L": []},
                    ":l": {"L": [{"S": "a"}, {"N": "2"}]},
                    ":t": {"SS": ["z"]},
                    ":s": {"NS": ["1.5"]},
                },
                "ReturnValues": "ALL_NEW",
            },
        ),
        (
            "update_item",
            {
                "Key": {"pk": {"S": "c-0"}, "sk": {"N": "100"}},
                "UpdateExpression": "SET #n.extra = :v",
                "ExpressionAttributeNames": {"#n": "nested"},
                "ExpressionAttributeValues": {":v": {"L": [{"NULL": True}]}},
                "ReturnValues": "ALL_NEW",
            },
        ),
        ("get_item", {"Key": {"pk": {"S": "c-3"}, "sk": {"N": "97"}}}),
        (
            "get_item",
            {
                "Key": {"pk": {"S": "c-3"}, "sk": {"N": "97"}},
                "ProjectionExpression": "#n.#l, tags, sk, absent, #b",
                "ExpressionAttributeNames": {"#n": "nested", "#l": "list", "#b": "blob"},
            },
        ),
        (
            "scan",
            {"ProjectionExpression": "pk, scores, nested.empty, nested, due", "Limit": 7},
        ),
        (
            "query",
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "c-1"}},
            },
        ),
        (
            "query",
            {
                "IndexName": "due",
                "KeyConditionExpression": "bucket = :b AND due < :d",
                "ExpressionAttributeValues": {":b": {"S": "b1"}, ":d": {"N": "8"}},
                "ScanIndexForward": False,
            },
        ),
        (
            "query",
            {
                "IndexName": "by_bucket",
                "KeyConditionExpression": "bucket = :b",
                "ExpressionAttributeValues": {":b": {"S": "b2"}},
                "Limit": 5,
            },
        ),
        ("scan", {"Limit": 9}),
        (
            "scan",
            {"FilterExpression": "flag = :t", "ExpressionAttributeValues": {":t": {"BOOL": True}}},
        ),
    ]
    answers = []
    for operation, params in calls:
        answer = getattr(client, operation)(TableName="t", **params)
        answer.pop("ResponseMetadata")
        answers.append(answer)
    # Every page of a paginated index query, in order.
    pages = client.get_paginator("query").paginate(
        TableName="t",
        IndexName="due",
        KeyConditionExpression="bucket = :b",
        ExpressionAttributeValues={":b": {"S": "b0"}},
        PaginationConfig={"PageSize": 4},
    )
    answers.append([page["Items"] for page in pages])
    return answers


def test_given_items_of_every_type_when_read_with_fast_paths_then_answers_are_moto_s(dynamodb):
    # Given moto's own answers
    plain = _answers(dynamodb)
    # When the same calls run with the fast paths (and with them installed twice, as when a
    # test's deployment runs a simulation)
    with fast_moto():
        fast = _answers(dynamodb)
        with fast_moto():
            nested = _answers(dynamodb)
    # Then every answer, its items and their order are the same
    assert fast == plain
    assert nested == plain
    assert plain[6]["Items"], "the index query found something"


def test_given_fast_paths_when_block_ends_then_moto_is_as_published():
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.table import Table

    before = (BaseJSONSerializer._serialize_type_structure, Table.all_items, Table.query)
    with fast_moto():
        assert Table.query is not before[2]
    assert (BaseJSONSerializer._serialize_type_structure, Table.all_items, Table.query) == before


def test_given_plain_moto_asked_when_fast_paths_enter_then_nothing_is_replaced(monkeypatch):
    from moto.dynamodb.models.table import Table

    monkeypatch.setenv("LCM_PLAIN_MOTO", "1")
    before = Table.query
    with fast_moto():
        assert Table.query is before
