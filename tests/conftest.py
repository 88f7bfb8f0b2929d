"""Shared fixtures: moto resources built from template.yaml, a simulated clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
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

ROOT = Path(__file__).resolve().parent.parent
SENDER = "messages@example.com"


@pytest.fixture
def aws() -> Iterator[Any]:
    """A moto deployment of template.yaml with the layer bound to its tables.

    moto runs with the runner's fast paths (emulator/motofast.py: the same answers, tested in
    tests/unit/test_emulator_motofast.py), which take most of moto's own cost off each call.
    """
    import boto3
    from moto import mock_aws

    from emulator.motofast import fast_moto
    from emulator.template import LocalDeployment
    from lifecycle.core import aws as lifecycle_aws
    from lifecycle.core import settings
    from lifecycle.store import models

    with mock_aws(), fast_moto():
        session = boto3.Session(region_name="us-east-1")
        deployment = LocalDeployment.create(
            ROOT / "template.yaml",
            session=session,
            parameters={"SenderEmail": SENDER, "ConsoleDomainPrefix": "lifecycle-test"},
        )
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
