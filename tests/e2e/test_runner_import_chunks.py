"""End to end: the runner imports a customers file larger than a chunk as a deployment would.

The importer function cuts the file and sends the chunks to ImportChunkQueue; the runner hands
them to ImportChunkFunction from its simulated queue (twice each with --redeliver) and reports
what the import's report in the bucket says.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from moto import mock_aws

from emulator.environment import set_local_environment
from emulator.runner import SimulationConfig
from emulator.simulation import Simulation
from lifecycle.core import aws, settings
from tests.builders import birthday_campaign, customer_doc

pytestmark = pytest.mark.e2e


def test_given_file_larger_than_a_chunk_when_runner_imports_then_chunks_run_from_the_queue(
    tmp_path: Path,
) -> None:
    lines = [json.dumps(customer_doc(f"c-{n:03d}")) for n in range(1, 61)]
    lines[40] = json.dumps(customer_doc("c-041", timezone="Mars/Olympus"))
    customers = tmp_path / "customers.jsonl"
    customers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    campaigns = tmp_path / "campaigns.json"
    campaigns.write_text(json.dumps([birthday_campaign()]), encoding="utf-8")
    config = SimulationConfig(
        customers=customers,
        campaigns=campaigns,
        start=date(2027, 3, 1),
        days=1,
        out=tmp_path / "out",
        redeliver=True,
    )
    saved = dict(os.environ)
    set_local_environment()
    try:
        with mock_aws(), Simulation(config, {"IMPORT_CHUNK_BYTES": "1024"}) as simulation:
            simulation.deploy()
            imports = simulation.import_files()
            invocations = dict(simulation.invocations)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings.reset_settings()
        aws.reset_clients()
    report = imports["customers"]
    assert report["chunks"] >= 3
    assert report["imported"] == 59
    assert [(r["line"], r["id"], r["reason"]) for r in report["rejected"]] == [
        (41, "c-041", "timezone")
    ]
    assert invocations["ImportChunkFunction"] == 2 * report["chunks"]  # --redeliver
    assert imports["campaigns"]["imported"] == 1
