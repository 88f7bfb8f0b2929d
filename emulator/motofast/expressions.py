"""The fast paths of moto's expressions: update expressions parsed, checked and planned once
per text, syntax trees walked and copied without generic machinery, condition expressions
parsed once per text, names and placeholders.

Part of :mod:`emulator.motofast` (its docstring says why each exists).
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

from emulator.motofast.tables import _part_size

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
    moto's parse would have built it (``AttributeValue(values[name])``): operator and function
    nodes are copied, paths and other values shared (evaluation only reads them)."""
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
