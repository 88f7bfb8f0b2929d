"""End to end: ``python -m emulator serve`` stops on SIGTERM (its own module: the server of
tests/e2e/test_serve.py keeps its moto state until that module ends)."""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
from datetime import date
from typing import Any

import pytest

from emulator.runner import SimulationConfig
from emulator.serve import LocalServer, serve
from tests.e2e.test_serve import CAMPAIGNS, CUSTOMERS, _lines, _request

pytestmark = [pytest.mark.e2e, pytest.mark.allow_hosts(["127.0.0.1"])]


def test_given_serving_when_sigterm_arrives_then_it_stops_and_closes_the_port(tmp_path):
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS[:1]), encoding="utf-8")
    config = SimulationConfig(
        customers=_lines(tmp_path / "customers.jsonl", CUSTOMERS[:1]),
        campaigns=campaigns,
        start=date(2027, 3, 1),
        days=1,
        out=tmp_path / "out",
    )
    seen: list[tuple[str, int]] = []
    previous = signal.getsignal(signal.SIGTERM)

    def ready(local: LocalServer, result: Any) -> None:
        status, _, body = _request(f"{local.url}/_local/outbox.json")
        seen.append((local.url, len(json.loads(body)) if status == 200 else -1))
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

    serve(config, port=0, on_ready=ready)

    assert len(seen) == 1 and seen[0][1] == 1
    assert signal.getsignal(signal.SIGTERM) == previous
    with pytest.raises(urllib.error.URLError):
        _request(f"{seen[0][0]}/_local/outbox.json")
