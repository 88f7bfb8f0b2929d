"""Cost benchmark (``make bench``): a generated data set through the runner, its cost report
printed next to a naive daily-scan planner measured in the same run.

Usage: python scripts/bench_cost.py [--customers 20000] [--days 3] [--out out/bench]

The customers come from the demo generator (scripts/make_demo_data.py, same seed, more of
them); the campaigns are the demo's. Prints per sent message: DynamoDB write and read units,
SQS requests, EventBridge events, Lambda GB-seconds, the dollars per million e-mails
(us-east-1 on-demand, emulator/prices.py; SES's $100 not included), the per-function
breakdown, and the planner's reads against a planner that Scans the whole Customers table
every day. The full figures are in OUT/report.json (``cost``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator import prices  # noqa: E402
from emulator.runner import SimulationConfig, simulate  # noqa: E402

START = date(2027, 2, 15)  # the demo's first day
PLANNERS = ("PlannerFunction", "PlanWorkerFunction")


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_demo_data", ROOT / "scripts/make_demo_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_data(folder: Path, customers: int, seed: int) -> tuple[Path, Path]:
    """``customers.jsonl`` (generated) and ``campaigns.json`` (the demo's) in ``folder``."""
    generator = _generator()
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    folder.mkdir(parents=True, exist_ok=True)
    people = folder / "customers.jsonl"
    with people.open("w", encoding="utf-8") as handle:
        for index in range(1, customers + 1):
            handle.write(json.dumps(generator.customer(index, rng), ensure_ascii=False) + "\n")
    campaigns = folder / "campaigns.json"
    campaigns.write_text((ROOT / "emulator/demo/campaigns.json").read_text(encoding="utf-8"))
    return people, campaigns


def _row(label: str, *values: str) -> str:
    return f"  {label:<38}" + "".join(f"{v:>16}" for v in values)


def render(cost: dict[str, Any], seconds: float, customers: int, days: int) -> str:
    """The cost report as a table (per sent message) with the naive planner beside it."""
    messages = cost["messages"]
    per = cost["per_message"]
    parts = cost["per_message_parts"]
    naive = cost.get("naive_daily_scan_planner", {})
    functions = cost["by_function"]
    planner_reads = sum(
        sum(functions.get(f, {}).get("dynamodb_read_units", {}).values()) for f in PLANNERS
    )
    naive_reads = naive.get("read_units", 0.0)
    reads = per["dynamodb_read_units"] or 0.0
    swap = (naive_reads - planner_reads) / messages if messages else 0.0
    usd = cost["usd_per_million_emails_excluding_ses"] or 0.0
    naive_usd = usd + swap * prices.DYNAMODB_USD_PER_MILLION_READ_UNITS
    lines = [
        f"Cost report: {customers} customers, {days} days, {messages} messages sent "
        f"({seconds:.0f} s)",
        "",
        _row("per sent message", "this design", "naive scan"),
        _row(
            "DynamoDB write units",
            f"{per['dynamodb_write_units']:.2f}",
            f"{per['dynamodb_write_units']:.2f}",
        ),
        _row("DynamoDB read units", f"{reads:.2f}", f"{reads + swap:.2f}"),
        _row(
            "  of which the planner's",
            f"{planner_reads / messages if messages else 0:.2f}",
            f"{naive_reads / messages if messages else 0:.2f}",
        ),
        _row("  suppression check (sender)", f"{parts['suppression_read_units'] or 0:.2f}", ""),
        _row("  SES feedback writes", f"{parts['feedback_write_units'] or 0:.2f}", ""),
        _row("SQS requests", f"{per['sqs_requests'] or 0:.3f}", ""),
        _row("EventBridge events", f"{per['events'] or 0:.3f}", ""),
        _row("Lambda GB-seconds (CPU estimate)", f"{per['lambda_gb_seconds'] or 0:.4f}", ""),
        _row("$ per million e-mails (no SES)", f"{usd:.2f}", f"{naive_usd:.2f}"),
        "",
        f"  naive planner: Scan of {naive.get('items_read_per_day', 0)} customers "
        f"({naive.get('read_units_per_day', 0):.1f} read units) every day for {days} days",
        "  $ per million by service: "
        + ", ".join(f"{k} {v:.2f}" for k, v in cost["usd_per_million_emails_by_service"].items()),
        f"  SES would add ${cost['ses_usd_per_million_emails']:.0f} per million",
        "",
        _row("per function (whole run)", "write units", "read units", "GB-s", "invocations"),
    ]
    for name, usage in functions.items():
        lines.append(
            _row(
                name,
                f"{sum(usage['dynamodb_write_units'].values()):.1f}",
                f"{sum(usage['dynamodb_read_units'].values()):.1f}",
                f"{usage['lambda_gb_seconds']:.2f}",
                str(usage["invocations"]),
            )
        )
    lines += ["", "  write units by table and index:"]
    for name, units in cost["by_table"]["write_units"].items():
        lines.append(_row("    " + name, f"{units / messages if messages else 0:.3f}/msg"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start", type=date.fromisoformat, default=START)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--out", type=Path, default=ROOT / "out/bench")
    args = parser.parse_args(argv)
    people, campaigns = write_data(args.out / "data", args.customers, args.seed)
    started = time.perf_counter()
    result = simulate(
        SimulationConfig(
            customers=people, campaigns=campaigns, start=args.start, days=args.days, out=args.out
        )
    )
    print(render(result.report["cost"], time.perf_counter() - started, args.customers, args.days))
    print(f"\nFull report: {args.out / 'report.json'} (cost)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
