"""DynamoDB write units of one write, from the item before and after it (moto reports none).

moto's ``ConsumedCapacity`` is a constant, so tests compute what DynamoDB would bill from the
two images and the table's global secondary indexes, by DynamoDB's published rules:

* the table: the larger of the two images, rounded up to 1 KB (at least 1 unit);
* each index: nothing when the item is in it neither before nor after, or when no key and
  no projected attribute changed; a put (item enters), a delete (leaves), an update (a
  projected attribute changed) or a delete plus a put (an index key changed), each the
  projected entry's size rounded up to 1 KB.

Item size: attribute names plus values (strings and binaries by length, numbers about one
byte per two digits plus one, booleans and nulls one byte, lists and maps three bytes plus
one a member plus the members).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Item = dict[str, dict[str, Any]]  # DynamoDB JSON (boto3 client shapes)


def value_size(value: dict[str, Any]) -> int:
    (kind, content), *_ = value.items()
    if kind in ("S", "B"):
        return len(content.encode() if isinstance(content, str) else content)
    if kind == "N":
        return len(content.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: member}) for member in content)
    if kind == "L":
        return 3 + sum(1 + value_size(member) for member in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # the index's hash and range key
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...] = ()

    def entry(self, item: Item, table_keys: tuple[str, ...]) -> Item:
        if self.projection == "ALL":
            return dict(item)
        names = set(self.keys) | set(table_keys) | set(self.include)
        return {k: v for k, v in item.items() if k in names}


def indexes_of(description: dict[str, Any], projection: str | None = None) -> list[Index]:
    """The table's global secondary indexes (``projection`` replaces each one's, e.g. ALL)."""
    result = []
    for gsi in description.get("GlobalSecondaryIndexes", []):
        declared = gsi["Projection"]
        result.append(
            Index(
                gsi["IndexName"],
                tuple(k["AttributeName"] for k in gsi["KeySchema"]),
                projection or declared["ProjectionType"],
                () if projection else tuple(declared.get("NonKeyAttributes", ())),
            )
        )
    return result


@dataclass(frozen=True)
class WriteUnits:
    table: int
    indexes: dict[str, int]

    @property
    def total(self) -> int:
        return self.table + sum(self.indexes.values())


def write_units(
    before: Item | None, after: Item | None, table_keys: tuple[str, ...], indexes: list[Index]
) -> WriteUnits:
    """What one PutItem/UpdateItem/DeleteItem turning ``before`` into ``after`` costs."""
    old, new = before or {}, after or {}
    table = _units(max(item_size(old), item_size(new)))
    per_index: dict[str, int] = {}
    for index in indexes:
        was = all(k in old for k in index.keys)
        now = all(k in new for k in index.keys)
        old_entry, new_entry = index.entry(old, table_keys), index.entry(new, table_keys)
        units = 0
        if was and now:
            if any(old[k] != new[k] for k in index.keys):
                units = _units(item_size(old_entry)) + _units(item_size(new_entry))
            elif old_entry != new_entry:
                units = _units(item_size(new_entry))
        elif was:
            units = _units(item_size(old_entry))
        elif now:
            units = _units(item_size(new_entry))
        per_index[index.name] = units
    return WriteUnits(table, per_index)
