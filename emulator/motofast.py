"""Faster moto for the runner: the same answers, without moto's hot spots.

Profiling the demo showed the runner spending most of its time inside moto rather than in the
product's code. These places dominate, and each is replaced here by code that gives the same
result (the same response bytes after parsing, the same item order):

* **Response serialization.** moto 5.2 builds every DynamoDB response by walking the botocore
  output shape: each item attribute is an ``AttributeValue`` structure of ten members, and each
  member is looked up through six alias providers (about 240 dictionary probes and generator
  steps per attribute). :func:`_serialize_structure` writes an ``AttributeValue`` (and the maps
  and lists inside it) directly, with exactly the conversions the generic code applies
  (strings ``str``, blobs base64); every other shape still goes the generic way.
* **Table order.** ``Table.all_items`` sorts the whole table on every Query and Scan page,
  comparing ``DynamoType`` objects whose ``<`` converts both sides (``Decimal`` for numbers)
  on every comparison. :func:`_all_items` sorts on the converted key values, computed once
  per item: the same order, since a key attribute has one type in every item.
* **Index queries.** moto answers a Query on an index by sorting the whole table, then testing
  every item against the key condition with ``DynamoType.__eq__``. The results are sorted
  again afterwards on a total order (index keys, then the table's keys), so the first sort is
  wasted; :func:`_query` lets a Query on an index see the table's items unsorted (Scans keep
  their order), narrowed to those that can match (see "Table queries" below).

* **Projections.** ``Item.project`` (every KEYS_ONLY or INCLUDE index and every
  ``ProjectionExpression``) converts the whole item to Python values once per projected
  attribute, to pick one attribute out of it. :func:`_fast_project` converts only the
  attributes a projection path can reach (a fresh conversion per path, as moto makes), then
  builds the result exactly as moto does. A projection of whole top-level attributes (the
  usual ``ProjectionExpression``) converts only values the conversion could change (numbers,
  sets, blobs); strings, booleans, nulls and maps and lists of them are shared with the stored
  item (:func:`_project_top_level`: the projection is read once, to be serialized).

* **Update expressions.** moto walks an ``UpdateExpression``'s syntax tree several times per
  ``UpdateItem``, testing every node with ``isinstance`` against abstract base classes (slow
  on every call). :func:`_fast_traverse` and :func:`_fast_find_clauses` walk it the same way,
  remembering per node type which processor applies.

* **Update expressions, parsed and checked once.** An import's ``UpdateItem`` sets or removes
  some twenty attributes; moto parses its expression on every call (twice: the handler and
  the backend), deep-copies the syntax tree (hundreds of nodes) with the generic
  ``copy.deepcopy`` for each validation (twice for a new item), and runs three pure checks
  (clause counts, overlapping paths, key attributes untouched) whose cost grows with the
  square of the number of actions. :func:`_fast_parse` keeps each parsed tree by its text
  (moto only reads it or copies it), :func:`_clone` copies a tree node by node, and
  :func:`_fast_validator_init` skips the pure checks for a tree, names and table keys that
  already passed them. The validation that depends on the item and the values still runs.
* **Update plans.** An update expression of PynamoDB's form (``SET #a = :a, ... REMOVE #b,
  ...``: whole top-level attributes by placeholder) needs none of moto's tree work: when
  every placeholder is defined, no attribute repeats and no key attribute is named (the
  only ways its validation fails), :func:`_simple_plan` gives the executor the attributes
  to set (each value a ``DynamoType``, as moto's validation makes it) and to remove, in
  the executor's order; anything else goes moto's way, errors included.
* **Condition expressions** are lexed once per text (:func:`_fast_lex`): each call gets
  fresh tokens. moto parses a ``ConditionExpression`` twice per call (the handler checks it,
  the backend evaluates it), about a fifth of an import's time. :func:`_fast_condition_parse`
  parses a condition once per text, names and value placeholders, with a marker for each
  value (moto's parse only wraps values, it never looks into them), and binds each call's
  values into a copy of that tree (:func:`_bind`); each parser gets the names and values it
  found, as its own parse would give it.
* **Read copies.** A Query or Scan deep-copies every matching item before projecting and
  serializing it; nothing changes those items before the answer is built, so
  :class:`_ReadCopies` hands them over as they are (backups still copy).
* **Item sizes.** moto measures items (the 1 MB page of a Query or Scan, the 400 KB limit of
  every attribute set) through ``DynamoType.size``, which builds a ``DynamoType`` per map
  member and set element and asks five type methods; :func:`_fast_size` gives the same
  count directly, and a simple update checks the limit on a running total. A Scan measured
  every item twice (the page's 1 MB limit, then the page's total); each item is measured once
  per Scan call (:func:`_scan_item_size`).
* **botocore's data files.** Every botocore session reads the service model and endpoint
  rules from JSON again; PynamoDB makes a session per connection, and a ``TransactWrite``
  with a new ``Connection`` (the consent and feedback transactions) makes one per call:
  about 0.3 s of JSON parsing each. :func:`_shared_loader_cache` gives every loader with
  the same search paths one cache (botocore shares a loader's cache between its clients
  the same way).
* **Transactions.** ``TransactWriteItems`` backs up every table it names by deep copy (the
  whole table, on every call) to put it back if the transaction fails.
  :func:`_fast_transact` keeps copies of the items it names (and each stream's length)
  instead and puts those back: the same state after a failure.
* **Table queries.** A Query on a table (no index) tested every item of the table for its
  hash key; it now starts from that key's items (:func:`_items_under`). An index Query
  starts from the items whose string hash key attributes equal the condition's and, with a
  range key condition, that meet it (:func:`_in_range`, unless the page's limits could then
  end differently).
* **The direct path.** Every DynamoDB data call (:data:`DIRECT_OPERATIONS`) went through
  botocore's endpoint resolution, serialization and signing, moto's URL routing and request
  parsing, moto's response serialization and botocore's response parsing: about 40 % of a
  call's time. :func:`_direct_call` hands the request (as the JSON it would have been sent
  as) to moto's DynamoDB handler method and turns its answer into what botocore's parser
  would return (:func:`_parsed`); the client's events still run, errors are serialized by
  moto and parsed by botocore as before.

Only the runner installs these (:func:`fast_moto`, a context manager that puts moto back as it
was); the product never imports this module. ``LCM_PLAIN_MOTO=1`` in the environment runs on
moto as published, e.g. to check that a difference is not caused here.
"""

from __future__ import annotations

import base64
import bisect
import copy
import importlib
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_SCALARS = frozenset({"S", "N", "BOOL", "NULL"})


def _string(value: Any) -> Any:
    """What moto's JSON serializer writes for a string shape."""
    return str(value) if value not in [None, {}, []] else value


def _attribute_value(serializer: Any, value: Any) -> Any:
    """One ``AttributeValue`` as moto's generic serializer writes it; ``None`` when the fast
    path does not know the value's form (the caller then takes the generic path)."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if inner is None:
        return {}  # a member that is None is left out of its structure
    if kind in ("S", "N"):
        return {kind: _string(inner)}
    if kind in _SCALARS:
        return {kind: inner}
    if kind == "M" and type(inner) is dict:
        members = {}
        for key, member in inner.items():
            if member is None:
                continue
            written = _attribute_value(serializer, member)
            if written is None:
                return None
            members[key] = written
        return {"M": members}
    if kind == "L" and type(inner) is list:
        elements = []
        for element in inner:
            written = element if element is None else _attribute_value(serializer, element)
            if element is not None and written is None:
                return None
            elements.append(written)
        return {"L": elements}
    if kind in ("SS", "NS") and type(inner) is list:
        return {kind: [_string(v) for v in inner]}
    if kind == "B":
        return {"B": serializer._base64(inner)}
    if kind == "BS" and type(inner) is list:
        return {"BS": [serializer._base64(v) for v in inner]}
    return None


def _fast_structure(generic: Callable[..., None]) -> Callable[..., None]:
    def _serialize_structure(
        self: Any, serialized: dict[str, Any], value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == "AttributeValue":
            written = _attribute_value(self, value)
            if written is not None:
                serialized[shape.serialization.get("name", key)] = written
                return
        generic(self, serialized, value, shape, key)

    return _serialize_structure


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


_MODULES: dict[str, Any] = {}


def _ast() -> Any:
    """moto's update-expression syntax tree module (untyped; imported once)."""
    if "ast" not in _MODULES:
        _MODULES["ast"] = importlib.import_module("moto.dynamodb.parsing.ast_nodes")
    return _MODULES["ast"]


# -- update expressions: parsed once, copied cheaply, checked once ------------------------------

# Parsed update expressions by their text. The syntax trees are only read (find_clauses) or
# copied (each validation works on a copy) by moto, never changed in place.
_PARSED: dict[str, Any] = {}
_PARSED_IDS: set[int] = set()
# (tree, names, table keys) whose pure checks passed: the number of clauses of each kind,
# overlapping paths, no key attribute updated. They depend on nothing else.
_CHECKED: set[tuple[Any, ...]] = set()
_PURE_CHECKS = ("ActionCountValidator", "OverlappingPathsValidator", "UpdateHashRangeKeyValidator")


def _fast_parse(generic: Callable[..., Any]) -> Callable[..., Any]:
    def make(cls: Any, expression_str: str) -> Any:
        tree = _PARSED.get(expression_str)
        if tree is None:
            tree = generic(cls, expression_str)  # errors are raised, not kept
            _PARSED[expression_str] = tree
            _PARSED_IDS.add(id(tree))
            simple = _simple_form(expression_str)
            if simple is not None:
                _SIMPLE[id(tree)] = simple
        return tree

    return make


# ``SET #a = :a, #b = :b REMOVE #c, #d`` (either clause may be missing): every action names a
# top-level attribute by placeholder and sets it to a value placeholder, as PynamoDB writes
# its updates of whole attributes.
_PLACEHOLDER_SET = r"#[A-Za-z0-9_]+\s*=\s*:[A-Za-z0-9_]+"
_SIMPLE_FORM = re.compile(
    rf"\s*(?:SET\s+(?P<sets>{_PLACEHOLDER_SET}(?:\s*,\s*{_PLACEHOLDER_SET})*))?"
    r"\s*(?:REMOVE\s+(?P<removes>#[A-Za-z0-9_]+(?:\s*,\s*#[A-Za-z0-9_]+)*))?\s*",
    re.IGNORECASE,
)
# Parsed trees of the simple form: (SET (name placeholder, value placeholder)s, REMOVE names).
_SIMPLE: dict[int, tuple[list[tuple[str, str]], list[str]]] = {}


def _simple_form(expression: str) -> tuple[list[tuple[str, str]], list[str]] | None:
    found = _SIMPLE_FORM.fullmatch(expression)
    if found is None or not (found["sets"] or found["removes"]):
        return None
    sets = [
        (name.strip(), value.strip())
        for name, value in (part.split("=") for part in (found["sets"] or "").split(",") if part)
    ]
    removes = [part.strip() for part in (found["removes"] or "").split(",") if part]
    return sets, removes


class _SimplePlan:
    """The validated form of a simple update expression: what moto's validation would leave
    for its executor (each SET's value as a ``DynamoType``), in the executor's order."""

    def __init__(self, sets: list[tuple[str, Any]], removes: list[str]) -> None:
        self.sets = sets
        self.removes = removes

    def normalize(self) -> None:
        """moto sorts REMOVE actions of list indexes; top-level names need no order."""

    def execute(self, item: Any) -> None:
        from moto.dynamodb.exceptions import ItemSizeTooLarge
        from moto.dynamodb.models.dynamo_type import LimitedSizeDict

        attrs = item.attrs
        if type(attrs) is not LimitedSizeDict:
            for name, value in self.sets:
                attrs[name] = value
        else:
            # LimitedSizeDict.__setitem__ sums the whole item for every attribute set and
            # refuses one that takes it over 405,000 bytes (counting the value it replaces):
            # the same test on a running total.
            total = sum(_part_size(k) + _part_size(v) for k, v in attrs.items())
            for name, value in self.sets:
                added = _part_size(name) + _part_size(value)
                if total + added > 405000:
                    raise ItemSizeTooLarge
                if name in attrs:
                    total -= _part_size(name) + _part_size(attrs[name])
                dict.__setitem__(attrs, name, value)
                total += added
        for name in self.removes:
            attrs.pop(name, None)


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


def _simple_plan(
    tree: Any, names: dict[str, str] | None, values: dict[str, Any] | None, table: Any
) -> _SimplePlan | None:
    """The plan of a simple expression whose validation cannot fail, else None (moto's own
    validation then runs and raises what it raises)."""
    form = _SIMPLE.get(id(tree))
    if form is None:
        return None
    from moto.dynamodb.models.dynamo_type import DynamoType

    sets, removes = form
    names, values = names or {}, values or {}
    placeholders = [name for name, _ in sets] + removes
    if any(p not in names for p in placeholders) or any(v not in values for _, v in sets):
        return None  # undefined placeholders: moto's error
    targets = [names[p] for p in placeholders]
    if len(set(targets)) != len(targets) or set(targets) & set(table.table_key_attrs):
        return None  # duplicate paths, key attributes: moto's error
    raw = {name for name, _ in sets}  # moto's empty-key and type checks see the placeholder
    if raw & set(table.attribute_keys) or any(d["AttributeName"] in raw for d in table.attr):
        return None
    if any(names[p] in ("", None) for p in placeholders):
        return None
    return _SimplePlan(
        [(names[p], DynamoType(values[v])) for p, v in sets], list(targets[len(sets) :])
    )


def _fast_execute(generic: Callable[..., Any]) -> Callable[..., Any]:
    def execute(self: Any, node: Any = None) -> None:
        if node is None and isinstance(self.update_ast, _SimplePlan):
            self.update_ast.execute(self.item)
            return
        generic(self, node)

    return execute


def _fast_validate(generic: Callable[..., Any]) -> Callable[..., Any]:
    def validate(self: Any) -> Any:
        plan = self.__dict__.get("_simple_plan")
        return plan if plan is not None else generic(self)

    return validate


# Condition expressions' tokens by their text (lexing depends on nothing else).
_LEXED: dict[str, list[Any]] = {}


def _fast_lex(generic: Callable[..., Any]) -> Callable[..., Any]:
    def _lex_condition_expression(self: Any) -> Any:
        text = self.condition_expression
        tokens = _LEXED.get(text)
        if tokens is None:
            tokens = _LEXED[text] = list(generic(self))  # errors are raised, not kept
        # Fresh tokens (and children lists) as moto's lexer makes them: later steps build on them.
        return deque(token._replace(children=list(token.children)) for token in tokens)

    return _lex_condition_expression


# A parsed condition by its text, names and value placeholders (not the values): parsed once
# with a marker in place of each value, then bound to each call's values by :func:`_bind`.
_CONDITIONS: dict[
    tuple[str, str, tuple[str, ...] | None], tuple[Any, tuple[str, ...], tuple[str, ...]]
] = {}
_CONDITIONS_KEPT = 4096
_VALUE_MARK = "\x00placeholder"  # an AttributeValue "type" no value of moto's can have


def _fast_condition_parse(generic: Callable[..., Any]) -> Callable[..., Any]:
    def parse(self: Any) -> Any:
        values = self.expression_attribute_values
        if values is not None and not isinstance(values, dict):
            return generic(self)
        try:
            key = (
                str(self.condition_expression),
                json.dumps(self.expression_attribute_names, sort_keys=True),
                tuple(sorted(values)) if values is not None else None,
            )
        except (TypeError, ValueError):  # names that are not JSON: moto's way
            return generic(self)
        kept = _CONDITIONS.get(key)
        if kept is None:
            self.expression_attribute_values = (
                {name: {_VALUE_MARK: name} for name in values} if values is not None else None
            )
            try:
                template = generic(self)  # errors are raised, not kept
            finally:
                self.expression_attribute_values = values
            kept = (template, tuple(self.expr_attr_names_found), tuple(self.expr_attr_values_found))
            if len(_CONDITIONS) >= _CONDITIONS_KEPT:
                _CONDITIONS.clear()
            _CONDITIONS[key] = kept
        else:
            self.expr_attr_names_found.extend(kept[1])
            self.expr_attr_values_found.extend(kept[2])
        return _bind(kept[0], values or {}) if kept[2] else kept[0]

    return parse


def _bind(node: Any, values: dict[str, Any]) -> Any:
    """A copy of a parsed condition with each value marker replaced by the call's value, as
    moto's parse would have built it (``AttributeValue(values[name])``); paths, literals and
    anything without a marker below it are shared (evaluation only reads them)."""
    from moto.dynamodb.comparisons import AttributePath, AttributeValue

    kind = type(node)
    if kind is AttributeValue:
        return AttributeValue(values[node.value]) if node.type == _VALUE_MARK else node
    if kind is tuple or kind is list:
        return kind(_bind(element, values) for element in node)
    if kind is AttributePath or not hasattr(node, "__dict__"):
        return node
    bound = object.__new__(kind)
    bound.__dict__.update({name: _bind(v, values) for name, v in node.__dict__.items()})
    return bound


def _clone(value: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` of a syntax tree: nodes copied attribute by attribute (the same
    copies, shared and cyclic references kept through ``memo``), lists element by element,
    anything else by ``copy.deepcopy``."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is list:
        return [_clone(element, memo) for element in value]
    if _is_node(kind):
        found = memo.get(id(value))
        if found is not None:
            return found
        node = object.__new__(kind)
        memo[id(value)] = node
        node.__dict__.update({name: _clone(v, memo) for name, v in value.__dict__.items()})
        return node
    return copy.deepcopy(value, memo)


class _Checked:
    """A step after the pure checks: remembers that they passed for ``key``."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def traverse(self, node: Any) -> Any:
        _CHECKED.add(self.key)
        return node


def _fast_validator_init(
    self: Any,
    expression: Any,
    expression_attribute_names: dict[str, str],
    expression_attribute_values: dict[str, dict[str, Any]],
    item: Any,
    table: Any,
) -> None:
    self.expression_attribute_names = expression_attribute_names
    self.expression_attribute_values = expression_attribute_values
    self.item = item
    self.table = table
    processors = self.get_ast_processors()
    names = tuple(type(p).__name__ for p in processors[:3])
    if id(expression) in _PARSED_IDS and names == _PURE_CHECKS:
        key = (
            id(expression),
            tuple(sorted((expression_attribute_names or {}).items())),
            tuple(table.table_key_attrs),
        )
        if key in _CHECKED:
            processors = processors[3:]
        else:
            processors.insert(3, _Checked(key))
    self.processors = processors
    plan = _simple_plan(expression, expression_attribute_names, expression_attribute_values, table)
    if plan is not None:
        self._simple_plan = plan  # validate() answers it; nothing to copy
        return
    self.node_to_validate = _clone(expression, {})


_NOT_PROCESSED: Any = object()
_PROCESSOR_KEYS: dict[tuple[type, type], Any] = {}
_NODE_TYPES: dict[type, bool] = {}
_DESCEND_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    if kind not in _NODE_TYPES:
        _NODE_TYPES[kind] = issubclass(kind, _ast().Node)
    return _NODE_TYPES[kind]


def _processor_key(traverser: Any, kind: type) -> Any:
    """The processing map's key moto's ``DepthFirstTraverser.process`` would pick for a node
    of type ``kind`` (the first the node is an instance of), or :data:`_NOT_PROCESSED`."""
    key = (type(traverser), kind)
    if key not in _PROCESSOR_KEYS:
        found = _NOT_PROCESSED
        if issubclass(kind, traverser.nodes_to_be_processed()):
            found = next((k for k in traverser._processing_map() if issubclass(kind, k)), None)
        _PROCESSOR_KEYS[key] = found
    return _PROCESSOR_KEYS[key]


_NOT_A_NODE: Any = object()
_UNKNOWN: Any = object()
# Per traverser class: node type -> processing map key (or _NOT_PROCESSED / _NOT_A_NODE), and
# whether the class has a pre_processing_of_child of its own.
_PLANS: dict[type, tuple[dict[type, Any], bool]] = {}


def _fast_traverse(generic: Callable[..., Any]) -> Callable[..., Any]:
    traverser = _ast().DepthFirstTraverser
    default_nodes = traverser.nodes_to_be_processed
    default_pre = traverser.pre_processing_of_child

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        cls = type(self)
        if cls.nodes_to_be_processed is not default_nodes:
            return generic(self, node, child_id)
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = ({}, cls.pre_processing_of_child is not default_pre)
        keys, has_pre = plan
        processing: list[Any] = []  # the processing map, made once per traversal

        def walk(node: Any, child_id: int) -> Any:
            kind = type(node)
            key = keys.get(kind, _UNKNOWN)
            if key is _UNKNOWN:
                key = _processor_key(self, kind) if _is_node(kind) else _NOT_A_NODE
                keys[kind] = key
            if key is _NOT_A_NODE:
                return node
            parent_node = node.parent
            children = node.children
            if children is not None:
                for i, child_node in enumerate(children):
                    if has_pre:
                        self.pre_processing_of_child(node, i)
                    walk(child_node, i)
            if key is _NOT_PROCESSED:
                return node
            if not processing:
                processing.append(self._processing_map())
            node = processing[0][key](node) if key is not None else None
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
            return node

        return walk(node, child_id)

    return traverse_node_recursively


def _fast_find_clauses(node: Any, clause_types: Any) -> list[Any]:
    ast = _ast()
    clauses = []
    for child in node.children or []:
        kind = type(child)
        if kind in clause_types:
            clauses.append(child)
            continue
        if kind not in _DESCEND_TYPES:
            _DESCEND_TYPES[kind] = issubclass(kind, (ast.Expression, ast.UpdateExpressionFunction))
        if _DESCEND_TYPES[kind]:
            clauses.extend(child.find_clauses(clause_types))
    return clauses


# -- the direct path: DynamoDB data calls without HTTP ------------------------------------------

# The data-plane operations the direct path answers; every other call goes the generic way.
DIRECT_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


class _FallbackError(Exception):
    """The direct path met a value it does not know: the generic serializer and parser
    answer instead."""


class _AsParsed:
    """Stands in for moto's serializer in :func:`_attribute_value`: a blob as botocore hands
    it to the caller after decoding what moto's serializer base64-encoded."""

    @staticmethod
    def _base64(value: Any) -> bytes:
        return value if isinstance(value, bytes) else str(value).encode("utf-8")


_AS_PARSED = _AsParsed()


def _dynamo_parsed(value: Any) -> Any:
    """A moto ``DynamoType`` as :func:`_parsed` returns the ``AttributeValue`` that
    ``dynamo_to_dict`` makes of it (blobs stored as base64 text are decoded, as there)."""
    kind, inner = value.type, value.value
    if inner is None:
        return {}
    if kind in ("S", "N"):
        return {kind: _string(inner)}
    if kind in ("BOOL", "NULL"):
        return {kind: inner}
    if kind == "M" and type(inner) is dict:
        return {"M": {key: _dynamo_parsed(member) for key, member in inner.items()}}
    if kind == "L" and type(inner) is list:
        return {"L": [_dynamo_parsed(element) for element in inner]}
    if kind in ("SS", "NS") and type(inner) is list:
        return {kind: [_string(element) for element in inner]}
    if kind == "B":
        return {"B": inner if isinstance(inner, bytes) else base64.b64decode(inner)}
    if kind == "BS" and type(inner) is list:
        return {"BS": [v if isinstance(v, bytes) else base64.b64decode(v) for v in inner]}
    raise _FallbackError


def _parsed(shape: Any, value: Any) -> Any:
    """``value`` (a moto result) as botocore's parser returns it after moto's JSON
    serializer wrote it for ``shape``: members that are None left out, strings ``str``,
    numbers ``int``/``float``, blobs bytes, attribute values by :func:`_attribute_value`
    (moto's ``DynamoType`` objects by :func:`_dynamo_parsed`)."""
    kind = shape.type_name
    if kind == "structure":
        if shape.name == "AttributeValue":
            if type(value) is _DYNAMO_TYPE[0]:
                return _dynamo_parsed(value)
            written = _attribute_value(_AS_PARSED, value)
            if written is None:
                raise _FallbackError
            return written
        if not isinstance(value, dict):
            raise _FallbackError
        answer = {}
        for name, member in shape.members.items():
            inner = value.get(name)
            if inner is not None:
                answer[name] = _parsed(member, inner)
        return answer
    if kind == "list":
        if type(value) is not list or any(element is None for element in value):
            raise _FallbackError
        return [_parsed(shape.member, element) for element in value]
    if kind == "map":
        if not isinstance(value, dict) or any(element is None for element in value.values()):
            raise _FallbackError
        return {str(key): _parsed(shape.value, element) for key, element in value.items()}
    if kind == "string" and type(value) is str:
        return value
    if kind in ("integer", "long") and type(value) is int:
        return value
    if kind in ("double", "float") and type(value) in (int, float):
        return float(value)
    if kind == "boolean" and type(value) is bool:
        return value
    if kind == "blob" and type(value) in (bytes, str):
        return _AsParsed._base64(value)
    raise _FallbackError  # anything else (timestamps, documents, objects): moto's serializer


_DYNAMO_TYPE: list[type] = []  # moto's DynamoType, set when the fast paths are installed


def _lazy_result(generic: Callable[..., Any]) -> Callable[..., Any]:
    """``DynamoResult.__init__`` converts a result's ``DynamoType``s to dicts (every item,
    every attribute) for moto's serializer; the direct path reads them as they are, so the
    conversion waits until the serializer runs (:func:`_converted_first`)."""

    def init(self: Any, result: object) -> None:
        self._result = result

    return init


def _converted_first(generic: Callable[..., Any]) -> Callable[..., Any]:
    def execute_result(self: Any, context: Any) -> Any:
        from moto.dynamodb.models.utilities import dynamo_to_dict

        self._result = dynamo_to_dict(self._result)
        return generic(self, context)

    return execute_result


def _wire_copy(value: Any) -> Any:
    """A copy of request parameters as moto's request parser hands them to its handler: the
    JSON types as they are, tuples as lists, blobs as bytes (the base64 of the wire decoded
    again); anything JSON cannot carry is refused as ``json.dumps`` refuses it."""
    kind = type(value)
    if kind is dict:
        return {key: _wire_copy(member) for key, member in value.items()}
    if kind is list or kind is tuple:
        return [_wire_copy(member) for member in value]
    if value is None or kind in (str, int, float, bool):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


class _Requests:
    """Request ids for the direct path's answers (moto's are random as well)."""

    def __init__(self) -> None:
        self.count = 0

    def next_id(self) -> str:
        self.count += 1
        return f"LCMDIRECT{self.count:023d}"


_REQUESTS = _Requests()


def _moto_handler(operation: str, params: dict[str, Any], region: str) -> Any:
    from moto.dynamodb.responses import DynamoHandler

    handler = DynamoHandler()
    handler.region = region
    handler.headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
    }
    handler.querystring = {}
    handler.current_account = handler.get_current_account()
    handler.response_headers = {}
    handler.uri_match = {}
    handler.params = params
    handler.body = params
    return handler


def _http_answer(client: Any, operation_model: Any, status: int, headers: Any, body: Any) -> Any:
    """What botocore makes of moto's (status, headers, body): the generic way, exactly."""
    from botocore.awsrequest import AWSResponse
    from botocore.endpoint import convert_to_response_dict
    from moto.core.botocore_stubber import MockRawResponse

    http = AWSResponse(client.meta.endpoint_url, status, headers, MockRawResponse(body))
    response = convert_to_response_dict(http, operation_model)
    protocol = client.meta.service_model.metadata["protocol"]
    parser = client._endpoint._response_parser_factory.create_parser(protocol)
    parsed = parser.parse(response, operation_model.output_shape)
    if http.status_code >= 300:
        client._endpoint._add_modeled_error_fields(response, parsed, operation_model, parser)
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    return http, parsed


def _direct_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    """One DynamoDB data call answered by moto's DynamoDB handler in this process.

    What botocore and moto do around the handler is skipped: endpoint resolution, request
    serialization, signing, moto's URL routing, request parsing and response serialization,
    botocore's response parsing. What a caller can observe is kept: the client's
    ``provide-client-params``, ``before-parameter-build`` and ``after-call`` events run (boto3's
    DynamoDB resource converts values in them), the request reaches moto as its request
    parser would hand it over (a copy, blobs as bytes: :func:`_wire_copy`), the answer is what
    botocore's parser returns for moto's answer (:func:`_parsed`; anything it does not know,
    and every error, goes through moto's serializer and botocore's parser), errors are raised
    as botocore raises them.
    """
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.core.utils import camelcase_to_underscores
    from werkzeug.exceptions import HTTPException

    operation_model = client._service_model.operation_model(operation_name)
    request_context = {
        "client_region": client.meta.region_name,
        "client_config": client.meta.config,
        "has_streaming_input": False,
        "auth_type": operation_model.resolved_auth_type,
        "unsigned_payload": operation_model.unsigned_payload,
        "auth_options": client._service_model.metadata.get("auth"),
    }
    api_params = client._emit_api_params(
        api_params=api_params, operation_model=operation_model, context=request_context
    )
    params = _wire_copy(api_params)
    handler = _moto_handler(operation_name, params, client.meta.region_name)
    method = getattr(handler, camelcase_to_underscores(operation_name))
    parsed: Any = None
    try:
        result = method()
    except ServiceException as error:
        status, headers, body = handler.serialized(ActionResult(error))
        http, parsed = _http_answer(client, operation_model, status, headers, body)
    except HTTPException as error:
        headers = dict(error.get_headers() or [])
        http, parsed = _http_answer(
            client, operation_model, error.code or 500, headers, error.description
        )
    else:
        request_id = _REQUESTS.next_id()
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": request_id}
        try:
            parsed = _parsed(operation_model.output_shape, result.result)
        except _FallbackError:
            status, headers, body = handler.serialized(result)
            http, parsed = _http_answer(client, operation_model, status, headers, body)
        else:
            http = AWSResponse(client.meta.endpoint_url, 200, headers, MockRawResponse(b""))
            parsed["ResponseMetadata"] = {
                "RequestId": request_id,
                "HTTPStatusCode": 200,
                "HTTPHeaders": headers,
                "RetryAttempts": 0,
            }
    service_id = client._service_model.service_id.hyphenize()
    client.meta.events.emit(
        f"after-call.{service_id}.{operation_name}",
        http_response=http,
        parsed=parsed,
        model=operation_model,
        context=request_context,
    )
    if http.status_code >= 300:
        code = parsed.get("Error", {}).get("Code")
        raise client.exceptions.from_code(code)(parsed, operation_name)
    return parsed


def _fast_api_call(generic: Callable[..., Any]) -> Callable[..., Any]:
    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        from moto.core.models import botocore_stubber

        if (
            operation_name in DIRECT_OPERATIONS
            and botocore_stubber.enabled
            and self.meta.service_model.service_name == "dynamodb"
        ):
            return _direct_call(self, operation_name, api_params)
        return generic(self, operation_name, api_params)

    return _make_api_call


# One cache of loaded botocore data (service models, endpoint rules, partitions) per search
# path list, shared by every Loader.
_LOADED: dict[tuple[str, ...], dict[Any, Any]] = {}


def _shared_loader_cache(generic: Callable[..., None]) -> Callable[..., None]:
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        generic(self, *args, **kwargs)
        self._cache = _LOADED.setdefault(tuple(self.search_paths), {})

    return init


_MISSING = object()


@contextmanager
def _patched(patches: list[tuple[Any, str, Callable[[Any], Any]]]) -> Iterator[None]:
    """Replace each ``owner.name`` by ``make(original)`` for the block, then put back exactly
    what the owner itself held (removing what it only inherited). ``original``: the owner's
    own attribute (a classmethod object stays one), else the inherited one."""
    saved: list[tuple[Any, str, Any]] = []
    try:
        for owner, name, make in patches:
            own = owner.__dict__.get(name, _MISSING)
            replacement = make(getattr(owner, name) if own is _MISSING else own)
            saved.append((owner, name, own))
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, own in reversed(saved):
            if own is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, own)


@contextmanager
def fast_moto() -> Iterator[None]:
    """Install the fast paths for the duration of the block (a no-op with LCM_PLAIN_MOTO=1)."""
    if os.environ.get("LCM_PLAIN_MOTO") == "1":
        yield
        return
    from botocore.client import BaseClient
    from botocore.loaders import Loader
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator
    from moto.dynamodb.responses import DynamoResult

    ast = _ast()
    DepthFirstTraverser, Node = ast.DepthFirstTraverser, ast.Node  # noqa: N806

    _DYNAMO_TYPE[:] = [DynamoType]
    patches: list[tuple[Any, str, Callable[[Any], Any]]] = [
        (BaseJSONSerializer, "_serialize_type_structure", _fast_structure),
        (Table, "all_items", lambda _: _fast_all_items),
        (Table, "query", _fast_query),
        (Item, "project", lambda _: _fast_project),
        (DepthFirstTraverser, "traverse_node_recursively", _fast_traverse),
        (Node, "find_clauses", lambda _: _fast_find_clauses),
        (BaseClient, "_make_api_call", _fast_api_call),
        (DynamoDBBackend, "transact_write_items", _fast_transact),
        (UpdateExpressionParser, "make", lambda made: classmethod(_fast_parse(made.__func__))),
        (UpdateExpressionValidator, "__init__", lambda _: _fast_validator_init),
        (UpdateExpressionValidator, "validate", _fast_validate),
        (UpdateExpressionExecutor, "execute", _fast_execute),
        (ConditionExpressionParser, "_lex_condition_expression", _fast_lex),
        (ConditionExpressionParser, "parse", _fast_condition_parse),
        (table_module, "copy", lambda _: _ReadCopies),
        (Table, "scan", _fast_scan),
        (Table, "put_item", _versioned),
        (Table, "delete_item", _versioned),
        (Loader, "__init__", _shared_loader_cache),
        (DynamoType, "size", lambda _: _fast_size),
        (Item, "size", _scan_item_size),
        (DynamoResult, "__init__", _lazy_result),
        (DynamoResult, "execute_result", _converted_first),
    ]
    with _patched(patches):
        yield
