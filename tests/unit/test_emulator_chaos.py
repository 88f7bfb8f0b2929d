"""Chaos mode: the spec is parsed strictly; faults hit handlers' calls only, repeatably."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from emulator.boundary import AwsBoundary
from emulator.chaos import Chaos, ChaosSpec, WorkerCrash
from emulator.cli import main
from emulator.config import InputError
from emulator.queues import Queue, SimulatedQueues

EXAMPLE = "ses_throttle=0.3,ses_transient=0.05,crash_after_send=0.02,ddb_throttle=0.05,seed=7"
T0 = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


def test_given_the_example_spec_when_parsed_then_every_rate_and_the_seed():
    spec = ChaosSpec.parse(EXAMPLE)
    assert (spec.ses_throttle, spec.ses_transient, spec.crash_after_send) == (0.3, 0.05, 0.02)
    assert (spec.ddb_throttle, spec.seed) == (0.05, 7)
    assert ChaosSpec.parse(spec.text()) == spec
    assert ChaosSpec.parse(" seed=1 , ddb_throttle = 1 ").ddb_throttle == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ses_throttle=0.3", "seed is missing"),
        ("bogus=0.1,seed=1", "unknown key 'bogus'"),
        ("ses_throttle=1.5,seed=1", "outside 0..1"),
        ("ses_throttle=-0.1,seed=1", "outside 0..1"),
        ("ses_throttle=nan,seed=1", "outside 0..1"),
        ("ses_throttle=lots,seed=1", "not a number"),
        ("seed=x", "seed must be an integer"),
        ("seed=1,seed=2", "given twice"),
        ("seed=1,,ses_throttle=0.1", "empty item"),
        ("seed", "not key=value"),
        ("", "empty item"),
    ],
)
def test_given_a_bad_spec_when_parsed_then_input_error_naming_the_problem(text, message):
    with pytest.raises(InputError, match=message):
        ChaosSpec.parse(text)


def test_given_a_bad_spec_on_the_command_line_then_error_and_exit_2(tmp_path: Path, capsys):
    args = ["--customers", "c", "--campaigns", "k", "--start", "2027-03-01", "--days", "1"]
    code = main(["simulate", *args, "--out", str(tmp_path), "--chaos", "ses_throttle=2,seed=1"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: --chaos: ses_throttle=2 is outside 0..1")
    assert main(["demo", "--out", str(tmp_path), "--chaos", "ses_throttle=0.1"]) == 2
    assert "seed is missing" in capsys.readouterr().err


class FakeClient:
    """Enough of a botocore client for :meth:`Chaos.call`."""

    class meta:  # noqa: N801 - botocore's attribute name
        endpoint_url = "https://email.us-east-1.amazonaws.com"

    class exceptions:  # noqa: N801
        @staticmethod
        def from_code(code: str) -> type[ClientError]:
            return ClientError


def draws(spec: str, calls: int = 200) -> list[str]:
    chaos = Chaos(ChaosSpec.parse(spec))
    outcomes = []
    for _ in range(calls):
        try:
            chaos.call(FakeClient(), "sesv2", "SendEmail", lambda: {"MessageId": "m"})
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
        except EndpointConnectionError:
            outcomes.append("unreachable")
        except WorkerCrash:
            outcomes.append("crash")
    return outcomes


def test_given_a_seed_when_drawn_twice_then_the_same_faults_at_the_same_calls():
    spec = "ses_throttle=0.3,ses_transient=0.1,crash_after_send=0.1,seed=11"
    first = draws(spec)
    assert first == draws(spec)
    assert first != draws(spec.replace("seed=11", "seed=12"))
    assert {"ok", "TooManyRequestsException", "unreachable", "crash"} <= set(first)


def test_given_crash_after_send_then_the_provider_was_called_and_the_crash_escapes_except():
    chaos = Chaos(ChaosSpec.parse("crash_after_send=1,seed=1"))
    sent: list[int] = []

    def publish() -> dict[str, Any]:
        sent.append(1)
        return {"MessageId": "m"}

    with pytest.raises(WorkerCrash):
        try:
            chaos.call(FakeClient(), "sns", "Publish", publish)
        except Exception:  # what handlers catch: not a crash
            pytest.fail("a crash must not be an Exception")
    assert sent == [1]
    assert chaos.injected["crash_after_send"] == 1


@pytest.fixture
def moto_boundary() -> Iterator[tuple[Any, AwsBoundary, SimulatedQueues]]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        sqs = session.client("sqs")
        url = sqs.create_queue(QueueName="lcm-SendQueue")["QueueUrl"]
        other = sqs.create_queue(QueueName="lcm-Other")["QueueUrl"]
        session.client("dynamodb").create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        queues = SimulatedQueues(lambda: T0)
        queues.add(Queue("SendQueue", url, "arn:aws:sqs:us-east-1:123456789012:lcm-SendQueue"))
        boundary = AwsBoundary(queues, Chaos(ChaosSpec.parse("ddb_throttle=1,seed=3")))
        boundary.install()
        try:
            yield session, boundary, queues
        finally:
            boundary.uninstall()
        assert other


def test_given_the_boundary_when_a_handler_sends_with_delay_then_the_simulated_queue_has_it(
    moto_boundary,
):
    session, _, queues = moto_boundary
    sqs = session.client("sqs")
    url = queues["SendQueue"].url
    answer = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "0", "MessageBody": "x", "DelaySeconds": 900}]
    )
    assert answer["Successful"][0]["Id"] == "0"
    assert len(queues["SendQueue"]) == 1
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    assert counts["QueueArn"].endswith(":lcm-SendQueue")  # static attributes: moto's
    with pytest.raises(ClientError) as error:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert error.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_given_ddb_throttle_when_called_outside_or_inside_a_handler_then_only_inside_fails(
    moto_boundary,
):
    session, boundary, _ = moto_boundary
    dynamodb = session.client("dynamodb")
    boundary.chaos_on = True
    dynamodb.put_item(TableName="t", Item={"k": {"S": "runner"}})  # the runner's own call
    with boundary.handler("SenderFunction"), pytest.raises(ClientError) as error:
        dynamodb.get_item(TableName="t", Key={"k": {"S": "runner"}})
    assert error.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    boundary.chaos_on = False
    with boundary.handler("SenderFunction"):
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "runner"}})["Item"]


def test_given_ddb_throttle_when_pynamodb_calls_then_it_fails_too(moto_boundary):
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.exceptions import GetError
    from pynamodb.models import Model

    class Item(Model):
        class Meta:
            table_name = "t"
            region = "us-east-1"

        k = UnicodeAttribute(hash_key=True)

    _, boundary, _ = moto_boundary
    boundary.chaos_on = True
    with boundary.handler("SenderFunction"), pytest.raises(GetError) as error:
        Item.get("x")
    assert error.value.cause_response_code == "ProvisionedThroughputExceededException"


def test_given_a_boundary_when_uninstalled_then_botocore_as_before_and_never_two_at_once():
    from botocore.client import BaseClient

    before = BaseClient._make_api_call
    boundary = AwsBoundary(SimulatedQueues(lambda: T0))
    boundary.install()
    try:
        assert BaseClient._make_api_call is not before
        with pytest.raises(RuntimeError, match="still installed"):
            AwsBoundary(SimulatedQueues(lambda: T0)).install()
    finally:
        boundary.uninstall()
    assert BaseClient._make_api_call is before
