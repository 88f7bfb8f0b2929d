"""Dispatcher: hand due ledger items to the send queue, paced to the account's send rate.

Runs every ``interval`` seconds (the template's schedule, 5 minutes). One firing hands over
at most ``rate x interval`` ids (SES's maximum send rate, 14 messages/s by default) and gives
the i-th of them ``DelaySeconds = i // rate``, so the sender receives at most ``rate`` new
messages in any second and one firing's messages are all visible before the next firing.

Due items are found in the ledger's ``by-send-time`` index (``shard``, sorted by
``deliver_at#delivery_id``), one cursor per shard marking how far it has been handed over.
A firing works on every shard in parallel:

1. the cursors are read (one BatchGetItem) and each shard is queried after its cursor up to
   ``now`` (items planned to be sent only) for up to the firing's capacity;
2. the capacity is shared out: every shard its fair part, and what a short shard leaves goes
   to the others, so a burst in one shard is not held back by empty ones;
3. the chosen ids get their pacing slots (shards interleaved) and go to SQS in batches of 10
   by a pool of threads; then each shard's cursor moves to the last id SQS took (one
   conditional write per shard and firing, none per message).

If the process dies between SQS and the cursor, the next firing sends the ids again; the
sender's conditional write makes that harmless, and so does a second firing running at the
same time (the later cursor write finds the version changed and leaves it). What a firing
cannot carry stays after the cursor, oldest first, for the next one. Items planned so late
that the cursor may have passed their send time already are put on the send queue by the
planner itself (:mod:`lifecycle.pipeline.planner`).
The planner knows it first: :func:`over_capacity` replays this pacing over the deliveries it
planned and reports those the rate cannot send inside the send window (README, "Sending rate"
and "A 1M-customer day").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import Any

from lifecycle.core.observability import logger
from lifecycle.store import dispatch_cursors

SQS_BATCH = 10
MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds
THREADS = 16  # SQS and DynamoDB calls wait on the network; a pool keeps a burst in seconds


@dataclass
class DispatchReport:
    enqueued: int = 0
    failed: int = 0
    cursors_moved: int = 0  # shards whose cursor another firing moved meanwhile
    deferred: bool = False  # more was due than the send rate lets through in one firing

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "enqueued": self.enqueued,
            "failed": self.failed,
            "cursors_moved": self.cursors_moved,
            "deferred": self.deferred,
        }


def firing_window(interval_seconds: int) -> int:
    """Seconds one firing paces its messages over (SQS delays stop at 15 minutes)."""
    return min(interval_seconds, MAX_DELAY_SECONDS)


def firing_capacity(rate: int, interval_seconds: int, shards: int) -> int:
    """One shard's fair part of a firing (``rate x interval`` ids over ``shards``)."""
    return max(1, rate * firing_window(interval_seconds) // shards)


def share_capacity(available: Sequence[int], capacity: int) -> list[int]:
    """How many ids each shard hands over: a fair part each, the unused rest to the others.

    ``available``: ids found per shard. Never more than ``capacity`` in all, never more than
    a shard has; as much as possible otherwise.
    """
    taken = [0] * len(available)
    left = capacity
    open_shards = [i for i, n in enumerate(available) if n > 0]
    while left > 0 and open_shards:
        part = max(1, left // len(open_shards))
        for i in list(open_shards):
            more = min(part, available[i] - taken[i], left)
            taken[i] += more
            left -= more
            if taken[i] == available[i]:
                open_shards.remove(i)
            if left == 0:
                break
    return taken


def dispatch_due(
    now: datetime,
    *,
    sqs: Any,
    queue_url: str,
    shards: int,
    rate: int = 14,
    interval_seconds: int = 300,
    threads: int = THREADS,
) -> DispatchReport:
    """Hand every due id the send rate allows in this firing to the send queue."""
    report = DispatchReport()
    capacity = rate * firing_window(interval_seconds)
    cursors = dispatch_cursors.cursors(shards)
    with _pool(threads) as parallel:
        found = list(parallel(lambda c: dispatch_cursors.due_after(c, now, capacity + 1), cursors))
        shares = share_capacity([len(entries) for entries in found], capacity)
        report.deferred = any(len(e) > n for e, n in zip(found, shares, strict=True))
        taken = [entries[:n] for entries, n in zip(found, shares, strict=True)]
        # Interleave the shards so each one's ids are spread over the firing's seconds.
        chosen = [entry[1] for row in zip_longest(*taken) for entry in row if entry is not None]
        batches = [
            (start, chosen[start : start + SQS_BATCH]) for start in range(0, len(chosen), SQS_BATCH)
        ]
        accepted: set[str] = set()
        for ok, failed in parallel(lambda b: _send(sqs, queue_url, b[0], b[1], rate), batches):
            accepted.update(ok)
            report.enqueued += len(ok)
            report.failed += failed
        moves = [
            (cursor, handed[-1][0])
            for cursor, entries in zip(cursors, taken, strict=True)
            if (handed := _accepted_prefix(entries, accepted))
        ]
        for moved in parallel(lambda move: dispatch_cursors.advance(*move), moves):
            report.cursors_moved += not moved
    return report


def _accepted_prefix(entries: list[tuple[str, str]], accepted: set[str]) -> list[tuple[str, str]]:
    """The shard's ids up to the first one SQS refused (the cursor stops before it)."""
    prefix = []
    for entry in entries:
        if entry[1] not in accepted:
            break
        prefix.append(entry)
    return prefix


Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


@contextmanager
def _pool(threads: int) -> Iterator[Mapper]:
    """``map`` over a pool of ``threads`` (in order); one thread: the plain, serial ``map``
    (the local runner's seeded faults repeat only when calls come in one order)."""
    if threads <= 1:
        yield map
        return
    with ThreadPoolExecutor(max_workers=threads) as executor:
        yield executor.map


def _send(
    sqs: Any, queue_url: str, position: int, batch: list[str], rate: int
) -> tuple[list[str], int]:
    """One SendMessageBatch; the ids SQS accepted and how many it rejected."""
    entries = []
    for i, item_id in enumerate(batch):
        entry: dict[str, Any] = {"Id": str(i), "MessageBody": json.dumps({"delivery_id": item_id})}
        delay = min(MAX_DELAY_SECONDS, (position + i) // rate)
        if delay:
            entry["DelaySeconds"] = delay
        entries.append(entry)
    response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    for failure in response.get("Failed", []):
        logger.error(
            "send queue rejected a delivery id",
            delivery_id=batch[int(failure["Id"])],
            code=failure.get("Code"),
        )
    accepted = [batch[int(success["Id"])] for success in response.get("Successful", [])]
    return accepted, len(response.get("Failed", []))


# ------------------------------------------------------------------ plan-time capacity
@dataclass(frozen=True)
class SendCapacity:
    """What the send rate makes of planned deliveries (see :func:`over_capacity`)."""

    rate: int
    interval_seconds: int
    per_firing: int  # rate x interval: what one dispatcher firing hands over
    planned: int
    busiest_interval: str | None  # the firing (UTC ISO) with the most deliveries due
    busiest_due: int
    over_capacity: int  # deliveries the rate cannot send inside the send window
    first_late: str | None  # the earliest instant whose deliveries are not all sendable

    def as_dict(self) -> dict[str, Any]:
        return {
            "send_rate": self.rate,
            "dispatch_interval_seconds": self.interval_seconds,
            "per_dispatch_interval": self.per_firing,
            "planned": self.planned,
            "busiest_interval": self.busiest_interval,
            "busiest_interval_due": self.busiest_due,
            "over_capacity": self.over_capacity,
            "first_over_capacity": self.first_late,
        }


def _firing_at_or_after(instant: datetime, interval: timedelta) -> datetime:
    """The first dispatcher firing at or after ``instant`` (firings on multiples of the
    interval since midnight UTC, as a ``rate(5 minutes)`` schedule roughly falls)."""
    midnight = instant.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(instant - midnight) // interval)  # ceiling
    return midnight + steps * interval


def over_capacity(
    due: Mapping[datetime, int] | Iterable[tuple[datetime, int]],
    *,
    rate: int,
    interval_seconds: int,
    window: timedelta,
) -> SendCapacity:
    """Replay the dispatcher's pacing over deliveries due at given instants.

    Each firing takes up to ``rate x interval`` of the oldest due deliveries and paces them
    one ``rate`` per second; a delivery is late (the sender skips it as
    ``send_window_missed``) when its pacing slot falls more than ``window`` after its
    ``deliver_at``. Late ones still use their slot, as in the dispatcher. Counts only what
    is given: one planner run's deliveries (a plan worker's: its share of a fan-out).
    """
    pairs = sorted((due.items() if isinstance(due, Mapping) else due), key=lambda p: p[0])
    pairs = [(at, n) for at, n in pairs if n > 0]
    interval = timedelta(seconds=interval_seconds)
    per_firing = rate * firing_window(interval_seconds)
    by_firing: dict[datetime, int] = {}
    for at, n in pairs:
        key = _firing_at_or_after(at, interval)
        by_firing[key] = by_firing.get(key, 0) + n
    busiest = max(by_firing.items(), key=lambda p: (p[1], -p[0].timestamp()), default=None)
    late = 0
    first_late: datetime | None = None
    queue: list[list[Any]] = []  # [deliver_at, count] oldest first
    position = 0
    firing = _firing_at_or_after(pairs[0][0], interval) if pairs else None
    limit = window.total_seconds()
    while firing is not None and (position < len(pairs) or queue):
        while position < len(pairs) and pairs[position][0] <= firing:
            queue.append(list(pairs[position]))
            position += 1
        slot, left = 0, per_firing
        while left and queue:
            at, count = queue[0]
            take = min(count, left)
            waited = (firing - at).total_seconds()
            # slot + k is on time while (slot + k) // rate <= limit - waited
            on_time = 0 if waited > limit else int(limit - waited + 1) * rate - slot
            missed = take - max(0, min(take, on_time))
            if missed and first_late is None:
                first_late = at
            late += missed
            slot, left = slot + take, left - take
            if take == count:
                queue.pop(0)
            else:
                queue[0][1] = count - take
        if not queue and position < len(pairs):
            firing = _firing_at_or_after(pairs[position][0], interval)
        else:
            firing += interval
    return SendCapacity(
        rate=rate,
        interval_seconds=interval_seconds,
        per_firing=per_firing,
        planned=sum(n for _, n in pairs),
        busiest_interval=busiest[0].isoformat().replace("+00:00", "Z") if busiest else None,
        busiest_due=busiest[1] if busiest else 0,
        over_capacity=late,
        first_late=first_late.isoformat().replace("+00:00", "Z") if first_late else None,
    )
