"""The runner's SQS queues on the simulated clock: delays, visibility, receive counts, redrive."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from emulator.queues import Queue, SimulatedQueues, SqsError

T0 = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: int) -> None:
        self.at += timedelta(seconds=seconds)


def make_queues(max_receive_count: int | None = 3) -> tuple[SimulatedQueues, Clock]:
    clock = Clock()
    queues = SimulatedQueues(clock)
    base = "https://sqs.us-east-1.amazonaws.com/123456789012"
    queues.add(Queue("DLQ", f"{base}/lcm-DLQ", "arn:aws:sqs:us-east-1:123456789012:lcm-DLQ"))
    queues.add(
        Queue(
            "Work",
            f"{base}/lcm-Work",
            "arn:aws:sqs:us-east-1:123456789012:lcm-Work",
            visibility_timeout=360,
            max_receive_count=max_receive_count,
            dead_letter="DLQ" if max_receive_count else None,
        )
    )
    return queues, clock


def test_given_delay_seconds_when_received_then_invisible_until_the_simulated_delay_passed():
    queues, clock = make_queues()
    work = queues["Work"]
    queues.api(
        "SendMessageBatch",
        {
            "QueueUrl": work.url,
            "Entries": [
                {"Id": "0", "MessageBody": "a"},
                {"Id": "1", "MessageBody": "b", "DelaySeconds": 60},
            ],
        },
    )
    assert [m.body for m in queues.receive(work, 10)] == ["a"]
    assert work.next_visible() == T0 + timedelta(seconds=60)
    clock.advance(59)
    assert queues.receive(work, 10) == []
    clock.advance(1)
    assert [m.body for m in queues.receive(work, 10)] == ["b"]


def test_given_a_received_message_when_not_deleted_then_back_after_the_visibility_timeout():
    queues, clock = make_queues()
    work = queues["Work"]
    queues.send(work, "a")
    (first,) = queues.receive(work, 10)
    assert first.receive_count == 1
    clock.advance(359)
    assert queues.receive(work, 10) == []
    clock.advance(1)
    (again,) = queues.receive(work, 10)
    assert again.receive_count == 2 and again.message_id == first.message_id


def test_given_change_visibility_when_the_handler_backs_off_then_visible_at_its_delay():
    queues, clock = make_queues()
    work = queues["Work"]
    queues.send(work, "a")
    (message,) = queues.receive(work, 10)
    queues.api(
        "ChangeMessageVisibility",
        {"QueueUrl": work.url, "ReceiptHandle": message.receipt_handle, "VisibilityTimeout": 7},
    )
    assert work.next_visible() == T0 + timedelta(seconds=7)
    clock.advance(7)
    assert len(queues.receive(work, 10)) == 1


def test_given_a_visible_message_when_changing_its_visibility_then_not_in_flight_error():
    queues, clock = make_queues()
    work = queues["Work"]
    queues.send(work, "a")
    (message,) = queues.receive(work, 10, visibility_timeout=10)
    clock.advance(10)
    with pytest.raises(SqsError) as error:
        queues.change_visibility(work, str(message.receipt_handle), 30)
    assert error.value.code == "AWS.SimpleQueueService.MessageNotInflight"


def test_given_an_older_receipt_handle_when_deleting_then_success_but_nothing_deleted():
    queues, clock = make_queues()
    work = queues["Work"]
    queues.send(work, "a")
    (first,) = queues.receive(work, 10, visibility_timeout=5)
    old_handle = str(first.receipt_handle)
    clock.advance(5)
    (second,) = queues.receive(work, 10)
    queues.delete(work, old_handle)
    assert len(work) == 1
    queues.delete(work, str(second.receipt_handle))
    assert len(work) == 0


def test_given_max_receive_count_when_received_again_then_moved_to_the_dead_letter_queue():
    queues, clock = make_queues(max_receive_count=3)
    work = queues["Work"]
    sent = queues.send(work, "a")
    for _ in range(3):
        assert len(queues.receive(work, 10)) == 1
        clock.advance(360)
    assert queues.receive(work, 10) == []
    assert len(work) == 0
    (dead,) = queues.receive(queues["DLQ"], 10)
    assert dead.message_id == sent.message_id and dead.body == "a"
    assert work.counts["dead_lettered"] == 1


def test_given_bad_batches_when_sent_then_refused_like_sqs():
    queues, _ = make_queues()
    url = queues["Work"].url
    too_many = [{"Id": str(n), "MessageBody": "x"} for n in range(11)]
    with pytest.raises(SqsError, match="TooManyEntries"):
        queues.api("SendMessageBatch", {"QueueUrl": url, "Entries": too_many})
    same_ids = [{"Id": "1", "MessageBody": "x"}, {"Id": "1", "MessageBody": "y"}]
    with pytest.raises(SqsError, match="NotDistinct"):
        queues.api("SendMessageBatch", {"QueueUrl": url, "Entries": same_ids})
    answer = queues.api(
        "SendMessageBatch",
        {
            "QueueUrl": url,
            "Entries": [
                {"Id": "ok", "MessageBody": "x", "DelaySeconds": 900},
                {"Id": "late", "MessageBody": "y", "DelaySeconds": 901},
            ],
        },
    )
    assert answer is not None
    assert [s["Id"] for s in answer["Successful"]] == ["ok"]
    assert answer["Failed"][0]["Id"] == "late"
    assert answer["Failed"][0]["Code"] == "InvalidParameterValue"


def test_given_an_unknown_queue_url_when_called_then_left_to_moto():
    queues, _ = make_queues()
    call = {"QueueUrl": "https://x/lcm-Other", "MessageBody": "a"}
    assert queues.api("SendMessage", call) is None


def test_given_two_runs_when_sending_then_the_same_message_ids_in_the_same_order():
    ids = []
    for _ in range(2):
        queues, _ = make_queues()
        ids.append([queues.send(queues["Work"], body).message_id for body in "abc"])
    assert ids[0] == ids[1] and len(set(ids[0])) == 3


def test_given_retention_passed_when_received_then_the_message_expired():
    queues, clock = make_queues()
    work = queues["Work"]
    work.retention_seconds = 60
    queues.send(work, "a")
    clock.advance(60)
    assert queues.receive(work, 10) == []
    assert work.counts["expired"] == 1


def test_given_receive_with_attributes_then_the_shape_lambda_reads():
    queues, clock = make_queues()
    work = queues["Work"]
    queues.send(work, '{"delivery_id": "x"}')
    clock.advance(2)
    answer = queues.api(
        "ReceiveMessage",
        {"QueueUrl": work.url, "MaxNumberOfMessages": 10, "AttributeNames": ["All"]},
    )
    assert answer is not None
    (message,) = answer["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert message["Attributes"]["SentTimestamp"] == str(int(T0.timestamp() * 1000))
    assert message["MD5OfBody"] == hashlib.md5(b'{"delivery_id": "x"}').hexdigest()  # noqa: S324
    assert queues.attributes(work)["ApproximateNumberOfMessagesNotVisible"] == "1"
