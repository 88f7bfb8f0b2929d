"""The runner's moto fast paths answer exactly as moto does (emulator/motofast/)."""

from __future__ import annotations

import re
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
    yield from _fresh(indexes=True)


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
                "IndexName": "due",
                "KeyConditionExpression": "bucket = :b AND due BETWEEN :l AND :h",
                "ExpressionAttributeValues": {
                    ":b": {"S": "b2"},
                    ":l": {"N": "2"},
                    ":h": {"N": "9"},
                },
                "Limit": 3,
            },
        ),
        (
            "query",
            {
                "IndexName": "due",
                "KeyConditionExpression": "bucket = :b AND due >= :l",
                "ExpressionAttributeValues": {":b": {"S": "b0"}, ":l": {"N": "5"}},
                "Limit": 40,
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


def _call(client: Any, operation: str, **params: Any) -> Any:
    """One call's answer without its request metadata; an error as (its class, its parsed
    response without metadata)."""
    from botocore.exceptions import ClientError

    try:
        answer = getattr(client, operation)(**params)
    except ClientError as error:
        response = dict(error.response)
        response.pop("ResponseMetadata", None)
        return (type(error).__name__, response)
    answer.pop("ResponseMetadata")
    return answer


def _more_answers(client: Any) -> list[Any]:
    """Batch calls, transactions, the resource layer and errors, each answer without its
    request metadata (errors: their class and parsed response)."""
    import boto3

    def call(operation: str, **params: Any) -> Any:
        return _call(client, operation, **params)

    key = {"pk": {"S": "c-2"}, "sk": {"N": "98"}}
    answers = [
        call(
            "batch_get_item",
            RequestItems={"t": {"Keys": [key, {"pk": {"S": "c-9"}, "sk": {"N": "1"}}]}},
        ),
        call(
            "batch_write_item",
            RequestItems={"t": [{"PutRequest": {"Item": {**ITEMS[5], "sk": {"N": "500"}}}}]},
            ReturnConsumedCapacity="TOTAL",
        ),
        call(
            "put_item",
            TableName="t",
            Item=ITEMS[2],
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        call(
            "transact_write_items",
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**ITEMS[1], "sk": {"N": "501"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key,
                        "UpdateExpression": "SET cnt = :one",
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ],
        ),
        call("get_item", TableName="t", Key={"pk": {"S": "c-1"}, "sk": {"N": "501"}}),
        call("query", TableName="t", KeyConditionExpression="nope = :x"),
        call("get_item", TableName="missing", Key=key),
        call(
            "transact_write_items",
            TransactItems=[
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "c-5"}, "sk": {"N": "500"}}}},
                {"Put": {"TableName": "t", "Item": {**ITEMS[1], "sk": {"N": "502"}}}},
            ],
        ),
        call("scan", TableName="t", Select="COUNT"),
    ]
    # Updates of whole attributes by placeholders (PynamoDB's form): new and existing items,
    # old and new values answered, and the forms moto refuses.
    simple = "SET #a = :a, #b = :b REMOVE #c, #d"
    for update_key, names, values, returned in (
        (key, {"#a": "text", "#b": "new", "#c": "flag", "#d": "absent"}, None, "UPDATED_OLD"),
        ({"pk": {"S": "c-new"}, "sk": {"N": "1"}}, None, None, "ALL_NEW"),
        (key, {"#a": "x", "#b": "x", "#c": "y", "#d": "z"}, None, "NONE"),
        (key, {"#a": "pk", "#b": "b", "#c": "c", "#d": "d"}, None, "NONE"),
        (key, None, {":a": {"S": "1"}}, "NONE"),
        (key, {"#a": "x", "#b": "y", "#c": "c", "#d": "d"}, {":a": {"S": ""}}, "ALL_NEW"),
    ):
        answers.append(
            call(
                "update_item",
                TableName="t",
                Key=update_key,
                UpdateExpression=simple,
                ExpressionAttributeNames=names or {"#a": "a", "#b": "b", "#c": "c", "#d": "d"},
                ExpressionAttributeValues=values
                or {":a": {"SS": ["q"]}, ":b": {"M": {"n": {"N": "2"}}}},
                ReturnValues=returned,
            )
        )
    answers.append(call("get_item", TableName="t", Key=key))
    # Every page of a paginated Scan, before and after items come and go.
    for _ in ("before", "after"):
        pages = client.get_paginator("scan").paginate(
            TableName="t", PaginationConfig={"PageSize": 6}, ProjectionExpression="pk, sk"
        )
        answers.append([page["Items"] for page in pages])
        client.delete_item(TableName="t", Key={"pk": {"S": "c-4"}, "sk": {"N": "96"}})
        client.put_item(TableName="t", Item={"pk": {"S": "c-0"}, "sk": {"N": "0"}})
    table = boto3.Session(region_name="us-east-1").resource("dynamodb").Table("t")
    answer = table.get_item(Key={"pk": "c-3", "sk": 97})
    answer.pop("ResponseMetadata")
    answers.append(answer)
    return answers


def _fresh(indexes: bool = False) -> Iterator[Any]:
    """A client on a fresh mocked account with table ``t`` holding :data:`ITEMS` (with
    ``indexes``: an ALL index ``due`` on (bucket, due) and a KEYS_ONLY ``by_bucket``)."""
    import boto3
    from moto import mock_aws

    keys = [("pk", "S"), ("sk", "N")] + ([("bucket", "S"), ("due", "N")] if indexes else [])
    gsis = [
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
    ]
    with mock_aws():
        client = boto3.Session(region_name="us-east-1").client("dynamodb")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind} for name, kind in keys
            ],
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": gsis} if indexes else {}),
        )
        for item in ITEMS:
            client.put_item(TableName="t", Item=item)
        yield client


def test_given_batch_transaction_and_failing_calls_when_fast_then_answers_are_moto_s():
    fresh = _fresh
    # Given moto's own answers on a fresh table
    for client in fresh():
        plain = _more_answers(client)
    # When the same calls run on a fresh table with the fast paths
    with fast_moto():
        for client in fresh():
            fast = _more_answers(client)
    # Then every answer (and every error) is the same
    assert fast == plain
    assert plain[2][0] == "ConditionalCheckFailedException"
    assert plain[3][0] == "TransactionCanceledException"


def test_given_values_of_every_type_when_sized_fast_then_moto_s_sizes():
    from moto.dynamodb.models.dynamo_type import DynamoType

    from emulator.motofast.tables import _fast_size

    values = [DynamoType(value) for item in ITEMS[:5] for value in item.values()]
    values += [DynamoType({"M": item}) for item in ITEMS[:5]]
    values += [DynamoType({"B": "AAEC"}), DynamoType({"BS": ["AAEC", b"\x01"]})]
    assert [_fast_size(value) for value in values] == [value.size() for value in values]


def _condition_answers(client: Any) -> list[Any]:
    """Conditional writes and filtered reads: the same condition text with other values (the
    fast path parses a text once and binds each call's values), every function and
    comparison, values of every type, and the errors of unused placeholders."""

    def call(operation: str, **params: Any) -> Any:
        return _call(client, operation, **params)

    answers = []
    condition = "attribute_not_exists(pk) OR (#d < :due AND begins_with(#t, :prefix))"
    for n, due, prefix in ((1, "9", "h"), (2, "1", "h"), (3, "99", "x"), (4, "99", "hé")):
        answers.append(
            call(
                "update_item",
                TableName="t",
                Key={"pk": ITEMS[n]["pk"], "sk": ITEMS[n]["sk"]},
                UpdateExpression="SET #v = :due",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#d": "due", "#t": "text", "#v": "seen"},
                ExpressionAttributeValues={":due": {"N": due}, ":prefix": {"S": prefix}},
                ReturnValues="ALL_NEW",
            )
        )
    filters = [
        ("#f = :v", {":v": {"BOOL": True}}),
        ("#f = :v", {":v": {"BOOL": False}}),
        ("#d BETWEEN :lo AND :hi", {":lo": {"N": "2"}, ":hi": {"N": "5"}}),
        ("#d BETWEEN :lo AND :hi", {":lo": {"N": "6"}, ":hi": {"N": "9"}}),
        ("#d IN (:a, :b, :c)", {":a": {"N": "1"}, ":b": {"N": "3"}, ":c": {"N": "7"}}),
        ("contains(#tags, :v)", {":v": {"S": "t5"}}),
        ("contains(#tags, :v)", {":v": {"S": "a"}}),
        ("size(#t) > :n", {":n": {"N": "30"}}),
        ("attribute_type(#f, :type)", {":type": {"S": "BOOL"}}),
        ("#n = :m", {":m": {"M": {"list": {"L": []}}}}),
        ("NOT #d <> :v", {":v": {"N": "4"}}),
        ("#d < :v", {":v": {"N": "4"}, ":unused": {"N": "1"}}),
    ]
    names = {"#f": "flag", "#d": "due", "#tags": "tags", "#t": "text", "#n": "nested"}
    for expression, values in filters:
        used = {k: v for k, v in names.items() if k in re.findall(r"#\w+", expression)}
        answers.append(
            call(
                "scan",
                TableName="t",
                FilterExpression=expression,
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=values,
            )
        )
    answers.append(
        call(
            "delete_item",
            TableName="t",
            Key={"pk": ITEMS[7]["pk"], "sk": ITEMS[7]["sk"]},
            ConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "due", "#unused": "x"},
            ExpressionAttributeValues={":d": ITEMS[7]["due"]},
        )
    )
    answers.append(call("scan", TableName="t", Select="COUNT"))
    # Projections of whole attributes of every type (some shared with the stored item, some
    # converted as moto converts them), of an absent one, and of nested paths.
    every = ["pk", "sk", "bucket", "due", "text", "flag", "none", "tags", "scores", "blob"]
    every += ["blobs", "nested", "absent"]
    placeholders = {f"#a{n}": name for n, name in enumerate(every)}
    projections = [
        (", ".join(placeholders), placeholders),
        ("#t, #f", {"#t": "text", "#f": "flag"}),
        ("#n.#el, #n.#e, #s", {"#n": "nested", "#el": "empty_list", "#e": "empty", "#s": "tags"}),
    ]
    for projection, names in projections:
        answers.append(
            call(
                "scan",
                TableName="t",
                ProjectionExpression=projection,
                ExpressionAttributeNames=names,
            )
        )
    return answers


def test_given_one_condition_text_with_other_values_when_fast_then_answers_are_moto_s():
    # Given moto's own answers on a fresh table
    for client in _fresh():
        plain = _condition_answers(client)
    # When the same calls run on a fresh table with the fast paths
    with fast_moto():
        for client in _fresh():
            fast = _condition_answers(client)
    # Then every answer and every error is the same, and the values made a difference
    assert fast == plain
    outcomes = [answer if isinstance(answer, tuple) else "ok" for answer in plain[:4]]
    assert outcomes[0] == "ok" and outcomes[1][0] == "ConditionalCheckFailedException"
    scans = plain[4:16]
    assert scans[0]["Items"] != scans[1]["Items"], "a cached text bound to the other value"
    assert scans[2]["Count"] != scans[3]["Count"]
    assert all(isinstance(scan, dict) for scan in scans), "every filter was accepted"
    assert "unused" in plain[16][1]["Error"]["Message"], "an unused name is refused"
    assert plain[18]["Items"][0]["nested"]["M"]["list"]["L"][1] == {"N": "-1E+3"}, "converted"
    assert all(set(item) == {"text", "flag"} for item in plain[19]["Items"])
