"""The fast paths of moto's tables: key order kept between calls, Query and Scan without
whole-table work, read copies, projections, item sizes, and transactions undone from copies
of the items they name.

Part of :mod:`emulator.motofast` (its docstring says why each exists).
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable
from typing import Any


def _order(item: Any) -> Any:
    if item.range_key:
        return (item.hash_key.cast_value, item.range_key.cast_value)
    return item.hash_key.cast_value


def _bump(table: Any) -> None:
    """The table's items were added, replaced or deleted: its kept order is stale."""
    table.__dict__["_lcm_version"] = table.__dict__.get("_lcm_version", 0) + 1


def _versioned(generic: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return generic(self, *args, **kwargs)
        finally:
            _bump(self)

    return method


def _sorted_items(table: Any) -> tuple[list[Any], list[Any]]:
    """The table's items in key order and their keys, kept until an item is added, replaced
    or deleted (``Table.put_item``/``delete_item``; an update changes items in place and
    never their keys)."""
    version = table.__dict__.get("_lcm_version", 0)
    kept = table.__dict__.get("_lcm_sorted")
    if kept is not None and kept[0] == version:
        return kept[1], kept[2]
    items = sorted(_unsorted_items(table), key=_order)
    keys = [_order(item) for item in items]
    table.__dict__["_lcm_sorted"] = (version, items, keys)
    return items, keys


def _fast_all_items(table: Any) -> list[Any]:
    return list(_sorted_items(table)[0])


_SCAN = threading.local()  # .sizes: item sizes measured during the current Scan call


def _fast_scan(generic: Callable[..., Any]) -> Callable[..., Any]:
    def scan(
        self: Any, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any
    ) -> Any:
        # moto measures each item twice per Scan (the page's 1 MB limit, then the page's
        # size): the sizes are kept for the call (:func:`_scan_item_size`).
        outer = getattr(_SCAN, "sizes", None)
        _SCAN.sizes = {}
        try:
            return _scan_after(generic, self, filters, limit, exclusive_start_key, args, kwargs)
        finally:
            _SCAN.sizes = outer

    return scan


def _scan_after(
    generic: Callable[..., Any],
    table: Any,
    filters: Any,
    limit: Any,
    exclusive_start_key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    index_name = args[1] if len(args) > 1 else kwargs.get("index_name")
    if index_name or not exclusive_start_key or "all_items" in table.__dict__:
        return generic(table, filters, limit, exclusive_start_key, *args, **kwargs)
    from moto.dynamodb.models.dynamo_type import DynamoType

    # moto skips the pages already read by comparing every item before the start key
    # with it; the items after it are found by bisection in the kept order instead.
    try:
        start = DynamoType(exclusive_start_key[table.hash_key_attr]).cast_value
        if table.range_key_attr:
            start = (start, DynamoType(exclusive_start_key[table.range_key_attr]).cast_value)
    except (KeyError, TypeError, IndexError):
        return generic(table, filters, limit, exclusive_start_key, *args, **kwargs)
    with _QUERY_LOCK:
        items, keys = _sorted_items(table)
        after = items[bisect.bisect_right(keys, start) :]
        table.all_items = lambda: after
        try:
            return generic(table, filters, limit, None, *args, **kwargs)
        finally:
            del table.all_items


def _scan_item_size(generic: Callable[..., Any]) -> Callable[..., Any]:
    """``Item.size``, kept per item for the length of one Scan call (items do not change
    while moto builds a page)."""

    def size(self: Any) -> int:
        sizes = getattr(_SCAN, "sizes", None)
        if sizes is None:
            return int(generic(self))
        kept = sizes.get(id(self))
        if kept is None:  # the item is kept too: its id cannot be reused during the call
            kept = sizes[id(self)] = (self, int(generic(self)))
        return kept[1]

    return size


def _unsorted_items(table: Any) -> list[Any]:
    items: list[Any] = []
    for hash_set in table.items.values():
        if table.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    return items


def _items_under(table: Any, hash_key: Any) -> list[Any]:
    """The table's items with this hash key (a table Query's only candidates)."""
    found = table.items.get(hash_key)
    if found is None:
        return []
    return list(found.values()) if table.range_key_attr else [found]


def _index_candidates(table: Any, conditions: list[tuple[str, Any]]) -> list[Any]:
    """The table's items that can meet an index Query's hash key conditions: a string key
    is compared as moto compares it (same type, same text), other types are left to moto."""
    items = _unsorted_items(table)
    for name, expected in conditions:
        if expected.type == "S":
            wanted = expected.value
            items = [
                item
                for item in items
                if (value := item.attrs.get(name)) is not None
                and value.type == "S"
                and value.value == wanted
            ]
    return items


_QUERY_LOCK = threading.RLock()


_KNOWN_QUERY_KEYWORDS = frozenset({"hash_key_conditions", "range_key_conditions", "index_name"})


def _in_range(
    table: Any, index_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Callable[[list[Any]], list[Any]]:
    """For an index Query with a range key condition: keep only the candidates meeting it,
    tested as moto tests them, when that cannot change the answer. moto measures every
    candidate (for the 1 MB page) and counts the page's length before testing its range key,
    so a candidate that fails it can end a page early only when the matches and one item
    more could pass 1 MB, or when there are ``Limit`` matches or more: then every candidate
    stays. (moto's loop measured and sorted the whole index partition on every Query.)"""
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    range_comparison = args[0] if args else None
    range_objs = args[1] if len(args) > 1 else []
    limit = args[2] if len(args) > 2 else None
    conditions = kwargs.get("range_key_conditions") or []
    if not range_comparison or len(conditions) > 1 or set(kwargs) - _KNOWN_QUERY_KEYWORDS:
        return lambda candidates: candidates
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    ranges = [
        k["AttributeName"] for k in (index.schema if index else []) if k["KeyType"] == "RANGE"
    ]
    if not ranges:
        return lambda candidates: candidates
    name = conditions[-1][0] if conditions else ranges[0]

    def keep(candidates: list[Any]) -> list[Any]:
        matched = [
            item
            for item in candidates
            if (value := item.attrs.get(name)) and value.compare(range_comparison, range_objs)
        ]
        if limit is not None and len(matched) >= limit:
            return candidates
        if sum(item.size() for item in matched) + 405000 > RESULT_SIZE_LIMIT:
            return candidates
        return matched

    return keep


def _fast_query(generic: Callable[..., Any]) -> Callable[..., Any]:
    def _query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # The candidates are set on the shared table object: one query at a time (the
        # dispatcher queries shards from a pool of threads); re-entrant for nested queries.
        with _QUERY_LOCK:
            if "all_items" in self.__dict__:
                return generic(self, hash_key, *args, **kwargs)  # fast already (nested)
            index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
            if index_name:
                # The index query re-sorts its matches on a total order: the table's order is
                # moot, and only items meeting its hash key conditions can match.
                conditions = kwargs.get("hash_key_conditions") or []
                candidates = _in_range(self, index_name, args, kwargs)(
                    _index_candidates(self, conditions)
                )
            elif hash_key is not None:
                # A table query keeps the items of its hash key and sorts them on the range key.
                candidates = _items_under(self, hash_key)
            else:
                return generic(self, hash_key, *args, **kwargs)
            self.all_items = lambda: candidates
            try:
                return generic(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items

    return _query


class _ReadCopies:
    """Stands in for the ``copy`` module in moto's table module: a Query's or a Scan's matches
    are not deep-copied (moto copies each one before projecting it); the answer is built
    from them at once and nothing changes them (projections make new items, serialization
    makes new values). Any other copy (backups, restores) is a real one."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.dynamo_type import Item

        if type(value) is Item:
            return value
        if type(value) is list and all(type(element) is Item for element in value):
            return list(value)
        return copy.deepcopy(value, memo)


def _top_names(path: list[str], attrs: dict[str, Any]) -> list[str]:
    """The item's attributes that moto's ``find_nested_key`` may read for ``path``."""
    first = path[0]
    return [name for name in attrs if name == first or first.startswith(name + "[")]


def _fast_project(item: Any, projection_expressions: list[list[str]]) -> Any:
    from botocore.utils import merge_dicts
    from moto.dynamodb.models.dynamo_type import Item, deserializer, serializer
    from moto.dynamodb.models.utilities import find_nested_key

    if all(len(expr) == 1 and "[" not in expr[0] for expr in projection_expressions):
        return _project_top_level(item, [expr[0] for expr in projection_expressions])
    result: dict[str, Any] = {}
    for expr in projection_expressions:
        regular = {
            name: deserializer.deserialize(item.attrs[name].to_regular_json())
            for name in _top_names(expr, item.attrs)
        }
        merge_dicts(result, find_nested_key(expr, regular))
    return Item(
        hash_key=item.hash_key,
        range_key=item.range_key,
        attrs=serializer.serialize(result)["M"],
    )


def _project_top_level(item: Any, names: list[str]) -> Any:
    """``Item.project`` for whole top-level attributes. moto converts each one to a Python
    value and back; a value that conversion cannot change (strings, booleans, nulls, and
    maps and lists of them) is shared with the stored item instead (the projection is only
    read, to be serialized), any other goes through the same conversion."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, deserializer, serializer

    projected = Item(hash_key=item.hash_key, range_key=item.range_key, attrs={})
    for name in names:
        value = item.attrs.get(name)
        if value is None:
            continue
        if not _round_trips(value):
            value = DynamoType(
                serializer.serialize(deserializer.deserialize(value.to_regular_json()))
            )
        dict.__setitem__(projected.attrs, name, value)
    return projected


def _round_trips(value: Any) -> bool:
    """Whether moto's conversion to a Python value and back gives ``value`` unchanged."""
    kind, inner = value.type, value.value
    if kind == "S":
        return type(inner) is str
    if kind == "BOOL":
        return type(inner) is bool
    if kind == "NULL":
        return inner is True
    if kind == "M":
        return type(inner) is dict and all(_round_trips(member) for member in inner.values())
    if kind == "L":
        return type(inner) is list and all(_round_trips(member) for member in inner)
    return False


def _transaction_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
    """(table, hash key, range key) of every item a transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for entry in transact_items:
        ((_, op),) = entry.items()
        table = backend.tables[op["TableName"]]
        key = op["Item"] if "Item" in op else op["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        keys.append((table, hash_key, range_key))
    return keys


def _fast_transact(generic: Callable[..., Any]) -> Callable[..., Any]:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        from moto.dynamodb.models.table import Table

        try:
            keys = _transaction_keys(self, transact_items)
        except Exception:  # malformed: moto's own path raises its error
            return generic(self, transact_items)
        # moto backs up every table the transaction names by deep copy (the whole table, per
        # call) and puts the copies back when it fails; only the named items can change, so
        # they are what is kept, with each stream's length.
        saved = [
            (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
            for table, hash_key, range_key in keys
        ]
        streams = {
            id(table): (table.stream_shard, len(table.stream_shard.items))
            for table, _, _, _ in saved
            if table.stream_shard is not None
        }
        setattr(Table, "__deepcopy__", lambda table, memo: table)  # noqa: B010 (moto's backup: the table itself)
        try:
            return generic(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(saved):
                if range_key is not None:
                    if item is None:
                        table.items.get(hash_key, {}).pop(range_key, None)
                    else:
                        table.items[hash_key][range_key] = item
                elif item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            for shard, length in streams.values():
                del shard.items[length:]
            for table, _, _, _ in saved:
                _bump(table)
            raise
        finally:
            delattr(Table, "__deepcopy__")

    return transact_write_items


def _bytesize(value: Any) -> int:
    return len(value if isinstance(value, bytes) else value.encode("utf-8"))


def _part_size(part: Any) -> int:
    """A key's or value's size as ``LimitedSizeDict`` counts it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return _fast_size(part) if type(part) is DynamoType else _bytesize(str(part))


def _fast_size(value: Any) -> int:
    """``DynamoType.size`` without its method calls and temporary ``DynamoType``s."""
    kind, inner = value.type, value.value
    if kind == "N":
        return len(str(inner))
    if kind in ("SS", "NS", "BS"):
        if kind == "NS":
            return sum(len(str(element)) for element in inner)
        return sum(1 if isinstance(element, bool) else _bytesize(element) for element in inner)
    if kind == "L":
        return sum(_fast_size(element) for element in inner)
    if kind == "M":
        return sum(_bytesize(key) + _fast_size(element) for key, element in inner.items())
    if isinstance(inner, bool):
        return 1
    return _bytesize(inner)
