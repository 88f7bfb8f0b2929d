"""Corpus: the two SQS workers, the sender and the plan worker, with SQS batch events.

Each case is the body of one SQS record, sent in a batch with a harmless record (a delivery
id nobody planned, resp. a task for a campaign that does not exist). Outcomes:

* :class:`BatchFailure`: only that record in ``batchItemFailures`` (retried, then the DLQ,
  where the reconciler reports a body without a delivery id as malformed);
* :class:`Ignored`: no failure, nothing sent or planned (the record is deleted);
* :class:`Accepted`: the sender sent the delivery (``sent``), resp. the worker planned the
  customers of the task's partition.

Sender: birthday campaign ``bday`` (09:00 UTC), customers ``s-01``... born on 14 March, planned
once; ``DID`` in a body is a delivery of the case's own. Plan worker: holiday campaign
``xmas`` (Christmas Day, DE) and two customers in partition ``DE#3``.
"""

from __future__ import annotations

import copy
import json
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import campaign_doc
from tests.corpus.conftest import T0
from tests.corpus.corpus import Accepted, BatchFailure, Case, Ignored, ids
from tests.events import load_event

ENTRY_POINTS = {
    "sender (SQS delivery messages)": "SENDER",
    "plan worker (SQS plan tasks)": "PLAN_TASKS",
}
SENT: Accepted = Accepted({"status": "sent"})
DID = "bday#CUSTOMER#2027#email"


def _delivery(value: Any) -> str:
    return json.dumps({"delivery_id": value})


SENDER: list[Case] = [
    Case("body-empty", "", BatchFailure()),
    Case("body-whitespace", " \n ", BatchFailure()),
    Case("body-null", "null", BatchFailure()),
    Case("body-a-list", f'["{DID}"]', BatchFailure()),
    Case("body-a-number", "5", BatchFailure()),
    Case("body-without-delivery-id", '{"id": "x"}', BatchFailure()),
    Case("body-base64-of-json", "eyJkZWxpdmVyeV9pZCI6ICJ4In0=", BatchFailure()),
    Case("body-nested-5000-deep", "[" * 5000 + "]" * 5000, BatchFailure()),
    Case("delivery-id-empty", _delivery(""), BatchFailure()),
    # The reconciler calls these "dead letter without a delivery id"; the sender reads
    # str(value) ("None", "5", ...), finds no such delivery and deletes the message today.
    Case("delivery-id-null", _delivery(None), BatchFailure()),
    Case("delivery-id-a-number", _delivery(5), BatchFailure()),
    Case("delivery-id-an-object", _delivery({"id": DID}), BatchFailure()),
    Case("delivery-id-nan", '{"delivery_id": NaN}', BatchFailure()),
    Case("delivery-id-unknown", _delivery("bday#nobody#2027#email"), Ignored()),
    Case("delivery-id-with-nul", _delivery("bday#s\u0000#2027#email"), Ignored()),
    Case("extra-fields-in-body", json.dumps({"delivery_id": DID, "priority": "high"}), SENT),
    Case("body-padded-with-whitespace", "\n  " + _delivery(DID) + "  \n", SENT),
    Case("delivery-id-unicode-escapes", _delivery(DID).replace("#", "\\u0023"), SENT),
    Case("duplicate-key-last-wins", '{"delivery_id": "x", "delivery_id": "' + DID + '"}', SENT),
]


def _task(**fields: Any) -> str:
    task = {"campaign_id": "xmas", "date": "2027-12-25", "partition": "DE#3", **fields}
    return json.dumps({k: v for k, v in task.items() if v is not None})


PLANNED = Accepted({"planned": 2})

PLAN_TASKS: list[Case] = [
    Case("task-empty", "", BatchFailure()),
    Case("task-a-list", "[]", BatchFailure()),
    Case("task-nested-3000-deep", "{" * 3000, BatchFailure()),
    Case(
        "task-without-date",
        json.dumps({"campaign_id": "xmas", "partition": "DE#3"}),
        BatchFailure(),
    ),
    Case("date-a-number", _task(date=20271225), BatchFailure()),
    Case("date-month-13", _task(date="2027-13-25"), BatchFailure()),
    Case("date-with-time", _task(date="2027-12-25T00:00:00"), BatchFailure()),
    Case("partition-a-number", _task(partition=3), BatchFailure()),
    Case("partition-nan", _task().replace('"DE#3"', "NaN"), BatchFailure()),
    Case("campaign-id-empty", _task(campaign_id=""), BatchFailure()),
    Case("ignore-before-unreadable", _task(ignore_before="soon"), BatchFailure()),
    Case("campaign-unknown", _task(campaign_id="nope"), Ignored()),
    Case("campaign-draft", _task(campaign_id="xmas-draft"), Ignored()),
    Case("partition-other-country", _task(partition="XX#3"), Ignored()),
    Case("partition-shard-99", _task(partition="DE#99"), Ignored()),
    Case("date-not-a-holiday", _task(date="2027-12-24"), Ignored()),
    Case("extra-fields-in-task", _task(priority="high", note={"a": [1, 2]}), PLANNED),
]


# --------------------------------------------------------------------------- the runner
def _record(sample: str, message_id: str, body: str) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(load_event(sample)["Records"][0])
    record["messageId"] = message_id
    record["body"] = body
    return record


def _ids_in_shard(shard: int, count: int) -> list[str]:
    found: list[str] = []
    n = 0
    while len(found) < count:
        n += 1
        if zlib.crc32(f"de-{n}".encode()) % 16 == shard:
            found.append(f"de-{n}")
    return found


IN_SHARD = _ids_in_shard(3, 2)


@pytest.fixture(scope="module")
def world(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    from lifecycle.features.importer import import_campaigns, import_customers

    sim_clock.set(T0)
    campaigns = [
        campaign_doc("bday"),
        campaign_doc(
            "xmas", occasion={"type": "holiday", "countries": ["DE"], "holidays": ["Christmas Day"]}
        ),
        campaign_doc(
            "xmas-draft",
            status="draft",
            occasion={"type": "holiday", "countries": ["DE"], "holidays": ["Christmas Day"]},
        ),
    ]
    assert not import_campaigns(json.dumps(campaigns), "campaigns.json", T0).rejected
    customers = [
        {"customer_id": f"s-{n:02d}", "email": f"s-{n:02d}@example.com", "birthday": "1990-03-14"}
        for n in range(1, len(SENDER) + 1)
    ] + [{"customer_id": cid, "email": f"{cid}@example.com", "country": "DE"} for cid in IN_SHARD]
    lines = [json.dumps({**c, "timezone": "UTC", "consent": {"email": True}}) for c in customers]
    assert not import_customers(lines, "customers.jsonl", T0).rejected
    planned = handler("PlannerFunction")(load_event("planner/scheduled.json"))
    assert planned["created"].get("queued", 0) >= len(SENDER)
    return handler


@pytest.mark.parametrize("case", SENDER, ids=ids(SENDER))
def test_sender_case(case: Case, world: Any, sim_clock: Any) -> None:
    from lifecycle.store import ledger

    customer = f"s-{SENDER.index(case) + 1:02d}"
    delivery_id = DID.replace("CUSTOMER", customer)
    body = case.input.replace("CUSTOMER", customer)
    bad = _record("sender/sqs_batch.json", f"bad-{case.id}", body)
    harmless = _record(
        "sender/sqs_batch.json", f"ok-{case.id}", _delivery(f"bday#no-{case.id}#2027#email")
    )
    sim_clock.set(datetime(2027, 3, 14, 9, 2, tzinfo=UTC))

    result = world("SenderFunction")({"Records": [bad, harmless]})

    failed = [failure["itemIdentifier"] for failure in result["batchItemFailures"]]
    item = ledger.get(delivery_id)
    expect = case.expect
    if isinstance(expect, BatchFailure):
        assert failed == [bad["messageId"]], result
    else:
        assert failed == [], result
    if isinstance(expect, Accepted):
        assert item is not None and item.status == expect.values["status"], item
    else:
        assert item is not None and item.status == "queued", item  # its own delivery untouched


@pytest.mark.parametrize("case", PLAN_TASKS, ids=ids(PLAN_TASKS))
def test_plan_worker_case(case: Case, world: Any, sim_clock: Any) -> None:
    from lifecycle.store import ledger

    bad = _record("plan_worker/sqs_task.json", f"bad-{case.id}", case.input)
    harmless = _record("plan_worker/sqs_task.json", f"ok-{case.id}", _task(campaign_id="absent"))
    sim_clock.set(datetime(2027, 12, 24, 0, 0, tzinfo=UTC))
    for cid in IN_SHARD:  # each case starts from nothing planned
        item = ledger.get(f"xmas#{cid}#2027-12-25#email")
        if item is not None:
            from lifecycle.store.models import DeliveryModel

            DeliveryModel(delivery_id=item.delivery_id).delete()

    result = world("PlanWorkerFunction")({"Records": [bad, harmless]})

    failed = [failure["itemIdentifier"] for failure in result["batchItemFailures"]]
    planned = [cid for cid in IN_SHARD if ledger.get(f"xmas#{cid}#2027-12-25#email") is not None]
    expect = case.expect
    if isinstance(expect, BatchFailure):
        assert failed == [bad["messageId"]], result
        assert planned == []
    elif isinstance(expect, Ignored):
        assert failed == [], result
        assert planned == []
    else:
        assert isinstance(expect, Accepted)
        assert failed == [], result
        assert len(planned) == expect.values["planned"]
