"""The sender reads each campaign once per invocation, and a pause stops the next one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.client import BaseClient

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.campaigns.repository import (
    campaigns_cached,
    change_status,
    create_campaign,
    load_campaign,
)
from lifecycle.rules.records import parse_customer
from lifecycle.store import ledger
from lifecycle.store.customers import upsert_customer
from tests.builders import campaign_doc, customer_doc, email_content
from tests.events import load_event

T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
SEND_TIME = datetime(2027, 3, 14, 9, 2, tzinfo=UTC)


@pytest.fixture
def campaign_reads(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The campaign id of every GetItem on the Campaigns table."""
    table = aws.physical["CampaignsTable"]
    seen: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: Any, name: str, params: dict[str, Any]) -> Any:
        if name == "GetItem" and params.get("TableName") == table:
            seen.append(params["Key"]["campaign_id"]["S"])
        return original(self, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield seen


@pytest.fixture
def planned(aws: Any, clock: Any) -> Any:
    """Two birthday deliveries of one campaign, due 2027-03-14 09:00 UTC (the fixture batch)."""
    doc = campaign_doc(
        "bday-2027", status="draft", content=email_content("Happy birthday!", "Hi {{ first_name }}")
    )
    version = create_campaign(doc, T0).version
    change_status("bday-2027", "active", T0, version)
    for cid in ("c-001", "c-002"):
        upsert_customer(
            parse_customer(customer_doc(cid, birthday="1990-03-14", timezone="UTC")), T0
        )
    clock.set(T0)
    report = load_handler(aws.functions["PlannerFunction"])(
        load_event("planner/scheduled.json"), FakeLambdaContext(function_name="planner")
    )
    assert report["created"] == {"queued": 2}
    clock.set(SEND_TIME)
    return load_handler(aws.functions["SenderFunction"])


def _status(delivery_id: str) -> tuple[str, str | None]:
    item = ledger.get(delivery_id)
    assert item is not None
    return item.status, item.reason


def test_given_a_batch_of_one_campaign_when_sent_then_the_campaign_is_read_once(
    planned, campaign_reads
):
    # When the sender handles the fixture batch (two deliveries of bday-2027)
    result = planned(load_event("sender/sqs_batch.json"), FakeLambdaContext(function_name="s"))
    # Then both are sent and the campaign document was read once, not once per message
    assert result == {"batchItemFailures": []}
    assert _status("bday-2027#c-001#2027#email") == ("sent", None)
    assert _status("bday-2027#c-002#2027#email") == ("sent", None)
    assert campaign_reads == ["bday-2027"]


def test_given_a_pause_after_an_invocation_when_the_next_runs_then_it_sees_the_pause(
    planned, campaign_reads
):
    event = load_event("sender/sqs_batch.json")
    first, second = dict(event), dict(event)
    first["Records"], second["Records"] = event["Records"][:1], event["Records"][1:]
    # Given one invocation that sent c-001 (and cached the active campaign while it ran)
    assert planned(first, FakeLambdaContext(function_name="s")) == {"batchItemFailures": []}
    # When the campaign is paused and the next invocation handles c-002
    change_status("bday-2027", "paused", SEND_TIME, 2)
    assert planned(second, FakeLambdaContext(function_name="s")) == {"batchItemFailures": []}
    # Then c-002 is skipped: nothing cached survives an invocation
    assert _status("bday-2027#c-001#2027#email") == ("sent", None)
    assert _status("bday-2027#c-002#2027#email") == ("skipped", "campaign_inactive")
    assert campaign_reads.count("bday-2027") >= 2


def test_given_no_cache_block_when_loaded_twice_then_read_twice(planned, campaign_reads):
    campaign_reads.clear()
    load_campaign("bday-2027")
    load_campaign("bday-2027")
    assert campaign_reads == ["bday-2027", "bday-2027"]
    campaign_reads.clear()
    with campaigns_cached():
        assert load_campaign("nope") is None
        assert load_campaign("nope") is None  # an unknown id is cached too
        with campaigns_cached():  # nested: the same cache
            assert load_campaign("bday-2027") is not None
        assert load_campaign("bday-2027") is not None
    assert campaign_reads == ["nope", "bday-2027"]
    with pytest.raises(RuntimeError), campaigns_cached():
        load_campaign("bday-2027")
        raise RuntimeError("handler failed")
    load_campaign("bday-2027")  # the failed block left no cache behind
    assert campaign_reads == ["nope", "bday-2027", "bday-2027", "bday-2027"]
