"""The RFM job writes a customer's scores only when they changed, and never creates one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from lifecycle.core.clock import utc_iso
from lifecycle.features.erasure import erase_customer
from lifecycle.features.rfm import run_rfm_job
from lifecycle.rules.records import parse_customer
from lifecycle.store.customers import get_customer, upsert_customer
from lifecycle.store.models import OrderModel
from tests.builders import customer_doc

NOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
IDS = [f"c-{n:02d}" for n in range(12)]


def _order(order_id: str, customer_id: str, at: datetime, total: float) -> None:
    OrderModel(
        order_id=order_id,
        customer_id=customer_id,
        status="delivered",
        created_at=utc_iso(at),
        total=total,
        currency="EUR",
    ).save()


@pytest.fixture
def shop(aws: Any) -> list[str]:
    for cid in IDS:
        upsert_customer(parse_customer(customer_doc(cid, timezone="UTC")), NOW)
    for n, cid in enumerate(IDS):
        for k in range(1 + n % 4):
            _order(f"o-{cid}-{k}", cid, NOW - timedelta(days=3 + 20 * n + k), 10.0 * (n + 1))
    _order("o-ghost", "ghost", NOW - timedelta(days=2), 99.0)  # no such customer
    return IDS


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The customer ids of every UpdateItem the job sends."""
    seen: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: Any, name: str, params: dict[str, Any]) -> Any:
        if name == "UpdateItem":
            seen.append(params["Key"]["customer_id"]["S"])
        return original(self, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield seen


def test_given_scored_customers_when_job_runs_again_then_nothing_is_written(shop, updates):
    # Given a first run that scored every customer who ordered
    first = run_rfm_job(NOW)
    assert (first["customers_scored"], first["written"], first["unchanged"]) == (12, 12, 0)
    assert sorted(updates) == IDS  # the order of an unknown customer creates nothing
    assert get_customer("ghost") is None
    stored = get_customer("c-00")
    assert stored is not None and stored["rfm"]["computed_at"] == utc_iso(NOW)
    updates.clear()
    # When the job runs again the next day with the same orders (dates far from a boundary)
    again = run_rfm_job(NOW + timedelta(days=1))
    # Then no customer is written and the stored documents stay as they were
    assert (again["customers_scored"], again["written"], again["unchanged"]) == (12, 0, 12)
    assert updates == []
    assert get_customer("c-00") == stored


def test_given_a_new_order_when_job_runs_then_only_changed_customers_are_written(shop, updates):
    run_rfm_job(NOW)
    updates.clear()
    # Given one more order for the least recent customer (frequency rank unchanged elsewhere)
    _order("o-late", "c-11", NOW + timedelta(hours=12), 5.0)
    # When the job runs the next day
    result = run_rfm_job(NOW + timedelta(days=1))
    # Then that customer is written, with what changed, and the others only if their own
    # scores moved
    assert "c-11" in updates and result["written"] == len(updates) < len(IDS)
    customer = get_customer("c-11")
    assert customer is not None
    assert customer["rfm"]["r"] == 5 and customer["rfm"]["orders_count"] == 5


def test_given_orders_leave_the_window_when_job_runs_then_scores_are_removed(shop, updates):
    run_rfm_job(NOW)
    updates.clear()
    # When the job runs once every order of c-11 (its newest 223 days old) is past 365 days
    later = NOW + timedelta(days=365 - 223 + 1)
    result = run_rfm_job(later)
    # Then its document is removed (one write) and others are rescored as needed
    customer = get_customer("c-11")
    assert customer is not None and customer["rfm"] is None
    assert result["cleared"] >= 1 and "c-11" in updates


def test_given_an_erased_customer_when_job_runs_then_the_tombstone_gets_no_scores(shop, updates):
    # Given a customer who was erased (their orders stay in the shop's table)
    erase_customer("c-03", NOW - timedelta(days=1))
    # When the job runs
    result = run_rfm_job(NOW)
    # Then the tombstone is neither scored nor written
    assert "c-03" not in updates and result["customers_scored"] == 11
    tombstone = get_customer("c-03")
    assert tombstone is not None and tombstone["rfm"] is None
