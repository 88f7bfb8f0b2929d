"""The messaging policy item and the per-customer send budgets (PynamoDB).

* Policy: one item (``policy_id`` "account") holding the validated document and a
  ``version``. Every write is conditional on the version the caller read (0: none stored
  yet), like campaigns: :class:`PolicyConflictError` when someone saved in between.
* Budgets: one item per customer, ``counted`` = local day -> marketing occurrence ids counted
  that day. The sender reads it, decides (:func:`lifecycle.rules.policy.cap_verdict`) and
  writes the new ``counted`` conditionally on the ``version`` it read; a lost race re-reads
  and decides again, so concurrent senders and redeliveries never count past a limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from lifecycle.core.clock import utc_iso
from lifecycle.rules.policy import KEEP_DAYS, Policy, PolicyError, parse_policy, prune
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import DeliveryModel, MessagingPolicyModel, SendBudgetModel

POLICY_ID = "account"
CACHE_SECONDS = 60


class PolicyConflictError(RuntimeError):
    """The policy changed since the caller read it (optimistic concurrency)."""

    def __init__(self, current_version: int | None) -> None:
        super().__init__(f"the policy is at version {current_version}")
        self.current_version = current_version


@dataclass(frozen=True)
class PolicyRecord:
    document: dict[str, Any] | None  # None: no policy stored (the defaults apply)
    version: int  # 0 when none is stored
    updated_at: str | None


def get_policy_record() -> PolicyRecord:
    try:
        model = MessagingPolicyModel.get(POLICY_ID, consistent_read=True)
    except DoesNotExist:
        return PolicyRecord(None, 0, None)
    return PolicyRecord(dict(model.document or {}), int(model.version), model.updated_at)


def put_policy_record(document: dict[str, Any], now: datetime, expected_version: int) -> int:
    """Store ``document`` as the new policy if the stored version is ``expected_version``."""
    condition = (
        MessagingPolicyModel.policy_id.does_not_exist()
        if expected_version == 0
        else MessagingPolicyModel.version == expected_version
    )
    version = expected_version + 1
    try:
        MessagingPolicyModel(
            policy_id=POLICY_ID, document=document, version=version, updated_at=utc_iso(now)
        ).save(condition=condition)
    except PutError as exc:
        if condition_failed(exc):
            raise PolicyConflictError(get_policy_record().version) from None
        raise
    _cache.clear()
    return version


# (read at, the table's connection then, the policy): a table rebound to another deployment
# (configure_tables, as tests and the runner do) has a new connection and misses the cache.
_cache: dict[str, tuple[datetime, object, Policy | None]] = {}


def current_policy(now: datetime) -> Policy | None:
    """The stored policy (None: none stored), re-read at most every minute of ``now``.

    The stored document was validated when it was written; one that no longer parses is
    treated as absent, never a crash of the sender.
    """
    cached = _cache.get(POLICY_ID)
    if (
        cached is not None
        and cached[1] is MessagingPolicyModel._connection
        and timedelta(0) <= now - cached[0] < timedelta(seconds=CACHE_SECONDS)
    ):
        return cached[2]
    record = get_policy_record()
    policy: Policy | None = None
    if record.document is not None:
        try:
            policy = parse_policy(record.document, None)
        except PolicyError:
            policy = None
    _cache[POLICY_ID] = (now, MessagingPolicyModel._connection, policy)
    return policy


def forget_cached_policy() -> None:
    _cache.clear()


# ---------------------------------------------------------------- budgets


@dataclass(frozen=True)
class Budget:
    customer_id: str
    counted: dict[str, list[str]]
    version: int  # 0: no item yet


def get_budget(customer_id: str) -> Budget:
    try:
        model = SendBudgetModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return Budget(customer_id, {}, 0)
    counted = {str(k): [str(i) for i in v] for k, v in dict(model.counted or {}).items()}
    return Budget(customer_id, counted, int(model.version))


def write_budget(
    budget: Budget, counted: Mapping[str, Sequence[str]], day: date, now: datetime
) -> bool:
    """Replace the customer's counts if nobody wrote since ``budget`` was read; False if so."""
    condition = (
        SendBudgetModel.customer_id.does_not_exist()
        if budget.version == 0
        else SendBudgetModel.version == budget.version
    )
    try:
        SendBudgetModel(
            customer_id=budget.customer_id,
            counted=prune(counted, day, KEEP_DAYS),
            version=budget.version + 1,
            updated_at=utc_iso(now),
            expires_at=int((now + timedelta(days=KEEP_DAYS)).timestamp()),
        ).save(condition=condition)
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def count_in(budget: Budget, day: date, occurrence_id: str, now: datetime) -> bool:
    """Add ``occurrence_id`` to ``day``'s counts (conditional on the version read)."""
    counted = {d: list(ids) for d, ids in budget.counted.items()}
    today = counted.setdefault(day.isoformat(), [])
    if occurrence_id not in today:
        today.append(occurrence_id)
    return write_budget(budget, counted, day, now)


def count_out(customer_id: str, day: date, occurrence_id: str, now: datetime) -> None:
    """Take ``occurrence_id`` out of ``day``'s counts (the provider refused the message)."""
    for _ in range(5):
        budget = get_budget(customer_id)
        today = budget.counted.get(day.isoformat(), [])
        if occurrence_id not in today:
            return
        counted = {d: list(ids) for d, ids in budget.counted.items()}
        counted[day.isoformat()] = [i for i in today if i != occurrence_id]
        if write_budget(budget, counted, day, now):
            return


def planned_between(customer_id: str, start: datetime, end: datetime) -> list[DeliveryModel]:
    """The customer's ledger items due in ``[start, end)``: one consistent Query of the
    customer's partition of the ledger (a customer has a handful of messages a day)."""
    condition = DeliveryModel.deliver_at.between(utc_iso(start), utc_iso(end - _ONE_SECOND))
    return list(DeliveryModel.query(customer_id, filter_condition=condition, consistent_read=True))


_ONE_SECOND = timedelta(seconds=1)


def delete_budget(customer_id: str) -> None:
    """Erasure: forget what was counted for the customer (the tombstone sends nothing more)."""
    SendBudgetModel(customer_id=customer_id).delete()
