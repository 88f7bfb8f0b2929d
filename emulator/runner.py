"""Run the whole system locally on moto with a simulated clock: the runner's entry points.

A small facade over the runner's modules, each owning one concern:

- :mod:`emulator.config`: :class:`SimulationConfig`, :class:`InputError`, input-file checks;
- :mod:`emulator.environment`: paths, region, account, local environment variables;
- :mod:`emulator.events`: the AWS event shapes handed to the handlers;
- :mod:`emulator.inputs`: the optional orders, usage events and survey answers;
- :mod:`emulator.simulation`: the moto deployment and the simulated clock loop;
- :mod:`emulator.queues`: the template's SQS queues on the simulated clock;
- :mod:`emulator.boundary`: the hook on botocore that routes queue calls and injects chaos;
- :mod:`emulator.chaos`: the ``--chaos`` spec and the faults it injects;
- :mod:`emulator.readback`: what SES and SNS received, as message rows;
- :mod:`emulator.integrity`: planned vs. final states vs. what the providers received;
- :mod:`emulator.report`: ``report.json`` and the output files.

This module owns :func:`simulate` and :func:`dry_run`, which start moto, run one of the two,
and write the results, and :func:`simulated`, a run whose moto state outlives it until its
block ends (``serve``). Imports go one way: this module -> simulation -> boundary, queues,
chaos, readback, integrity, report, events -> config, environment.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.config import InputError, SimulationConfig
from emulator.environment import set_local_environment
from emulator.events import dry_run_event
from emulator.integrity import integrity, outcomes
from emulator.readback import received, sent_messages
from emulator.report import (
    build_report,
    by_campaign,
    conversions_report,
    feedback_report,
    survey_report,
    write_jsonl,
    write_outputs,
)
from emulator.simulation import Simulation

__all__ = [
    "InputError",
    "Simulation",
    "SimulationConfig",
    "SimulationResult",
    "dry_run",
    "simulate",
    "simulated",
]


@dataclass
class SimulationResult:
    messages: list[dict[str, Any]]
    report: dict[str, Any]
    seconds: float = 0.0
    invocations: Counter[str] = field(default_factory=Counter)
    # delivery id -> final ledger state ("sent", "skipped:no_consent", ...; "+received" when a
    # provider has a message the ledger does not call sent)
    outcomes: dict[str, str] = field(default_factory=dict)


def dry_run(config: SimulationConfig) -> dict[str, Any]:
    """Import the files, then ask the marketer API for a dry run of the whole period.

    Writes ``plan.jsonl`` (messages that would be sent, as in messages.jsonl without headers)
    and ``excluded.jsonl`` ({customer_id, campaign_id, reason}); sends nothing. Orders, usage
    events and answers lie in the future of the dry run and are not used.
    """
    if config.days < 1:
        raise InputError("--days must be at least 1")
    set_local_environment()
    from moto import mock_aws

    start = datetime.combine(config.start, datetime.min.time(), UTC)
    with mock_aws(), Simulation(config) as simulation:
        simulation.deploy()
        imports = simulation.import_files()
        simulation.clock.set(start)
        response = simulation.invoke(
            "CampaignApiFunction", dry_run_event(config.start, config.days)
        )
        log_text = simulation.log.getvalue()
    body = json.loads(response["body"])
    if response["statusCode"] != 200:
        raise InputError(f"dry run refused: {body}")
    config.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(config.out / "plan.jsonl", body["messages"])
    write_jsonl(config.out / "excluded.jsonl", body["excluded"])
    (config.out / "lambda.log").write_text(log_text, encoding="utf-8")
    return {
        "messages": len(body["messages"]),
        "excluded": dict(sorted(Counter(e["reason"] for e in body["excluded"]).items())),
        "rejected": imports["campaigns"]["rejected"] + imports["customers"]["rejected"],
    }


def simulate(config: SimulationConfig) -> SimulationResult:
    """Run a whole simulation and write ``messages.jsonl`` and ``report.json`` to ``config.out``."""
    with simulated(config) as (_, result):
        return result


@contextmanager
def simulated(
    config: SimulationConfig, environment: dict[str, str] | None = None
) -> Iterator[tuple[Simulation, SimulationResult]]:
    """:func:`simulate`, keeping moto's state and the deployment until the block ends.

    ``environment`` overrides the functions' environment variables (``serve`` points
    ``PUBLIC_BASE_URL`` at itself). Inside the block the simulated clock stands at the end of
    the period and the handlers can still be invoked (``simulation.invoke``).
    """
    if config.days < 1:
        raise InputError("--days must be at least 1")
    started = time.perf_counter()
    set_local_environment()
    from moto import mock_aws

    end = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(days=config.days)
    with mock_aws(), Simulation(config, environment) as simulation:
        simulation.deploy()
        imports = simulation.import_files()
        input_rejections = [asdict(r) for r in simulation.load_inputs()]
        simulation.run()
        ledger = list(simulation.ledger_items())
        meter = simulation.boundary.cost
        # The read-back's Scan of the customers is what a naive planner would read each day.
        with meter.measure("NaiveDailyScanPlanner"):
            customers = list(simulation.customer_items())
        messages = sent_messages(ledger, customers)
        providers = received()
        checks = integrity(ledger, providers, end, simulation.send_window())
        states = outcomes(ledger, providers)
        campaigns = by_campaign(ledger)
        surveys = survey_report(ledger)
        feedback = feedback_report(ledger)
        conversions = conversions_report(ledger, end)
        log_text = simulation.log.getvalue()
        names = {physical: logical for logical, physical in simulation.deployment.physical.items()}
        cost = meter.report(len(messages), names, days=config.days)
        report = build_report(
            config,
            messages=messages,
            campaigns=campaigns,
            surveys=surveys,
            imports=imports,
            rejected=input_rejections + simulation.response_results,
            responses_accepted=simulation.responses_accepted,
            outside_period=simulation.outside_period,
            planner=simulation.planner,
            invocations=simulation.invocations,
            integrity=checks,
            redelivery=simulation.redelivery.report(simulation.queues.summary()),
            chaos=simulation.chaos_report(),
            feedback=feedback,
            cost=cost,
            conversions=conversions,
        )
        write_outputs(config.out, messages, report, log_text)
        simulation.clock.set(end)
        yield (
            simulation,
            SimulationResult(
                messages=messages,
                report=report,
                seconds=time.perf_counter() - started,
                invocations=simulation.invocations,
                outcomes=states,
            ),
        )
