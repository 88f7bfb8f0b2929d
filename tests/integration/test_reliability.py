"""Nothing lost, nothing doubled: provider connection failures, throttling backoff, and the
planner catching up on days whose runs all failed."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from lifecycle.campaigns.model import parse_campaign
from lifecycle.campaigns.repository import save_campaign
from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.features.importer import import_customers
from lifecycle.pipeline.planner import MISSED_SEND_WINDOW, PlanSettings, plan_dated
from lifecycle.pipeline.sender import (
    BACKOFF_CAP_SECONDS,
    RetryLaterError,
    SendDependencies,
    process_delivery,
    retry_delay,
)
from lifecycle.store import ledger
from tests.builders import birthday_campaign, customer_doc

KEY = b"reliability-test-key"
SETTINGS = PlanSettings(shards=1, ttl_days=400, ahead_days=1, max_send_delay=timedelta(minutes=15))
T0 = datetime(2027, 3, 14, 0, 0, tzinfo=UTC)
SEND = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
ITEM = "bday-2027#c-1#2027#email"


class FlakySes:
    """SES v2 stand-in that fails the first ``failures`` calls with ``error``."""

    def __init__(self, error: Exception, failures: int = 1) -> None:
        self.error = error
        self.failures = failures
        self.calls = 0
        self.real = client("sesv2")

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return dict(self.real.send_email(**request))


def _planned(aws: Any) -> None:
    save_campaign(parse_campaign(birthday_campaign()), T0)
    lines = [json.dumps(customer_doc("c-1", birthday="1990-03-14", timezone="UTC"))]
    assert import_customers(lines, "customers.jsonl", T0).imported == 1
    plan_dated(T0, KEY, SETTINGS)
    assert ledger.get(ITEM) is not None


def _item(item_id: str) -> ledger.Delivery:
    item = ledger.get(item_id)
    assert item is not None, item_id
    return item


def _deps(sesv2: Any) -> SendDependencies:
    return SendDependencies(settings=get_settings(), key=KEY, sesv2=sesv2)


def _sent_count() -> int:
    from moto.ses.models import ses_backends

    return len(ses_backends["123456789012"]["us-east-1"].sent_messages)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"),
    ],
    ids=["endpoint-connection", "connect-timeout"],
)
def test_given_no_connection_to_ses_when_sending_then_released_and_sent_once_on_retry(aws, error):
    # Given a connection failure before the request left (nothing reached SES)
    _planned(aws)
    ses = FlakySes(error)
    # When the first attempt fails
    with pytest.raises(RetryLaterError):
        process_delivery(ITEM, SEND, _deps(ses))
    # Then the item is queued again (not outcome_unknown) and the retry sends exactly once
    assert _item(ITEM).status == ledger.QUEUED
    assert process_delivery(ITEM, SEND + timedelta(seconds=30), _deps(ses)) == ledger.SENT
    assert process_delivery(ITEM, SEND + timedelta(seconds=60), _deps(ses)) == "duplicate"
    assert _sent_count() == 1


def test_given_read_timeout_from_ses_when_sending_then_failed_outcome_unknown_at_once(aws):
    # Given SES may have received the request (the answer never came)
    _planned(aws)
    ses = FlakySes(ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"))
    # When the attempt fails that way
    outcome = process_delivery(ITEM, SEND, _deps(ses))
    # Then it is final right away and never sent again
    assert outcome == f"failed:{ledger.OUTCOME_UNKNOWN}"
    item = _item(ITEM)
    assert (item.status, item.reason) == (ledger.FAILED, ledger.OUTCOME_UNKNOWN)
    assert "ReadTimeoutError" in (item.error or "")
    assert process_delivery(ITEM, SEND + timedelta(minutes=1), _deps(ses)) == "duplicate"
    assert ses.calls == 1


def test_given_ses_throttling_when_sending_then_retry_later_marked_throttled(aws):
    _planned(aws)
    throttled = ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail"
    )
    ses = FlakySes(throttled, failures=2)
    for attempt in range(2):
        with pytest.raises(RetryLaterError) as raised:
            process_delivery(ITEM, SEND + timedelta(seconds=attempt * 20), _deps(ses))
        assert raised.value.throttled
    assert process_delivery(ITEM, SEND + timedelta(seconds=60), _deps(ses)) == ledger.SENT
    assert _sent_count() == 1


def test_given_five_failed_attempts_when_backing_off_then_they_fit_in_the_send_window():
    for seed in range(50):
        rng = random.Random(seed)
        delays = [retry_delay(count, rng) for count in range(1, 6)]
        assert all(0 < d <= BACKOFF_CAP_SECONDS for d in delays)
        assert delays == sorted(delays) or max(delays) <= BACKOFF_CAP_SECONDS
        assert sum(delays[:4]) < 15 * 60  # the fifth attempt starts inside the window


def test_given_retry_delays_when_jittered_then_not_all_workers_retry_together():
    delays = {retry_delay(3, random.Random(seed)) for seed in range(20)}
    assert len(delays) > 5


# ---------------------------------------------------------------- planner catch-up
def test_given_every_planner_run_of_a_day_failed_when_it_runs_again_then_days_caught_up(aws, clock):
    # Given a campaign activated on Mar 12 at 10:00 UTC, whose planner runs of Mar 13 all
    # failed (nothing planned), and customers with birthdays on Mar 12, 13 and 14
    save_campaign(parse_campaign(birthday_campaign()), datetime(2027, 3, 12, 10, 0, tzinfo=UTC))
    lines = [
        json.dumps(customer_doc("before", birthday="1990-03-12", timezone="UTC")),
        json.dumps(customer_doc("late-tz", birthday="1990-03-13", timezone="Pacific/Honolulu")),
        json.dumps(customer_doc("missed", birthday="1990-03-13", timezone="UTC")),
        json.dumps(customer_doc("today", birthday="1990-03-14", timezone="UTC")),
    ]
    assert import_customers(lines, "customers.jsonl", T0).imported == 4
    # When the planner runs on Mar 13 at 18:00 UTC (late, after the failures)
    report = plan_dated(datetime(2027, 3, 13, 18, 0, tzinfo=UTC), KEY, SETTINGS)
    # Then the activation day and the missed day are planned: what can still go out is
    # queued, what cannot is recorded as missed, and nothing due before activation is planned
    assert report.dates["bday-2027"] == ["2027-03-12", "2027-03-13", "2027-03-14"]
    assert ledger.get("bday-2027#before#2027#email") is None  # Mar 12 09:00Z < activation
    assert _item("bday-2027#missed#2027#email").reason == MISSED_SEND_WINDOW
    assert (
        _item("bday-2027#late-tz#2027#email").status == ledger.QUEUED
    )  # Mar 13 19:00Z: still ahead
    assert _item("bday-2027#today#2027#email").status == ledger.QUEUED
    assert report.created[MISSED_SEND_WINDOW] == 1


def test_given_campaign_activated_after_a_send_time_when_planned_then_that_one_ignored(aws, clock):
    # Given a campaign activated on Mar 14 at 12:00 UTC, after 09:00 UTC birthdays of the day
    save_campaign(parse_campaign(birthday_campaign()), datetime(2027, 3, 14, 12, 0, tzinfo=UTC))
    lines = [
        json.dumps(customer_doc("utc", birthday="1990-03-14", timezone="UTC")),
        json.dumps(customer_doc("la", birthday="1990-03-14", timezone="America/Los_Angeles")),
    ]
    import_customers(lines, "customers.jsonl", T0)
    # When planned right after activation
    plan_dated(datetime(2027, 3, 14, 12, 5, tzinfo=UTC), KEY, SETTINGS)
    # Then the send time before activation is not planned at all (not "missed"), the later one is
    assert ledger.get("bday-2027#utc#2027#email") is None
    assert _item("bday-2027#la#2027#email").status == ledger.QUEUED


def test_given_a_throttled_read_after_the_claim_when_sending_then_released_not_outcome_unknown(
    aws, monkeypatch
):
    # Given the customer read throttles once after the sender claimed the item
    _planned(aws)
    from lifecycle.pipeline import sender as sender_module

    real = sender_module.get_customer
    calls = {"n": 0}

    def flaky(customer_id: str) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}},
                "GetItem",
            )
        return real(customer_id)

    monkeypatch.setattr(sender_module, "get_customer", flaky)
    ses = FlakySes(RuntimeError("unused"), failures=0)
    # When the attempt fails before the provider call
    with pytest.raises(RetryLaterError):
        process_delivery(ITEM, SEND, _deps(ses))
    # Then the item is queued again and the next attempt sends it once
    assert _item(ITEM).status == ledger.QUEUED
    assert process_delivery(ITEM, SEND + timedelta(seconds=20), _deps(ses)) == ledger.SENT
    assert _sent_count() == 1


def test_given_one_campaign_failing_when_planning_then_others_planned_and_a_retry_resumes(
    aws, clock, monkeypatch
):
    # Given two campaigns, one of which cannot be planned on Mar 15 (a throttled read)
    from lifecycle.pipeline import planner as planner_module
    from lifecycle.pipeline.planner import PlanningIncompleteError
    from lifecycle.store.campaigns import get_record

    save_campaign(parse_campaign(birthday_campaign("bday-a")), T0)
    save_campaign(parse_campaign(birthday_campaign("bday-b")), T0)
    lines = [
        json.dumps(customer_doc("c-14", birthday="1990-03-14", timezone="UTC")),
        json.dumps(customer_doc("c-15", birthday="1990-03-15", timezone="UTC")),
    ]
    import_customers(lines, "customers.jsonl", T0)
    real = planner_module.candidates

    def failing(campaign: Any, day: Any, partition: str, read: Any) -> Any:
        if campaign.campaign_id == "bday-b" and day.isoformat() == "2027-03-15":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}},
                "Query",
            )
        return real(campaign, day, partition, read)

    monkeypatch.setattr(planner_module, "candidates", failing)
    # When the planner runs, the run fails, but what could be planned is planned
    with pytest.raises(PlanningIncompleteError, match="bday-b"):
        plan_dated(T0, KEY, SETTINGS)
    assert _item("bday-a#c-15#2027#email").status == ledger.QUEUED
    assert _item("bday-b#c-14#2027#email").status == ledger.QUEUED
    assert ledger.get("bday-b#c-15#2027#email") is None
    record = get_record("bday-b")
    assert record is not None and record.planned_through == "2027-03-14"
    # Then a retry after the fault resumes after the last complete date
    monkeypatch.setattr(planner_module, "candidates", real)
    report = plan_dated(T0 + timedelta(minutes=1), KEY, SETTINGS)
    assert report.dates == {"bday-a": [], "bday-b": ["2027-03-15"]}
    assert _item("bday-b#c-15#2027#email").status == ledger.QUEUED
