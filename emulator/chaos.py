"""Chaos mode: faults injected at the boto3 boundary of the real handlers, seeded.

``--chaos "ses_throttle=0.3,ses_transient=0.05,crash_after_send=0.02,ddb_throttle=0.05,seed=7"``
gives each kind of fault a rate (0..1) and the run a seed. While a handler runs (never during
the runner's own set-up and read-back calls), every eligible AWS call draws from that kind's
own random stream (``random.Random(f"{seed}:{kind}")``), so the same spec on the same data
injects the same faults at the same calls and gives the same output.

Kinds, and the calls they apply to:

* ``ses_throttle``: SES v2 ``SendEmail`` answers ``TooManyRequestsException`` (HTTP 429), SNS
  ``Publish`` answers ``Throttling``; nothing is sent.
* ``ses_transient``: the same calls fail with ``EndpointConnectionError`` before the request
  leaves (nothing sent).
* ``crash_after_send``: the same calls reach the provider, which keeps the message; then the
  worker dies (:class:`WorkerCrash`, a ``BaseException`` no ``except Exception`` catches, so it
  escapes the handler like a Lambda runtime crash).
* ``ddb_throttle``: any DynamoDB call (boto3 or PynamoDB) answers
  ``ProvisionedThroughputExceededException``.

A rate is per API call as the handler sees it, i.e. after botocore's own retries (the fault is
raised above them): ``ddb_throttle=0.05`` means one DynamoDB call in twenty fails for good,
a far heavier storm than AWS produces with the SDK retrying throttled requests.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.errors import InputError

KINDS = ("ses_throttle", "ses_transient", "crash_after_send", "ddb_throttle")
# The provider calls that hand a message over (the ses_* kinds and crash_after_send).
PROVIDER_SENDS = frozenset(
    {("sesv2", "SendEmail"), ("ses", "SendEmail"), ("ses", "SendRawEmail"), ("sns", "Publish")}
)
_THROTTLE = {
    "sesv2": ("TooManyRequestsException", 429, "Too many requests."),
    "ses": ("Throttling", 400, "Maximum sending rate exceeded."),
    "sns": ("Throttling", 400, "Rate exceeded."),
}
_DDB_THROTTLE = (
    "ProvisionedThroughputExceededException",
    400,
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
)


class WorkerCrash(BaseException):
    """The Lambda worker died right after the provider accepted a message (injected)."""


@dataclass(frozen=True)
class ChaosSpec:
    """Rates per fault kind (0..1) and the seed; parse with :meth:`parse`."""

    seed: int
    ses_throttle: float = 0.0
    ses_transient: float = 0.0
    crash_after_send: float = 0.0
    ddb_throttle: float = 0.0

    @classmethod
    def parse(cls, text: str) -> ChaosSpec:
        """``key=value`` pairs separated by commas; unknown keys, bad rates or no seed raise
        :class:`InputError` (the command line answers ``error: ...`` and exit code 2)."""
        values: dict[str, str] = {}
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                raise InputError(f"--chaos: empty item in {text!r} (use key=value,key=value)")
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key or not value:
                raise InputError(f"--chaos: {item!r} is not key=value")
            if key not in (*KINDS, "seed"):
                raise InputError(
                    f"--chaos: unknown key {key!r} (known: {', '.join((*KINDS, 'seed'))})"
                )
            if key in values:
                raise InputError(f"--chaos: {key} given twice")
            values[key] = value
        if "seed" not in values:
            raise InputError("--chaos: seed is missing (e.g. seed=7): runs must be repeatable")
        try:
            seed = int(values.pop("seed"))
        except ValueError:
            raise InputError("--chaos: seed must be an integer") from None
        rates: dict[str, float] = {}
        for key, value in values.items():
            try:
                rate = float(value)
            except ValueError:
                raise InputError(f"--chaos: {key}={value} is not a number") from None
            if not math.isfinite(rate) or not 0.0 <= rate <= 1.0:
                raise InputError(f"--chaos: {key}={value} is outside 0..1")
            rates[key] = rate
        return cls(seed=seed, **rates)

    def rate(self, kind: str) -> float:
        value: float = getattr(self, kind)
        return value

    def text(self) -> str:
        """The spec in canonical form (every kind, then the seed)."""
        rates = ",".join(f"{kind}={self.rate(kind):g}" for kind in KINDS)
        return f"{rates},seed={self.seed}"


def _client_error(client: Any, operation: str, code: str, status: int, message: str) -> Exception:
    """The modelled botocore exception ``client`` raises for ``code`` (a ``ClientError``)."""
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "MaxAttemptsReached": True},
    }
    error_class = client.exceptions.from_code(code)
    error: Exception = error_class(response, operation)
    return error


class Chaos:
    """Draws and injects the faults of one :class:`ChaosSpec`; counts what it injected."""

    def __init__(
        self, spec: ChaosSpec, listener: Callable[[str, str, str], None] | None = None
    ) -> None:
        self.spec = spec
        self.injected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()  # calls that drew for a kind
        self.listener = listener  # told (kind, service, operation) of every injected fault
        self._random = {kind: random.Random(f"{spec.seed}:{kind}") for kind in KINDS}

    def _fires(self, kind: str, service: str, operation: str) -> bool:
        rate = self.spec.rate(kind)
        self.calls[kind] += 1
        if rate <= 0.0:
            return False
        if self._random[kind].random() < rate:
            self.injected[kind] += 1
            if self.listener is not None:
                self.listener(kind, service, operation)
            return True
        return False

    def call(self, client: Any, service: str, operation: str, proceed: Callable[[], Any]) -> Any:
        """Make one handler's AWS call through ``proceed``, or fail it as the spec says."""
        if service == "dynamodb":
            if self._fires("ddb_throttle", service, operation):
                raise _client_error(client, operation, *_DDB_THROTTLE)
            return proceed()
        if (service, operation) not in PROVIDER_SENDS:
            return proceed()
        if self._fires("ses_throttle", service, operation):
            raise _client_error(client, operation, *_THROTTLE[service])
        if self._fires("ses_transient", service, operation):
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url=client.meta.endpoint_url)
        response = proceed()
        if self._fires("crash_after_send", service, operation):
            raise WorkerCrash(f"worker died after {service} {operation} accepted the message")
        return response

    def report(self) -> dict[str, Any]:
        return {
            "spec": self.spec.text(),
            "injected": {kind: self.injected.get(kind, 0) for kind in KINDS},
            "calls_drawn": {kind: self.calls.get(kind, 0) for kind in KINDS},
        }
