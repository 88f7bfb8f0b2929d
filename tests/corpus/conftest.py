"""One moto deployment of template.yaml per corpus module, and the simulated clock.

The corpus runs hundreds of cases: each module shares one deployment (tests/conftest.py's
``deploy``) and every case uses record ids of its own, so cases do not see each other's data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import deploy

T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Any]:
    """The ``aws`` fixture of tests/conftest.py, once per module."""
    from moto import mock_aws

    from emulator.motofast import fast_moto
    from lifecycle.core import aws as lifecycle_aws
    from lifecycle.core import settings
    from lifecycle.store import models

    with mock_aws(), fast_moto():
        local = deploy()
        saved = dict(os.environ)
        for logical_id in local.functions:
            os.environ.update(local.function_environment(logical_id))
        settings.reset_settings()
        lifecycle_aws.reset_clients()
        models.configure_tables()
        try:
            yield local
        finally:
            os.environ.clear()
            os.environ.update(saved)
            settings.reset_settings()
            lifecycle_aws.reset_clients()


@pytest.fixture(scope="module")
def sim_clock() -> Iterator[Any]:
    """The simulated clock at :data:`T0` for the module (cases may move it)."""
    from lifecycle.core.clock import SimulatedClock, SystemClock, set_clock

    simulated = SimulatedClock(T0)
    set_clock(simulated)
    yield simulated
    set_clock(SystemClock())


@pytest.fixture(scope="module")
def handler(deployment: Any) -> Callable[[str], Callable[[Any], Any]]:
    """``handler("UsageFunction")(event)``: the real handler with a fake Lambda context."""
    from emulator.template import FakeLambdaContext, load_handler

    def get(logical_id: str) -> Callable[[Any], Any]:
        function = load_handler(deployment.functions[logical_id])

        def call(event: Any) -> Any:
            return function(event, FakeLambdaContext(function_name=logical_id))

        return call

    return get


def link_keys() -> Any:
    """The key (or key ring) the handlers sign and verify links with."""
    from lifecycle.core import secrets
    from lifecycle.core.settings import get_settings

    read = getattr(secrets, "signing_keys", None) or getattr(secrets, "signing_key")  # noqa: B009
    return read(get_settings())


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """The corpus figures, when ``test_corpus_size`` ran."""
    from tests.corpus.corpus import FIGURES

    table = config.stash.get(FIGURES, None)
    if table:
        terminalreporter.section("bad-input corpus")
        terminalreporter.write_line(table)
