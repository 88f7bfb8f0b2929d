"""The template's SQS queues on the simulated clock.

moto's SQS measures ``DelaySeconds``, visibility timeouts and retention in real time, which a
simulated clock cannot use: a message delayed by 60 s would stay invisible for a real minute
while the runner jumps days ahead. So the runner keeps the messages of every queue of the
template here, with times on the simulated clock, and answers the SQS API calls for those
queues itself (:meth:`SimulatedQueues.api`, reached through :mod:`emulator.boundary`). The
queues themselves still exist in moto (URLs, ARNs, attributes); only their messages live here.

What is modelled, as SQS standard queues do it:

* ``DelaySeconds`` (per message, else the queue's): invisible until ``sent + delay``;
* receiving makes a message invisible for the queue's ``VisibilityTimeout`` (or the one asked
  for), raises its ``ApproximateReceiveCount`` and gives it a new receipt handle; delete and
  ``ChangeMessageVisibility`` need the newest handle (an older one deletes nothing, as in SQS);
* the redrive policy: a message already received ``maxReceiveCount`` times moves to the
  dead-letter queue when it would be received again;
* ``MessageRetentionPeriod``: older messages disappear;
* order: the order messages were sent in (moto's, so runs without delays or failures see the
  very batches they saw before).

Message ids are deterministic (a counter per run), so a run can be repeated exactly.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from emulator.environment import ACCOUNT

MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43_200
MAX_BATCH = 10
MAX_PAYLOAD_BYTES = 262_144
_ID_NAMESPACE = uuid.UUID("6f6e6c79-2d6c-6f63-616c-2d7175657565")


class SqsError(Exception):
    """An error answer of the SQS API (turned into botocore's ``ClientError`` at the boundary)."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _millis(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@dataclass
class Message:
    message_id: str
    body: str
    sent_at: datetime
    visible_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    receive_count: int = 0
    first_received_at: datetime | None = None
    receipt_handle: str | None = None

    def in_flight(self, now: datetime) -> bool:
        return self.receive_count > 0 and self.visible_at > now


@dataclass
class Queue:
    """One queue of the template: its settings and its messages, oldest first."""

    logical_id: str
    url: str
    arn: str
    visibility_timeout: int = 30
    delay_seconds: int = 0
    retention_seconds: int = 345_600
    max_receive_count: int | None = None
    dead_letter: str | None = None  # logical id of the dead-letter queue
    messages: dict[str, Message] = field(default_factory=dict)
    handles: dict[str, str] = field(default_factory=dict)  # receipt handle -> message id
    counts: Counter[str] = field(default_factory=Counter)

    def next_visible(self) -> datetime | None:
        """The earliest instant at which a message of this queue is (or becomes) visible."""
        return min((m.visible_at for m in self.messages.values()), default=None)

    def visible(self, now: datetime) -> int:
        return sum(1 for m in self.messages.values() if m.visible_at <= now)

    def __len__(self) -> int:
        return len(self.messages)


class SimulatedQueues:
    """Every queue of the template, on the clock ``now`` (a callable giving simulated time)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.queues: dict[str, Queue] = {}
        self._by_url: dict[str, Queue] = {}
        self._by_name: dict[str, Queue] = {}
        self._by_arn: dict[str, Queue] = {}
        self._sequence = 0

    # -- set-up -------------------------------------------------------------------------
    def add(self, queue: Queue) -> None:
        self.queues[queue.logical_id] = queue
        self._by_url[queue.url] = queue
        self._by_name[queue.url.rstrip("/").rsplit("/", 1)[-1]] = queue
        self._by_arn[queue.arn] = queue

    @classmethod
    def from_deployment(cls, deployment: Any, now: Callable[[], datetime]) -> SimulatedQueues:
        """The queues ``deployment`` (an :class:`emulator.template.LocalDeployment`) created."""
        queues = cls(now)
        resources = deployment.template["Resources"]
        for name, resource in resources.items():
            if resource["Type"] != "AWS::SQS::Queue":
                continue
            properties = resource.get("Properties", {})
            redrive = deployment.resolve(properties.get("RedrivePolicy")) or {}
            queues.add(
                Queue(
                    logical_id=name,
                    url=deployment.queue_url(name),
                    arn=deployment.arns[name],
                    visibility_timeout=int(properties.get("VisibilityTimeout", 30)),
                    delay_seconds=int(properties.get("DelaySeconds", 0)),
                    retention_seconds=int(properties.get("MessageRetentionPeriod", 345_600)),
                    max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
                    dead_letter=None,
                )
            )
            if redrive:
                queues.queues[name].dead_letter = str(redrive["deadLetterTargetArn"])
        for queue in queues.queues.values():  # the DLQ by ARN -> by logical id
            if queue.dead_letter is not None:
                target = queues._by_arn.get(queue.dead_letter)
                if target is None:
                    raise ValueError(f"{queue.logical_id}: dead-letter queue not in the template")
                queue.dead_letter = target.logical_id
        return queues

    def find(self, url: str) -> Queue | None:
        """The queue of ``url`` (or of its last path segment, the queue name), if it is ours."""
        return self._by_url.get(url) or self._by_name.get(url.rstrip("/").rsplit("/", 1)[-1])

    def __getitem__(self, logical_id: str) -> Queue:
        return self.queues[logical_id]

    # -- operations -----------------------------------------------------------------------
    def _new_id(self, queue: Queue) -> str:
        self._sequence += 1
        return str(uuid.uuid5(_ID_NAMESPACE, f"{queue.logical_id}:{self._sequence}"))

    def send(
        self,
        queue: Queue,
        body: str,
        delay: int | None = None,
        attributes: dict[str, Any] | None = None,
        *,
        message_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Message:
        if not isinstance(body, str) or not body:
            raise SqsError(
                "MissingParameter", "The request must contain the parameter MessageBody."
            )
        if len(body.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise SqsError("InvalidParameterValue", "Message must be shorter than 262144 bytes.")
        seconds = queue.delay_seconds if delay is None else int(delay)
        if not 0 <= seconds <= MAX_DELAY_SECONDS:
            raise SqsError(
                "InvalidParameterValue",
                f"Value {seconds} for parameter DelaySeconds is invalid. "
                f"Reason: must be between 0 and {MAX_DELAY_SECONDS}.",
            )
        now = self.now()
        message = Message(
            message_id=message_id or self._new_id(queue),
            body=body,
            sent_at=sent_at or now,
            visible_at=now + timedelta(seconds=seconds),
            attributes=dict(attributes or {}),
        )
        queue.messages[message.message_id] = message
        queue.counts["sent"] += 1
        if seconds:
            queue.counts["delayed"] += 1
        return message

    def _expire(self, queue: Queue, now: datetime) -> None:
        retention = timedelta(seconds=queue.retention_seconds)
        for message in [m for m in queue.messages.values() if m.sent_at + retention <= now]:
            self._remove(queue, message)
            queue.counts["expired"] += 1

    def _remove(self, queue: Queue, message: Message) -> None:
        del queue.messages[message.message_id]
        if message.receipt_handle is not None:
            queue.handles.pop(message.receipt_handle, None)

    def receive(
        self,
        queue: Queue,
        max_messages: int = 1,
        visibility_timeout: int | None = None,
        *,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[Message]:
        """Up to ``max_messages`` visible messages, oldest first, now in flight.

        Messages in ``exclude`` (ids) are left alone: a caller draining a queue in one instant
        does not take a message it already handed over in that instant.
        """
        if not 1 <= max_messages <= MAX_BATCH:
            raise SqsError(
                "InvalidParameterValue",
                f"Value {max_messages} for parameter MaxNumberOfMessages is invalid. "
                "Reason: Must be between 1 and 10, if provided.",
            )
        timeout = queue.visibility_timeout if visibility_timeout is None else visibility_timeout
        if not 0 <= timeout <= MAX_VISIBILITY_SECONDS:
            raise SqsError("InvalidParameterValue", f"VisibilityTimeout {timeout} is invalid.")
        now = self.now()
        self._expire(queue, now)
        taken: list[Message] = []
        for message in list(queue.messages.values()):
            if len(taken) == max_messages:
                break
            if message.visible_at > now or message.message_id in exclude:
                continue
            if (
                queue.max_receive_count is not None
                and queue.dead_letter is not None
                and message.receive_count >= queue.max_receive_count
            ):
                self._dead_letter(queue, message)
                continue
            message.receive_count += 1
            if message.first_received_at is None:
                message.first_received_at = now
            if message.receipt_handle is not None:
                queue.handles.pop(message.receipt_handle, None)
            message.receipt_handle = self._handle(queue, message)
            queue.handles[message.receipt_handle] = message.message_id
            message.visible_at = now + timedelta(seconds=timeout)
            queue.counts["received"] += 1
            if message.receive_count > 1:
                queue.counts["received_again"] += 1
            taken.append(message)
        return taken

    def _handle(self, queue: Queue, message: Message) -> str:
        return f"{queue.logical_id}/{message.message_id}/{message.receive_count}"

    def _dead_letter(self, queue: Queue, message: Message) -> None:
        assert queue.dead_letter is not None
        self._remove(queue, message)
        target = self.queues[queue.dead_letter]
        moved = Message(
            message_id=message.message_id,
            body=message.body,
            sent_at=message.sent_at,
            visible_at=self.now(),
            attributes=message.attributes,
        )
        target.messages[moved.message_id] = moved
        queue.counts["dead_lettered"] += 1
        target.counts["sent"] += 1

    def _message_of(self, queue: Queue, handle: str) -> Message | None:
        """The message whose newest receipt handle is ``handle``; None for an older handle."""
        parts = handle.split("/") if isinstance(handle, str) else []
        if len(parts) != 3 or parts[0] != queue.logical_id:
            raise SqsError(
                "ReceiptHandleIsInvalid", f"The input receipt handle {handle!r} is invalid."
            )
        message_id = queue.handles.get(handle)
        return queue.messages.get(message_id) if message_id else None

    def delete(self, queue: Queue, handle: str) -> None:
        """Delete by the newest receipt handle (an older one succeeds and deletes nothing)."""
        message = self._message_of(queue, handle)
        if message is not None:
            self._remove(queue, message)
            queue.counts["deleted"] += 1

    def change_visibility(self, queue: Queue, handle: str, timeout: int) -> None:
        if not 0 <= int(timeout) <= MAX_VISIBILITY_SECONDS:
            raise SqsError(
                "InvalidParameterValue",
                f"Value {timeout} for parameter VisibilityTimeout is invalid. "
                f"Reason: Must be between 0 and {MAX_VISIBILITY_SECONDS}.",
            )
        now = self.now()
        message = self._message_of(queue, handle)
        if message is None or not message.in_flight(now):
            raise SqsError("AWS.SimpleQueueService.MessageNotInflight", "Message is not in flight.")
        message.visible_at = now + timedelta(seconds=int(timeout))
        queue.counts["visibility_changed"] += 1

    # -- the SQS API ------------------------------------------------------------------------
    def wire(self, queue: Queue, message: Message, with_attributes: bool) -> dict[str, Any]:
        """``message`` as ``ReceiveMessage`` answers it."""
        answer: dict[str, Any] = {
            "MessageId": message.message_id,
            "ReceiptHandle": message.receipt_handle,
            "MD5OfBody": _md5(message.body),
            "Body": message.body,
        }
        if with_attributes:
            answer["Attributes"] = {
                "SenderId": ACCOUNT,
                "SentTimestamp": _millis(message.sent_at),
                "ApproximateReceiveCount": str(message.receive_count),
                "ApproximateFirstReceiveTimestamp": _millis(
                    message.first_received_at or message.sent_at
                ),
            }
        if message.attributes:
            answer["MessageAttributes"] = message.attributes
        return answer

    def api(self, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Answer an SQS API call for one of these queues; None when it is not about them."""
        url = params.get("QueueUrl")
        queue = self.find(url) if isinstance(url, str) else None
        if queue is None:
            return None
        handler = _OPERATIONS.get(operation)
        if handler is None:
            return None  # e.g. GetQueueAttributes of static attributes: moto answers
        return handler(self, queue, params)

    def _api_send(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        message = self.send(
            queue,
            params.get("MessageBody", ""),
            params.get("DelaySeconds"),
            params.get("MessageAttributes"),
        )
        return {"MessageId": message.message_id, "MD5OfMessageBody": _md5(message.body)}

    def _api_send_batch(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        entries = _entries(params)
        total = sum(len(str(e.get("MessageBody", "")).encode("utf-8")) for e in entries)
        if total > MAX_PAYLOAD_BYTES:
            raise SqsError(
                "AWS.SimpleQueueService.BatchRequestTooLong",
                f"Batch requests cannot be longer than {MAX_PAYLOAD_BYTES} bytes.",
            )
        successful, failed = [], []
        for entry in entries:
            try:
                message = self.send(
                    queue,
                    entry.get("MessageBody", ""),
                    entry.get("DelaySeconds"),
                    entry.get("MessageAttributes"),
                )
            except SqsError as exc:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": exc.code,
                        "Message": exc.message,
                    }
                )
                continue
            successful.append(
                {
                    "Id": entry["Id"],
                    "MessageId": message.message_id,
                    "MD5OfMessageBody": _md5(message.body),
                }
            )
        return {"Successful": successful, "Failed": failed}

    def _api_receive(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        messages = self.receive(
            queue, int(params.get("MaxNumberOfMessages", 1)), params.get("VisibilityTimeout")
        )
        with_attributes = bool(
            params.get("AttributeNames") or params.get("MessageSystemAttributeNames")
        )
        return {"Messages": [self.wire(queue, m, with_attributes) for m in messages]}

    def _api_delete(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        self.delete(queue, params.get("ReceiptHandle", ""))
        return {}

    def _api_delete_batch(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        successful, failed = [], []
        for entry in _entries(params):
            try:
                self.delete(queue, entry.get("ReceiptHandle", ""))
            except SqsError as exc:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": exc.code,
                        "Message": exc.message,
                    }
                )
            else:
                successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    def _api_change_visibility(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        self.change_visibility(
            queue, params.get("ReceiptHandle", ""), int(params.get("VisibilityTimeout", -1))
        )
        return {}

    def _api_change_visibility_batch(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        successful, failed = [], []
        for entry in _entries(params):
            try:
                self.change_visibility(
                    queue, entry.get("ReceiptHandle", ""), int(entry.get("VisibilityTimeout", -1))
                )
            except SqsError as exc:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": exc.code,
                        "Message": exc.message,
                    }
                )
            else:
                successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    def _api_purge(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        for message in list(queue.messages.values()):
            self._remove(queue, message)
        return {}

    def attributes(self, queue: Queue) -> dict[str, str]:
        """The message counts ``GetQueueAttributes`` reports, at the simulated now."""
        now = self.now()
        visible = delayed = in_flight = 0
        for message in queue.messages.values():
            if message.visible_at <= now:
                visible += 1
            elif message.receive_count:
                in_flight += 1
            else:
                delayed += 1
        return {
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
        }

    def summary(self) -> dict[str, dict[str, int]]:
        """Per queue that saw any traffic: what happened to its messages, and what is left."""
        report = {}
        for name, queue in sorted(self.queues.items()):
            if queue.counts or queue.messages:
                report[name] = {**dict(sorted(queue.counts.items())), "left": len(queue)}
        return report


def _failure(entry: dict[str, Any], exc: SqsError) -> dict[str, Any]:
    return {"Id": entry["Id"], "SenderFault": True, "Code": exc.code, "Message": exc.message}


def _entries(params: dict[str, Any]) -> list[dict[str, Any]]:
    entries = params.get("Entries") or []
    if not entries:
        raise SqsError(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one entry in the request.",
        )
    if len(entries) > MAX_BATCH:
        raise SqsError(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH}.",
        )
    ids = [entry.get("Id") for entry in entries]
    if len(set(ids)) != len(ids):
        raise SqsError(
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Two or more batch entries in the request have the same Id.",
        )
    return list(entries)


_OPERATIONS: dict[str, Callable[[SimulatedQueues, Queue, dict[str, Any]], dict[str, Any]]] = {
    "SendMessage": SimulatedQueues._api_send,
    "SendMessageBatch": SimulatedQueues._api_send_batch,
    "ReceiveMessage": SimulatedQueues._api_receive,
    "DeleteMessage": SimulatedQueues._api_delete,
    "DeleteMessageBatch": SimulatedQueues._api_delete_batch,
    "ChangeMessageVisibility": SimulatedQueues._api_change_visibility,
    "ChangeMessageVisibilityBatch": SimulatedQueues._api_change_visibility_batch,
    "PurgeQueue": SimulatedQueues._api_purge,
}


def invocation_record(
    function_arn: str, event: Any, error: BaseException, attempts: int, at: datetime
) -> str:
    """The body Lambda puts on an asynchronous invocation's on-failure SQS destination."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "requestContext": {
                "requestId": str(uuid.uuid5(_ID_NAMESPACE, f"{function_arn}:{at.isoformat()}")),
                "functionArn": f"{function_arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        },
        default=str,
    )
