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
* **Condition expressions.** moto parses a ``ConditionExpression`` twice per call (the
  handler checks it, the backend evaluates it), about a fifth of an import's time.
  :func:`_fast_condition_parse` parses a condition once per text, names and value
  placeholders, with a marker for each value (moto's parse only wraps values, it never looks
  into them), and binds each call's values into a copy of that tree (:func:`_bind`); each
  parser gets the names and values it found, as its own parse would give it. (On a 2,000-
  customer run, 37 of 10,463 conditions were parsed; the rest were bound.)
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

The fast paths live by what they replace: :mod:`~emulator.motofast.serialize` (answers),
:mod:`~emulator.motofast.tables` (order, Query, Scan, projections, sizes, transactions),
:mod:`~emulator.motofast.expressions` (update and condition expressions) and
:mod:`~emulator.motofast.direct` (the direct path, botocore's data files); this module
installs them. Only the runner installs these (:func:`fast_moto`, a context manager that puts
moto back as it was); the product never imports this package. ``LCM_PLAIN_MOTO=1`` in the
environment runs on moto as published, e.g. to check that a difference is not caused here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from emulator.motofast.direct import DIRECT_OPERATIONS, _fast_api_call, _shared_loader_cache
from emulator.motofast.expressions import (
    _ast,
    _fast_condition_parse,
    _fast_execute,
    _fast_find_clauses,
    _fast_parse,
    _fast_traverse,
    _fast_validate,
    _fast_validator_init,
)
from emulator.motofast.serialize import (
    _DYNAMO_TYPE,
    _converted_first,
    _fast_structure,
    _lazy_result,
)
from emulator.motofast.tables import (
    _fast_all_items,
    _fast_project,
    _fast_query,
    _fast_scan,
    _fast_size,
    _fast_transact,
    _ReadCopies,
    _scan_item_size,
    _versioned,
)

__all__ = ["DIRECT_OPERATIONS", "fast_moto"]

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
