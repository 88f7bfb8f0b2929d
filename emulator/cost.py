"""What each handler consumed in a run, and the cost report built from it (``cost`` in report.json).

:class:`CostMeter` is fed by :class:`emulator.boundary.AwsBoundary`, which sees every AWS call
of the process, and counts per function (the handler running when the call was made):

* **DynamoDB read and write units**, computed here from the items themselves, by DynamoDB's
  rules for on-demand capacity: a write costs one unit per started KB of the larger of the item
  before and after it (at least one; a write whose condition fails costs the same, and changes
  no index), plus, for every global secondary index of the table (read from moto's table, so
  from ``template.yaml``), one unit per started KB of the index entry when the entry appears,
  disappears, changes a projected attribute (an update) or moves (a key changed: a delete and
  a put). A read costs one unit per started 4 KB (a GetItem or BatchGetItem item on its own,
  a Query or Scan page summed), half of that when eventually consistent, and at least that
  half-or-whole unit; items of a Query on an index are sized as the index projects them.
  Transactions cost twice. Item sizes follow the documented formula (names + values; numbers
  1 byte per 2 digits + 1; lists and maps 3 bytes + 1 per element). Items read but filtered
  out (``ScannedCount`` above ``Count``) are sized as the mean of those returned.
  Why not moto's figures: moto 5.2.5 answers ``ReturnConsumedCapacity`` with constants
  (PutItem 1, UpdateItem 0.5, GetItem 0.5, Query and Scan 1 whatever they read, nothing for
  transactions) and never counts a global secondary index. The runner still asks for them
  (``INDEXES``, added to every request and removed from the answer the product sees) and
  reports their sum as ``moto_reported_units`` beside ours.
* **SQS requests**: every SQS API call a handler makes, plus an estimate of the Lambda
  poller's own requests for the messages they put on a queue (it receives and deletes in
  batches of 10: 0.2 requests per message).
* **EventBridge events**: the entries of every ``PutEvents``.
* **Lambda invocations and GB-seconds**: the process CPU time of each handler call (it
  includes moto answering in-process, and excludes network waits AWS would bill: an
  estimate), times the function's ``MemorySize`` from the template.

Calls made outside a handler (set-up, read-back) are not counted, except inside
:meth:`CostMeter.measure` (the naive daily-scan planner the report compares with). What runs
before the simulated clock starts (the import of the input files) is reported apart, as
``setup``, and left out of the per-message figures.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any

from emulator import prices
from emulator.environment import ACCOUNT, DYNAMODB_ITEM_OPERATIONS, REGION, TEMPLATE

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
POLLER_REQUESTS_PER_MESSAGE = 0.2  # one receive and one delete per batch of 10
SUPPRESSIONS = "SuppressionsTable"
FEEDBACK_FUNCTION = "FeedbackFunction"
SENDER_FUNCTION = "SenderFunction"

_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


# ---------------------------------------------------------------------- item sizes
def _number_size(text: str) -> int:
    try:
        count = len(Decimal(text).normalize().as_tuple().digits)
    except InvalidOperation:
        count = sum(c.isdigit() for c in text)
    return (count + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one DynamoDB attribute value (``{"S": "..."}``, ``{"M": {...}}`` ...)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode("utf-8")) for v in inner)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in inner.items())
    return 0


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes of an item: every attribute's name and value."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


# ---------------------------------------------------------------------- table shapes
@dataclass(frozen=True)
class IndexShape:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...] = ()

    def holds(self, item: Mapping[str, Any] | None) -> bool:
        """A sparse index holds only items that carry all its key attributes."""
        return item is not None and all(k in item for k in self.keys)

    def entry(self, item: Mapping[str, Any], table_keys: tuple[str, ...]) -> dict[str, Any]:
        if self.projection == "ALL":
            return dict(item)
        wanted = set(table_keys) | set(self.keys)
        if self.projection == "INCLUDE":
            wanted |= set(self.include)
        return {k: v for k, v in item.items() if k in wanted}


@dataclass(frozen=True)
class TableShape:
    keys: tuple[str, ...]
    indexes: tuple[IndexShape, ...]

    def key_of(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        if not all(k in item for k in self.keys):
            return None
        return {k: item[k] for k in self.keys}

    def index(self, name: str | None) -> IndexShape | None:
        return next((i for i in self.indexes if i.name == name), None)

    def index_writes(
        self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> dict[str, int]:
        """Write units per global secondary index for an item going from ``old`` to ``new``."""
        units: dict[str, int] = {}
        for index in self.indexes:
            before = index.entry(old, self.keys) if old and index.holds(old) else None
            after = index.entry(new, self.keys) if new and index.holds(new) else None
            cost = 0
            if before is not None and after is not None:
                moved = any(before[k] != after[k] for k in index.keys)
                if moved:
                    cost = write_units(item_size(before)) + write_units(item_size(after))
                elif before != after:
                    cost = write_units(item_size(after))
            elif before is not None:
                cost = write_units(item_size(before))
            elif after is not None:
                cost = write_units(item_size(after))
            if cost:
                units[index.name] = cost
        return units


def _shape_of(table: Any) -> TableShape:
    keys = tuple(k for k in (table.hash_key_attr, table.range_key_attr) if k)
    indexes = []
    for index in table.global_indexes:
        projection = index.projection or {}
        indexes.append(
            IndexShape(
                name=index.name,
                keys=tuple(index.schema_key_attrs),
                projection=projection.get("ProjectionType", "ALL"),
                include=tuple(projection.get("NonKeyAttributes", [])),
            )
        )
    return TableShape(keys=keys, indexes=tuple(indexes))


class MotoTables:
    """Table shapes and current items, read straight from moto's back-end (no API call)."""

    def __init__(self) -> None:
        self._shapes: dict[str, TableShape] = {}

    @cached_property
    def backend(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][REGION]

    def shape(self, table: str) -> TableShape:
        if table not in self._shapes:
            self._shapes[table] = _shape_of(self.backend.get_table(table))
        return self._shapes[table]

    def item(self, table: str, key: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if key is None:
            return None
        try:
            found = self.backend.get_item(table, dict(key))
        except Exception:  # a malformed key: the call itself will fail
            return None
        if found is None:
            return None
        attributes: dict[str, Any] = found.to_json()["Attributes"]
        return attributes


# ---------------------------------------------------------------------- usage
@dataclass
class Usage:
    """What one function (or the naive planner) consumed."""

    invocations: int = 0
    cpu_seconds: float = 0.0
    # "Table" or "Table/index" -> units
    write_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    read_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    sqs_requests: int = 0
    sqs_messages: int = 0  # put on a queue (the poller's share is estimated from them)
    events: int = 0
    moto_reported_units: float = 0.0
    items_read: int = 0

    @property
    def total_write_units(self) -> float:
        return float(sum(self.write_units.values()))

    @property
    def total_read_units(self) -> float:
        return float(sum(self.read_units.values()))

    @property
    def total_sqs_requests(self) -> float:
        return self.sqs_requests + POLLER_REQUESTS_PER_MESSAGE * self.sqs_messages

    def add(self, other: Usage) -> None:
        self.invocations += other.invocations
        self.cpu_seconds += other.cpu_seconds
        for name, units in other.write_units.items():
            self.write_units[name] += units
        for name, units in other.read_units.items():
            self.read_units[name] += units
        self.sqs_requests += other.sqs_requests
        self.sqs_messages += other.sqs_messages
        self.events += other.events
        self.moto_reported_units += other.moto_reported_units
        self.items_read += other.items_read


def memory_sizes(template: Path = TEMPLATE) -> dict[str, int]:
    """MemorySize (MB) per function of the template (Globals, then the function's own)."""
    from emulator.template import load_template

    document = load_template(template)
    default = int(document.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    sizes = {}
    for logical_id, resource in document.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            sizes[logical_id] = int(resource.get("Properties", {}).get("MemorySize", default))
    return sizes


def _capacity_units(consumed: Any) -> float:
    entries = consumed if isinstance(consumed, list) else [consumed]
    return float(sum(e.get("CapacityUnits", 0) for e in entries if isinstance(e, dict)))


class CostMeter:
    """Counts per function; :meth:`report` turns the counts into ``report.json``'s ``cost``."""

    def __init__(self, memory: dict[str, int] | None = None) -> None:
        self.memory = memory if memory is not None else memory_sizes()
        self.tables = MotoTables()
        self.run: dict[str, Usage] = defaultdict(Usage)
        self.setup: dict[str, Usage] = defaultdict(Usage)
        self.measured: dict[str, Usage] = defaultdict(Usage)
        self.clock_running = False  # set while the simulated clock moves (the run proper)
        self._measuring: str | None = None
        self._stack: list[list[float]] = []  # [start, time of nested calls] per open call

    # -- attribution ----------------------------------------------------------------------
    def usage(self, function: str | None) -> Usage | None:
        if self._measuring is not None:
            return self.measured[self._measuring]
        if function is None:
            return None
        return (self.run if self.clock_running else self.setup)[function]

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        """Count one handler call and its CPU time (less that of calls nested in it)."""
        usage = self.usage(function)
        frame = [time.process_time(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            spent = time.process_time() - frame[0]
            if self._stack:
                self._stack[-1][1] += spent
            if usage is not None:
                usage.invocations += 1
                usage.cpu_seconds += max(0.0, spent - frame[1])

    @contextmanager
    def measure(self, name: str) -> Iterator[Usage]:
        """Count the calls made inside the block as ``name``'s (outside any handler)."""
        outer, self._measuring = self._measuring, name
        try:
            yield self.measured[name]
        finally:
            self._measuring = outer

    # -- calls ----------------------------------------------------------------------------
    def sqs(self, function: str | None, operation: str, params: Mapping[str, Any]) -> None:
        usage = self.usage(function)
        if usage is None:
            return
        usage.sqs_requests += 1
        if operation == "SendMessage":
            usage.sqs_messages += 1
        elif operation == "SendMessageBatch":
            usage.sqs_messages += len(params.get("Entries") or [])

    def events(self, function: str | None, operation: str, params: Mapping[str, Any]) -> None:
        usage = self.usage(function)
        if usage is not None and operation == "PutEvents":
            usage.events += len(params.get("Entries") or [])

    def dynamodb(
        self,
        function: str | None,
        operation: str,
        params: dict[str, Any],
        call: Callable[[dict[str, Any]], Any],
    ) -> Any:
        """Make ``call(params)`` (a DynamoDB operation) and count what it consumed."""
        usage = self.usage(function)
        if usage is None or operation not in DYNAMODB_ITEM_OPERATIONS:
            return call(params)
        asked = params.get("ReturnConsumedCapacity")
        request = {**params, "ReturnConsumedCapacity": "INDEXES"}
        before = self._images_before(operation, params)
        try:
            response = call(request)
        except Exception as exc:
            if operation in _WRITES and _condition_failed(exc):
                table = params["TableName"]
                old = before.get((table, _key_text(self._key(table, operation, params))))
                usage.write_units[table] += write_units(item_size(old) if old else 0)
            raise
        usage.moto_reported_units += _capacity_units(response.get("ConsumedCapacity") or [])
        if asked in (None, "NONE"):
            response.pop("ConsumedCapacity", None)
        self._count(usage, operation, params, response, before)
        return response

    # -- DynamoDB accounting --------------------------------------------------------------
    def _key(self, table: str, operation: str, params: Mapping[str, Any]) -> Any:
        if operation == "PutItem":
            return self.tables.shape(table).key_of(params.get("Item") or {})
        return params.get("Key")

    def _write_targets(
        self, operation: str, params: Mapping[str, Any]
    ) -> list[tuple[str, Any, int]]:
        """(table, key, multiplier) of every item a write request may change."""
        if operation in _WRITES:
            table = params["TableName"]
            return [(table, self._key(table, operation, params), 1)]
        targets: list[tuple[str, Any, int]] = []
        if operation == "BatchWriteItem":
            for table, requests in (params.get("RequestItems") or {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        key = self.tables.shape(table).key_of(request["PutRequest"]["Item"])
                    else:
                        key = request.get("DeleteRequest", {}).get("Key")
                    targets.append((table, key, 1))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems") or []:
                (kind, body), *_ = entry.items()
                table = body["TableName"]
                key = (
                    self.tables.shape(table).key_of(body["Item"]) if kind == "Put" else body["Key"]
                )
                targets.append((table, key, 2))
        return targets

    def _images_before(
        self, operation: str, params: Mapping[str, Any]
    ) -> dict[tuple[str, str], dict[str, Any] | None]:
        return {
            (table, _key_text(key)): self.tables.item(table, key)
            for table, key, _ in self._write_targets(operation, params)
        }

    def _count(
        self,
        usage: Usage,
        operation: str,
        params: Mapping[str, Any],
        response: Mapping[str, Any],
        before: Mapping[tuple[str, str], dict[str, Any] | None],
    ) -> None:
        if operation in _WRITES or operation in ("BatchWriteItem", "TransactWriteItems"):
            # moto never leaves items unprocessed: every target was written
            for table, key, times in self._write_targets(operation, params):
                old = before.get((table, _key_text(key)))
                new = self.tables.item(table, key)
                size = max(item_size(old) if old else 0, item_size(new) if new else 0)
                usage.write_units[table] += times * write_units(size)
                for index, units in self.tables.shape(table).index_writes(old, new).items():
                    usage.write_units[f"{table}/{index}"] += times * units
            return
        if operation == "GetItem":
            table = params["TableName"]
            item = self.tables.item(table, params.get("Key"))
            size = item_size(item) if item else 0
            usage.read_units[table] += read_units(size, bool(params.get("ConsistentRead")))
            usage.items_read += int(item is not None)
        elif operation in ("BatchGetItem", "TransactGetItems"):
            times = 2 if operation == "TransactGetItems" else 1
            for table, key, consistent in _get_targets(operation, params):
                item = self.tables.item(table, key)
                size = item_size(item) if item else 0
                usage.read_units[table] += times * read_units(size, consistent)
                usage.items_read += int(item is not None)
        else:  # Query, Scan: one page
            self._count_page(usage, params, response)

    def _count_page(
        self, usage: Usage, params: Mapping[str, Any], response: Mapping[str, Any]
    ) -> None:
        table = params["TableName"]
        shape = self.tables.shape(table)
        index = shape.index(params.get("IndexName"))
        # Whole items or index entries come back unless the request narrowed them: size
        # those as they are, else look the item up and project it as the index does.
        narrowed = "ProjectionExpression" in params or "AttributesToGet" in params
        sizes = []
        for returned in response.get("Items") or []:
            entry = returned
            if narrowed:
                full = self.tables.item(table, shape.key_of(returned)) or returned
                entry = index.entry(full, shape.keys) if index is not None else full
            sizes.append(item_size(entry))
        scanned = int(response.get("ScannedCount", len(sizes)))
        total = sum(sizes)
        if scanned > len(sizes) and sizes:
            total += (scanned - len(sizes)) * total // len(sizes)
        name = f"{table}/{index.name}" if index is not None else table
        usage.read_units[name] += read_units(total, bool(params.get("ConsistentRead")))
        usage.items_read += scanned

    # -- report ---------------------------------------------------------------------------
    def report(
        self,
        messages: int,
        names: Mapping[str, str] | None = None,
        days: int = 1,
    ) -> dict[str, Any]:
        """``report.json``'s ``cost``: per message, per function, per table, dollars."""
        logical = dict(names or {})
        total = Usage()
        for usage in self.run.values():
            total.add(usage)
        gb_seconds = self._gb_seconds(self.run)
        per = (lambda value: round(value / messages, 4)) if messages else (lambda value: None)
        dollars = prices.usd(
            write_units=total.total_write_units,
            read_units=total.total_read_units,
            sqs_requests=total.total_sqs_requests,
            events=total.events,
            gb_seconds=gb_seconds,
            invocations=total.invocations,
        )
        report: dict[str, Any] = {
            "messages": messages,
            "per_message": {
                "dynamodb_write_units": per(total.total_write_units),
                "dynamodb_read_units": per(total.total_read_units),
                "sqs_requests": per(total.total_sqs_requests),
                "events": per(total.events),
                "lambda_gb_seconds": per(gb_seconds),
                "lambda_invocations": per(total.invocations),
            },
            "per_message_parts": self._parts(messages, logical),
            "usd_per_million_emails_excluding_ses": (
                round(dollars["total"] / messages * 1e6, 4) if messages else None
            ),
            "usd_per_million_emails_by_service": {
                k: round(v / messages * 1e6, 4) for k, v in dollars.items() if k != "total"
            }
            if messages
            else {},
            "ses_usd_per_million_emails": prices.SES_USD_PER_MILLION_EMAILS,
            "totals": {
                "dynamodb_write_units": round(total.total_write_units, 2),
                "dynamodb_read_units": round(total.total_read_units, 2),
                "sqs_requests": round(total.total_sqs_requests, 2),
                "events": total.events,
                "lambda_gb_seconds": round(gb_seconds, 4),
                "lambda_invocations": total.invocations,
                "usd": round(dollars["total"], 6),
                "moto_reported_units": round(total.moto_reported_units, 2),
            },
            "by_function": self._functions(self.run, logical),
            "by_table": _by_table(self.run.values(), logical),
            "setup": self._functions(self.setup, logical),
            "prices": prices.PRICES,
            "method": (
                "DynamoDB units computed from item sizes and the template's indexes "
                "(moto's own figures are constants: moto_reported_units); Lambda duration "
                "is the handler's process CPU time (an estimate); SQS includes 0.2 poller "
                "requests per message queued; setup (the import) is not in per_message"
            ),
        }
        if "NaiveDailyScanPlanner" in self.measured:
            report["naive_daily_scan_planner"] = self._naive(
                self.measured["NaiveDailyScanPlanner"], messages, days
            )
        return report

    def _gb_seconds(self, usages: Mapping[str, Usage]) -> float:
        return sum(u.cpu_seconds * self.memory.get(f, 128) / 1024 for f, u in usages.items())

    def _parts(self, messages: int, logical: Mapping[str, str]) -> dict[str, Any]:
        """The send-time suppression check and SES feedback, reported on their own."""
        suppression_reads = 0.0
        feedback_writes = 0.0
        feedback_reads = 0.0
        for function, usage in self.run.items():
            for name, units in usage.read_units.items():
                if logical.get(name.split("/")[0], name) == SUPPRESSIONS and (
                    function == SENDER_FUNCTION
                ):
                    suppression_reads += units
            if function == FEEDBACK_FUNCTION:
                feedback_writes += usage.total_write_units
                feedback_reads += usage.total_read_units
        per = (lambda value: round(value / messages, 4)) if messages else (lambda value: None)
        send_path = Usage()
        for function, usage in self.run.items():
            if function != FEEDBACK_FUNCTION:
                send_path.add(usage)
        return {
            "suppression_read_units": per(suppression_reads),
            "feedback_write_units": per(feedback_writes),
            "feedback_read_units": per(feedback_reads),
            "without_feedback": {
                "dynamodb_write_units": per(send_path.total_write_units),
                "dynamodb_read_units": per(send_path.total_read_units),
            },
        }

    def _functions(self, usages: Mapping[str, Usage], logical: Mapping[str, str]) -> dict[str, Any]:
        result = {}
        for function, usage in sorted(usages.items()):
            memory = self.memory.get(function, 128)
            result[function] = {
                "invocations": usage.invocations,
                "memory_mb": memory,
                "cpu_seconds": round(usage.cpu_seconds, 4),
                "lambda_gb_seconds": round(usage.cpu_seconds * memory / 1024, 4),
                "dynamodb_write_units": _named(usage.write_units, logical),
                "dynamodb_read_units": _named(usage.read_units, logical),
                "sqs_requests": round(usage.total_sqs_requests, 2),
                "events": usage.events,
            }
        return result

    def _naive(self, usage: Usage, messages: int, days: int) -> dict[str, Any]:
        per_day = usage.total_read_units
        return {
            "what": "a planner that Scans the whole Customers table once a day",
            "items_read_per_day": usage.items_read,
            "read_units_per_day": round(per_day, 2),
            "days": days,
            "read_units": round(per_day * days, 2),
            "read_units_per_message": round(per_day * days / messages, 4) if messages else None,
        }


def _named(units: Mapping[str, float], logical: Mapping[str, str]) -> dict[str, float]:
    named: defaultdict[str, float] = defaultdict(float)
    for name, value in units.items():
        table, _, index = name.partition("/")
        label = logical.get(table, table) + (f"/{index}" if index else "")
        named[label] += value
    return {k: round(v, 2) for k, v in sorted(named.items())}


def _by_table(usages: Iterable[Usage], logical: Mapping[str, str]) -> dict[str, Any]:
    total = Usage()
    for usage in usages:
        total.add(usage)
    writes, reads = total.write_units, total.read_units
    return {"write_units": _named(writes, logical), "read_units": _named(reads, logical)}


def _get_targets(operation: str, params: Mapping[str, Any]) -> list[tuple[str, Any, bool]]:
    if operation == "TransactGetItems":
        return [
            (entry["Get"]["TableName"], entry["Get"]["Key"], True)
            for entry in params.get("TransactItems") or []
        ]
    targets = []
    for table, request in (params.get("RequestItems") or {}).items():
        consistent = bool(request.get("ConsistentRead"))
        targets += [(table, key, consistent) for key in request.get("Keys") or []]
    return targets


def _key_text(key: Any) -> str:
    return repr(sorted(key.items())) if isinstance(key, Mapping) else repr(key)


def _condition_failed(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
