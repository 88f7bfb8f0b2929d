"""Only a failed write condition is a lost race; any other DynamoDB error propagates (moto).

Errors are injected below PynamoDB, as botocore ``ClientError``s, so PynamoDB wraps them the
way it wraps real ones (``UpdateError``/``PutError`` with ``cause_response_code``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, UpdateError

from lifecycle.features.erasure import erase_customer
from lifecycle.features.importer import import_customers
from lifecycle.store import dispatch_cursors, ledger
from lifecycle.store.customers import (
    claim_survey_slot,
    get_customer,
    record_activity,
    record_unsubscribe,
    store_nps_group,
    store_rfm,
)
from lifecycle.store.models import CustomerModel
from tests.builders import customer_doc

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
THROTTLED = "ProvisionedThroughputExceededException"
CONDITION = "ConditionalCheckFailedException"


@pytest.fixture
def inject(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """``inject(operation, code)``: every later ``operation`` call fails with ``code``."""

    def start(operation: str, code: str) -> None:
        original = BaseClient._make_api_call

        def failing(self: Any, name: str, params: dict[str, Any]) -> Any:
            if name == operation:
                raise ClientError({"Error": {"Code": code, "Message": "injected"}}, name)
            return original(self, name, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", failing)

    return start


@pytest.fixture
def customer(aws: Any) -> str:
    record = customer_doc(
        "c-1",
        timezone="UTC",
        consent={"email": True, "sms": False},
        last_active_at="2027-02-01T10:00:00Z",
    )
    assert not import_customers([json.dumps(record)], "customers.jsonl", T0).rejected
    return "c-1"


CUSTOMER_WRITES: dict[str, tuple[Callable[[str], Any], Any]] = {
    "claim_survey_slot": (lambda cid: claim_survey_slot(cid, T0, 30, "s-1"), False),
    "record_unsubscribe": (lambda cid: record_unsubscribe(cid, "email", T0), False),
    "record_activity": (lambda cid: record_activity(cid, T0), "stale"),
    "store_rfm": (lambda cid: store_rfm(cid, {"segment": "new"}), False),
    "store_nps_group": (lambda cid: store_nps_group(cid, "promoter"), None),
}


@pytest.mark.parametrize("name", sorted(CUSTOMER_WRITES))
def test_given_throttled_customer_write_when_called_then_error_propagates(customer, inject, name):
    write, _ = CUSTOMER_WRITES[name]
    inject("UpdateItem", THROTTLED)
    with pytest.raises(UpdateError) as raised:
        write(customer)
    assert raised.value.cause_response_code == THROTTLED


@pytest.mark.parametrize("name", sorted(CUSTOMER_WRITES))
def test_given_failed_condition_on_customer_write_when_called_then_lost_race_result(
    customer, inject, name
):
    write, lost = CUSTOMER_WRITES[name]
    inject("UpdateItem", CONDITION)
    assert write(customer) == lost


def test_given_survey_sent_recently_when_slot_claimed_then_false_without_injection(customer):
    assert claim_survey_slot(customer, T0, 30, "s-1") is True
    assert claim_survey_slot(customer, T0 + timedelta(days=1), 30, "s-1") is True  # same survey
    assert claim_survey_slot(customer, T0 + timedelta(days=1), 30, "s-2") is False
    assert claim_survey_slot(customer, T0 + timedelta(days=31), 30, "s-2") is True
    assert claim_survey_slot("nobody", T0, 30, "s-3") is False


def test_given_unknown_customer_when_scores_stored_then_nothing_created(aws):
    assert store_rfm("nobody", {"segment": "new"}) is False
    store_nps_group("nobody", "promoter")
    assert get_customer("nobody") is None


def _planned(customer_id: str, skip_reason: str | None = None) -> ledger.PlannedDelivery:
    return ledger.PlannedDelivery(
        campaign_id="camp",
        customer_id=customer_id,
        occurrence="2027-03-01",
        occasion="birthday",
        channel="email",
        deliver_at=T0,
        local_send_time=T0,
        timezone="UTC",
        context={"age": 30},
        skip_reason=skip_reason,
    )


def test_given_throttled_ledger_writes_when_called_then_errors_propagate(aws, inject):
    planned = _planned("c-1")
    assert ledger.create(planned, T0, shards=4, ttl_days=30) is True
    item = ledger.get(planned.delivery_id)
    assert item is not None
    (cursor,) = dispatch_cursors.cursors(1)
    inject("UpdateItem", THROTTLED)
    with pytest.raises(UpdateError):
        dispatch_cursors.advance(cursor, ledger.slot(item.deliver_at, item.delivery_id))
    with pytest.raises(UpdateError):
        ledger.claim(item, T0, lease_seconds=60)
    with pytest.raises(UpdateError):
        ledger.mark_sent_ahead(item, T0)
    inject("PutItem", THROTTLED)
    with pytest.raises(PutError):
        ledger.create(_planned("c-2"), T0, shards=4, ttl_days=30)


def test_given_ledger_conditions_fail_when_called_then_false_or_conflict(aws):
    planned = _planned("c-1")
    assert ledger.create(planned, T0, shards=4, ttl_days=30) is True
    assert ledger.create(planned, T0, shards=4, ttl_days=30) is False
    (cursor,) = dispatch_cursors.cursors(1)
    assert (cursor.slot, cursor.version) == (None, 0)
    assert dispatch_cursors.advance(cursor, "2027-03-01T00:00:00Z#x") is True
    assert (
        dispatch_cursors.advance(cursor, "2027-03-01T00:00:00Z#y") is False
    )  # another firing moved it
    (moved,) = dispatch_cursors.cursors(1)
    assert (moved.slot, moved.version) == ("2027-03-01T00:00:00Z#x", 1)
    assert dispatch_cursors.advance(moved, "2027-03-01T00:00:00Z#y") is True
    item = ledger.get(planned.delivery_id)
    assert item is not None
    ledger.claim(item, T0, lease_seconds=60)
    stale = ledger.get(planned.delivery_id)
    assert stale is not None
    with pytest.raises(ledger.LedgerConflictError):
        ledger.claim(stale, T0, lease_seconds=60)


def test_given_throttled_redaction_when_customer_erased_then_error_propagates(customer, inject):
    assert ledger.create(_planned(customer, "no_consent"), T0, shards=4, ttl_days=30)
    inject("UpdateItem", THROTTLED)
    with pytest.raises(UpdateError):
        erase_customer(customer, T0)


def test_given_delivery_gone_when_customer_erased_then_it_is_skipped(customer, inject):
    planned = _planned(customer, "no_consent")
    assert ledger.create(planned, T0, shards=4, ttl_days=30)
    inject("UpdateItem", CONDITION)  # as if the item expired between the query and the update
    report = erase_customer(customer, T0)
    assert (report.customer_found, report.deliveries_redacted) == (True, 0)
    item = ledger.get(planned.delivery_id)
    assert item is not None and item.context == {"age": 30}


def test_given_throttled_import_when_activity_written_then_error_propagates(customer, inject):
    record = {"customer_id": customer, "timezone": "UTC", "last_active_at": "2027-02-20T10:00:00Z"}
    inject("UpdateItem", THROTTLED)
    with pytest.raises(UpdateError):
        import_customers([json.dumps(record)], "customers.jsonl", T0)


def test_given_older_activity_in_import_when_imported_then_newer_activity_kept(customer):
    record = {
        "customer_id": customer,
        "email": "new@example.com",
        "timezone": "UTC",
        "last_active_at": "2027-01-01T10:00:00Z",
    }
    assert import_customers([json.dumps(record)], "customers.jsonl", T0).imported == 1
    stored = CustomerModel.get(customer)
    assert (stored.email, stored.last_active_at) == ("new@example.com", "2027-02-01T10:00:00Z")
