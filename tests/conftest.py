"""Shared fixtures: moto resources built from template.yaml, a simulated clock."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# Before anything imports boto3 or the layer: no real credentials, no real endpoints.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "LifecycleMessagingTests",
        "POWERTOOLS_SERVICE_NAME": "lifecycle-messaging",
        "LCM_QUIET": "1",  # the runner's command line prints no progress lines in tests
    }
)
for _name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_name, None)

# The X-Ray SDK opens an (unconnected, never used while tracing is disabled) UDP socket when
# it is first imported. Import it here, before pytest-socket blocks socket creation in tests.
import aws_xray_sdk.core  # noqa: E402, F401
import botocore.loaders  # noqa: E402
import botocore.session  # noqa: E402


class _SearchPaths(list[str]):
    """A loader's search paths; ``append`` of a path already listed is a no-op (every
    ``boto3.Session`` appends boto3's data folder to its loader)."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


_LOADERS: dict[str | None, botocore.loaders.Loader] = {}
_create_loader = botocore.loaders.create_loader


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """One botocore data loader per search path for every session in the test process.

    Each botocore session otherwise builds its own loader and parses the service models,
    endpoint rule sets and ``endpoints.json`` again (tens of MB of JSON): every test makes
    new sessions (the ``aws`` fixture, the layer's clients after ``reset_clients``, each
    PynamoDB connection), and that parsing was about half of the integration tests' time.
    The loader only reads botocore's own data files, so sharing it changes no answer.
    """
    loader = _LOADERS.get(search_path_string)
    if loader is None:
        loader = _create_loader(search_path_string)
        loader._search_paths = _SearchPaths(loader.search_paths)
        _LOADERS[search_path_string] = loader
    return loader


botocore.session.create_loader = _shared_loader

ROOT = Path(__file__).resolve().parent.parent
SENDER = "messages@example.com"


PARAMETERS = {"SenderEmail": SENDER, "ConsoleDomainPrefix": "lifecycle-test"}


class _Snapshot:
    """moto's state right after ``LocalDeployment.create`` of one template file.

    Creating the template's tables, queues, bucket and secret takes some 40 calls through
    moto (about 0.2 s a test); copying the backends that hold them takes a tenth of that.
    The copies are moto's own objects as ``create`` left them, so each test still starts from
    a deployment nobody touched, with every table, queue and index the template declares.
    """

    def __init__(self, key: tuple[int, int], deployment: Any) -> None:
        from moto.core.base_backend import BackendDict

        self.key = key
        self.deployment = deployment
        # IAM holds nothing of the deployment (moto creates its backends on the side).
        self.places = [
            (backends, account, region)
            for backends in list[Any](BackendDict._instances)  # type: ignore[misc]
            if backends.service_name != "iam"
            for account, regional in backends.items()
            for region in regional
        ]
        self.pinned = {id(backends): backends for backends, _, _ in self.places}
        live = [backends[account][region] for backends, account, region in self.places]
        self.locks = _locks(live)
        self.backends = copy.deepcopy(live, self._memo())
        self.locks = _locks(self.backends)

    def _memo(self) -> dict[int, Any]:
        """deepcopy's memo: the registries stay themselves, each lock becomes a new one."""
        memo = dict(self.pinned)
        for ident, kind in self.locks:
            memo[ident] = kind()
        return memo

    def restore(self) -> Any:
        """Install a copy of the state in the active (just reset) mock; a copy of the
        deployment object to go with it."""
        copies = copy.deepcopy(self.backends, self._memo())
        for (backends, account, region), backend in zip(self.places, copies, strict=True):
            dict.__setitem__(backends[account], region, backend)
        deployment = copy.copy(self.deployment)
        deployment.template = copy.deepcopy(self.deployment.template)
        deployment.parameters = dict(self.deployment.parameters)
        deployment.physical = dict(self.deployment.physical)
        deployment.arns = dict(self.deployment.arns)
        deployment.functions = dict(self.deployment.functions)
        deployment.schedules = list(self.deployment.schedules)
        deployment._stream_arns = dict(self.deployment._stream_arns)
        return deployment


def _locks(root: Any) -> list[tuple[int, Callable[[], Any]]]:
    """The locks and conditions inside moto's objects (deepcopy cannot copy them)."""
    kinds: dict[type, Callable[[], Any]] = {
        type(threading.Lock()): threading.Lock,
        type(threading.RLock()): threading.RLock,
        threading.Condition: threading.Condition,
    }
    found: list[tuple[int, Callable[[], Any]]] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        kind = kinds.get(type(value))
        if kind is not None:
            found.append((id(value), kind))
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend(value)
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            stack.extend(vars(value).values())
    return found


_SNAPSHOTS: dict[Path, _Snapshot] = {}


def deploy(template: Path = ROOT / "template.yaml") -> Any:
    """``LocalDeployment.create(template)`` with :data:`PARAMETERS`, inside an active (fresh)
    ``mock_aws()``; from the second call on in a process, a copy of the first one's result."""
    import boto3

    from emulator.template import LocalDeployment

    stat = template.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    snapshot = _SNAPSHOTS.get(template)
    if snapshot is not None and snapshot.key == key:
        return snapshot.restore()
    session = boto3.Session(region_name="us-east-1")
    deployment = LocalDeployment.create(template, session=session, parameters=PARAMETERS)
    _SNAPSHOTS[template] = _Snapshot(key, deployment)
    return deployment


@pytest.fixture
def aws() -> Iterator[Any]:
    """A moto deployment of template.yaml with the layer bound to its tables.

    moto runs with the runner's fast paths (emulator/motofast/: the same answers, tested in
    tests/unit/test_emulator_motofast.py), which take most of moto's own cost off each call.
    Each test gets a fresh deployment (:func:`deploy`).
    """
    from moto import mock_aws

    from emulator.motofast import fast_moto
    from lifecycle.core import aws as lifecycle_aws
    from lifecycle.core import settings
    from lifecycle.store import models

    with mock_aws(), fast_moto():
        deployment = deploy()
        saved = dict(os.environ)
        for logical_id in deployment.functions:
            os.environ.update(deployment.function_environment(logical_id))
        settings.reset_settings()
        lifecycle_aws.reset_clients()
        models.configure_tables()
        try:
            yield deployment
        finally:
            os.environ.clear()
            os.environ.update(saved)
            settings.reset_settings()
            lifecycle_aws.reset_clients()


@pytest.fixture
def clock() -> Iterator[Any]:
    from lifecycle.core.clock import SimulatedClock, SystemClock, set_clock

    simulated = SimulatedClock(datetime(2027, 3, 13, 0, 0, tzinfo=UTC))
    set_clock(simulated)
    yield simulated
    set_clock(SystemClock())


@pytest.fixture(autouse=True)
def _no_leftover_metrics() -> Iterator[None]:
    """Logic called outside a handler records metrics nobody flushes: drop them per test."""
    yield
    from lifecycle.core.observability import metrics

    metrics.clear_metrics()
