"""Faster moto for the runner: the same answers, without moto's hot spots.

Profiling the demo showed the runner spending most of its time inside moto rather than in the
product's code. Three places dominate, and each is replaced here by code that gives the same
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
  their order).

* **Projections.** ``Item.project`` (every KEYS_ONLY or INCLUDE index and every
  ``ProjectionExpression``) converts the whole item to Python values once per projected
  attribute, to pick one attribute out of it. :func:`_fast_project` converts only the
  attributes a projection path can reach (a fresh conversion per path, as moto makes), then
  builds the result exactly as moto does.

* **Update expressions.** moto walks an ``UpdateExpression``'s syntax tree several times per
  ``UpdateItem``, testing every node with ``isinstance`` against abstract base classes (slow
  on every call). :func:`_fast_traverse` and :func:`_fast_find_clauses` walk it the same way,
  remembering per node type which processor applies.

Only the runner installs these (:func:`fast_moto`, a context manager that puts moto back as it
was); the product never imports this module. ``LCM_PLAIN_MOTO=1`` in the environment runs on
moto as published, e.g. to check that a difference is not caused here.
"""

from __future__ import annotations

import importlib
import os
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


def _fast_all_items(table: Any) -> list[Any]:
    items: list[Any] = []
    for hash_set in table.items.values():
        if table.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)

    def order(item: Any) -> Any:
        if item.range_key:
            return (item.hash_key.cast_value, item.range_key.cast_value)
        return item.hash_key.cast_value

    return sorted(items, key=order)


def _unsorted_items(table: Any) -> list[Any]:
    items: list[Any] = []
    for hash_set in table.items.values():
        if table.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    return items


def _fast_query(generic: Callable[..., Any]) -> Callable[..., Any]:
    def _query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("index_name") or "all_items" in self.__dict__:
            return generic(self, *args, **kwargs)  # a table query, or fast already (nested)
        # The index query re-sorts its matches on a total order: the table's order is moot.
        self.all_items = _unsorted_items.__get__(self)
        try:
            return generic(self, *args, **kwargs)
        finally:
            del self.all_items

    return _query


def _top_names(path: list[str], attrs: dict[str, Any]) -> list[str]:
    """The item's attributes that moto's ``find_nested_key`` may read for ``path``."""
    first = path[0]
    return [name for name in attrs if name == first or first.startswith(name + "[")]


def _fast_project(item: Any, projection_expressions: list[list[str]]) -> Any:
    from botocore.utils import merge_dicts
    from moto.dynamodb.models.dynamo_type import Item, deserializer, serializer
    from moto.dynamodb.models.utilities import find_nested_key

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


def _ast() -> Any:
    """moto's update-expression syntax tree module (untyped)."""
    return importlib.import_module("moto.dynamodb.parsing.ast_nodes")


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


def _fast_traverse(generic: Callable[..., Any]) -> Callable[..., Any]:
    default_nodes = _ast().DepthFirstTraverser.nodes_to_be_processed

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        if type(self).nodes_to_be_processed is not default_nodes:
            return generic(self, node, child_id)
        if not _is_node(type(node)):
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        key = _processor_key(self, type(node))
        if key is _NOT_PROCESSED:
            return node
        node = self._processing_map()[key](node) if key is not None else None
        node.parent = parent_node
        if parent_node:
            parent_node.children[child_id] = node
        return node

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


@contextmanager
def fast_moto() -> Iterator[None]:
    """Install the fast paths for the duration of the block (a no-op with LCM_PLAIN_MOTO=1)."""
    if os.environ.get("LCM_PLAIN_MOTO") == "1":
        yield
        return
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    ast = _ast()
    DepthFirstTraverser, Node = ast.DepthFirstTraverser, ast.Node  # noqa: N806

    saved = (
        BaseJSONSerializer.__dict__["_serialize_type_structure"],
        Table.__dict__["all_items"],
        Table.__dict__["query"],
        Item.__dict__["project"],
        DepthFirstTraverser.__dict__["traverse_node_recursively"],
        Node.__dict__["find_clauses"],
    )
    setattr(BaseJSONSerializer, "_serialize_type_structure", _fast_structure(saved[0]))  # noqa: B010
    setattr(Table, "all_items", _fast_all_items)  # noqa: B010
    setattr(Table, "query", _fast_query(saved[2]))  # noqa: B010
    setattr(Item, "project", _fast_project)  # noqa: B010
    setattr(DepthFirstTraverser, "traverse_node_recursively", _fast_traverse(saved[4]))  # noqa: B010
    setattr(Node, "find_clauses", _fast_find_clauses)  # noqa: B010
    try:
        yield
    finally:
        setattr(BaseJSONSerializer, "_serialize_type_structure", saved[0])  # noqa: B010
        setattr(Table, "all_items", saved[1])  # noqa: B010
        setattr(Table, "query", saved[2])  # noqa: B010
        setattr(Item, "project", saved[3])  # noqa: B010
        setattr(DepthFirstTraverser, "traverse_node_recursively", saved[4])  # noqa: B010
        setattr(Node, "find_clauses", saved[5])  # noqa: B010
