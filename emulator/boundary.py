"""The one place where the runner stands between the handlers and AWS (moto).

While a simulation runs, :class:`AwsBoundary` replaces ``botocore.client.BaseClient.
_make_api_call``, through which every boto3 client and PynamoDB's own botocore client make
their calls, so it sees every AWS call of the process:

* SQS calls about a queue of the template are answered by :class:`emulator.queues.
  SimulatedQueues` (delays and visibility on the simulated clock); everything else goes on to
  moto unchanged;
* while a handler runs (:meth:`AwsBoundary.handler`), and chaos is on, the call first goes
  through :class:`emulator.chaos.Chaos`, which may fail it. The runner's own calls (set-up,
  stream reads, read-back) are made outside handlers and are never touched;
* every call a handler makes, and every handler call itself, is counted by the
  :class:`emulator.cost.CostMeter` in :attr:`AwsBoundary.cost` (DynamoDB calls also carry
  ``ReturnConsumedCapacity``, which the product never sees answered unless it asked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from emulator.cost import CostMeter
from emulator.queues import SimulatedQueues, SqsError

if TYPE_CHECKING:
    from emulator.chaos import Chaos


class AwsBoundary:
    def __init__(
        self, queues: SimulatedQueues, chaos: Chaos | None = None, cost: CostMeter | None = None
    ) -> None:
        self.queues = queues
        self.chaos = chaos
        self._chaos_on = False
        self.cost = cost if cost is not None else CostMeter()
        self.running: str | None = None  # logical id of the function whose handler runs
        self._original: Callable[..., Any] | None = None

    # -- installation -------------------------------------------------------------------
    def install(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            return
        current = BaseClient._make_api_call
        if getattr(current, "_emulator_boundary", None) is not None:
            raise RuntimeError("another simulation's boundary is still installed")
        original: Callable[..., Any] = current
        self._original = original
        boundary = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            return boundary.call(client, operation_name, api_params)

        _make_api_call._emulator_boundary = self  # type: ignore[attr-defined]
        BaseClient._make_api_call = _make_api_call

    def uninstall(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            BaseClient._make_api_call = self._original
            self._original = None

    @property
    def chaos_on(self) -> bool:
        """The runner turns chaos on when the clock starts moving (and off when it stops);
        the cost meter counts from then on as the run proper, before as set-up."""
        return self._chaos_on

    @chaos_on.setter
    def chaos_on(self, value: bool) -> None:
        self._chaos_on = value
        self.cost.clock_running = value

    @contextmanager
    def handler(self, logical_id: str) -> Iterator[None]:
        """Mark the calls made inside the block as made by ``logical_id``'s handler."""
        outer, self.running = self.running, logical_id
        try:
            with self.cost.invocation(logical_id):
                yield
        finally:
            self.running = outer

    # -- calls --------------------------------------------------------------------------
    def call(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        if self.chaos is not None and self.chaos_on and self.running is not None:
            return self.chaos.call(
                client, service, operation, lambda: self._route(client, service, operation, params)
            )
        return self._route(client, service, operation, params)

    def _route(self, client: Any, service: str, operation: str, params: dict[str, Any]) -> Any:
        assert self._original is not None
        original = self._original
        if service == "dynamodb":
            return self.cost.dynamodb(
                self.running, operation, params, lambda p: original(client, operation, p)
            )
        if service == "events":
            self.cost.events(self.running, operation, params)
        if service != "sqs":
            return self._original(client, operation, params)
        self.cost.sqs(self.running, operation, params)
        url = params.get("QueueUrl")
        queue = self.queues.find(url) if isinstance(url, str) else None
        if queue is None:
            return self._original(client, operation, params)
        try:
            if operation == "GetQueueAttributes":
                response = self._original(client, operation, params)
                names = set(params.get("AttributeNames") or [])
                counts = self.queues.attributes(queue)
                response.setdefault("Attributes", {}).update(
                    {k: v for k, v in counts.items() if "All" in names or k in names}
                )
                return response
            answer = self.queues.api(operation, params)
        except SqsError as exc:
            raise _sqs_error(client, operation, exc) from None
        if answer is None:
            return self._original(client, operation, params)
        answer.setdefault("ResponseMetadata", {"HTTPStatusCode": 200})
        return answer


def _sqs_error(client: Any, operation: str, exc: SqsError) -> Exception:
    response = {
        "Error": {"Code": exc.code, "Message": exc.message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": exc.status},
    }
    error: Exception = client.exceptions.from_code(exc.code)(response, operation)
    return error
