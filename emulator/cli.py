"""Command line of the local runner: ``python -m emulator simulate|dry-run|demo|serve``."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from emulator.chaos import ChaosSpec
from emulator.report import QUEUED_MEANS, campaign_line, counts_text, survey_line
from emulator.runner import InputError, SimulationConfig, SimulationResult, dry_run, simulate

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_START = date(2027, 2, 15)
DEMO_DAYS = 45
DEMO_POLICY = DEMO_DIR / "policy.json"
POLICY_HELP = (
    "the messaging policy (JSON: quiet_hours, daily_limit, frequency_cap, priority), stored "
    "through PUT /policy before the files are imported"
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError("--days must be between 1 and 3660")
    return value


def _data_arguments(command: argparse.ArgumentParser, required: bool = True) -> None:
    """The inputs of a run (``serve``: all optional, the demo data set when none is given)."""
    command.add_argument("--customers", type=Path, required=required, help="customers, JSON Lines")
    command.add_argument("--campaigns", type=Path, required=required, help="campaigns, a JSON list")
    command.add_argument(
        "--start", type=_date, required=required, help="first day, YYYY-MM-DD (00:00 UTC)"
    )
    command.add_argument("--days", type=_days, required=required, help="number of days to simulate")
    command.add_argument(
        "--out",
        type=Path,
        required=required,
        default=None if required else Path("out/serve"),
        help="output directory",
    )
    command.add_argument(
        "--redeliver",
        action="store_true",
        help="deliver every schedule firing and queue message twice",
    )
    command.add_argument(
        "--orders",
        type=Path,
        help="orders, JSON Lines: written at created_at, delivered at delivered_at",
    )
    command.add_argument(
        "--events", type=Path, help="usage events, JSON Lines {customer_id, type, at}"
    )
    command.add_argument(
        "--responses",
        type=Path,
        help="survey answers, JSON Lines {customer_id, campaign_id, score, comment, at}",
    )
    command.add_argument(
        "--preferences",
        type=Path,
        help=(
            "preference changes, JSON Lines {customer_id, at, action, topic?, channel?} with "
            "action one_click|topic_off|topic_on|all_off, made through the links of the "
            "customer's last e-mail"
        ),
    )
    command.add_argument("--policy", type=Path, help=POLICY_HELP)


CHAOS_HELP = (
    "inject faults at the handlers' AWS calls, seeded: e.g. "
    '"ses_throttle=0.3,ses_transient=0.05,crash_after_send=0.02,ddb_throttle=0.05,seed=7"'
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Run the lifecycle-messaging system locally on moto with a simulated clock.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="simulate a period on your own data")
    dry = commands.add_parser("dry-run", help="what simulate would send, sending nothing")
    for command in (sim, dry):
        _data_arguments(command)
    demo = commands.add_parser("demo", help="simulate the bundled demo data set")
    demo.add_argument("--out", type=Path, default=Path("out/demo"))
    demo.add_argument("--redeliver", action="store_true")
    demo.add_argument(
        "--policy", type=Path, default=DEMO_POLICY, help=f"{POLICY_HELP} (default: {DEMO_POLICY})"
    )
    demo.add_argument("--no-policy", action="store_true", help="run the demo without a policy")
    for command in (sim, demo):
        command.add_argument("--chaos", metavar="SPEC", help=CHAOS_HELP)
        command.add_argument(
            "--quiet", action="store_true", help="no progress line per simulated day on stderr"
        )
    serve = commands.add_parser(
        "serve",
        help="simulate (the demo data set when no files are given), then serve the API, the "
        "public pages and a local outbox on http://HOST:PORT/ until Ctrl-C",
    )
    _data_arguments(serve, required=False)
    serve.add_argument("--port", type=_port, default=8300, help="port (default 8300; 0: any)")
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number")
    return int(text)


def summary(result: SimulationResult, out: Path) -> str:
    report: dict[str, Any] = result.report
    doubled = " with every delivery doubled" if report["period"]["redeliver"] else ""
    lines = [
        f"Simulated {report['period']['start']} .. {report['period']['end']} "
        f"({report['period']['days']} days){doubled}"
        f" in {result.seconds:.1f} s",
        f"Imported {report['imported']['customers']} customers and "
        f"{report['imported']['campaigns']} campaigns; rejected {len(report['rejected'])} records:",
    ]
    for rejection in report["rejected"]:
        lines.append(
            f"  - {rejection['source']} line {rejection['line']}"
            f" ({rejection['id'] or 'no id'}): {rejection['reason']}"
        )
    channels = ", ".join(f"{k} {v}" for k, v in report["by_channel"].items())
    lines.append(f"Messages sent: {report['messages']} ({channels})")
    if report["by_campaign"]:
        width = max(len(campaign) for campaign in report["by_campaign"])
        lines.append(f"By campaign ({QUEUED_MEANS}):")
        for campaign, counts in report["by_campaign"].items():
            lines.append(f"  {campaign:<{width}}  {campaign_line(counts)}")
    locales = Counter(
        m["headers"].get("Content-Language", "?")
        for m in result.messages
        if m["channel"] == "email"
    )
    if locales:
        lines.append(
            "E-mail by content language: " + ", ".join(f"{k} {v}" for k, v in locales.most_common())
        )
    offsets = Counter(m["local_time"][-6:] for m in result.messages)
    if offsets:
        lines.append("By UTC offset: " + ", ".join(f"{k} {v}" for k, v in sorted(offsets.items())))
    for campaign, survey in report["surveys"].items():
        lines.append(survey_line(campaign, survey))
    planner = report["planner"]
    lines.append(
        f"Planner: {planner['customers_read']} customer items read for "
        f"{planner['ledger_items_created']} ledger items, {planner['queued_for_sending']} of them "
        f"to send ({planner['items_read_per_planned_message']} reads per planned message)"
    )
    if result.messages:
        lines.append("First messages:")
        for message in result.messages[:5]:
            lines.append(
                f"  {message['local_time']}  {message['campaign_id']:<12} "
                f"{message['customer_id']:<8} {message['channel']:<5} "
                f"{message['subject'] or message['text'][:60]}"
            )
    lines.append(policy_line(report))
    lines.extend(_reliability_lines(report))
    lines.append(f"Wrote {out / 'messages.jsonl'} and {out / 'report.json'}")
    return "\n".join(lines)


POLICY_REASONS = ("outranked", "frequency_cap", "quiet_hours")


def policy_line(report: dict[str, Any]) -> str:
    """One line: the messaging policy's skips (from ``by_campaign``)."""
    totals = Counter(
        {
            reason: sum(c.get(f"skipped:{reason}", 0) for c in report["by_campaign"].values())
            for reason in POLICY_REASONS
        }
    )
    return "Messaging policy skips: " + ", ".join(f"{r} {totals[r]}" for r in POLICY_REASONS)


def integrity_line(report: dict[str, Any]) -> str:
    """One line: planned, final states, pending, lost and duplicates."""
    checks = report["integrity"]
    return (
        f"planned {checks['planned']}: sent {checks['sent']}, skipped {checks['skipped']}, "
        f"failed {checks['failed']}, pending {checks['pending']}, lost {checks['lost']}, "
        f"duplicates {checks['duplicates']}"
    )


def _reliability_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    if "integrity" in report:
        lines.append("Integrity: " + integrity_line(report))
    chaos = report.get("chaos")
    if chaos:
        injected = ", ".join(f"{k} {v}" for k, v in chaos["injected"].items())
        lines.append(f"Chaos ({chaos['spec']}): injected {injected}")
    errors = report.get("redelivery", {}).get("function_errors", {})
    if errors:
        lines.append(
            "Failed invocations (retried as AWS would): "
            + ", ".join(f"{k} {v}" for k, v in errors.items())
        )
    return lines


def demo_config(
    out: Path,
    redeliver: bool = False,
    chaos: ChaosSpec | None = None,
    policy: Path | None = DEMO_POLICY,
) -> SimulationConfig:
    """The bundled demo data set's run (with its messaging policy unless ``policy`` is None)."""
    return SimulationConfig(
        customers=DEMO_DIR / "customers.jsonl",
        campaigns=DEMO_DIR / "campaigns.json",
        start=DEMO_START,
        days=DEMO_DAYS,
        out=out,
        redeliver=redeliver,
        orders=DEMO_DIR / "orders.jsonl",
        events=DEMO_DIR / "events.jsonl",
        responses=DEMO_DIR / "responses.jsonl",
        preferences=DEMO_DIR / "preferences.jsonl",
        chaos=chaos,
        policy=policy,
    )


def _config(args: argparse.Namespace, chaos: ChaosSpec | None) -> SimulationConfig:
    """The run the data arguments ask for."""
    return SimulationConfig(
        customers=args.customers,
        campaigns=args.campaigns,
        start=args.start,
        days=args.days,
        out=args.out,
        redeliver=args.redeliver,
        orders=args.orders,
        events=args.events,
        responses=args.responses,
        preferences=args.preferences,
        chaos=chaos,
        policy=args.policy,
    )


def _serve_config(args: argparse.Namespace) -> SimulationConfig | str:
    """``serve``'s run: the given files, or the demo data set (its --start/--days may change)."""
    if args.customers is None:
        if args.campaigns is not None:
            return "--campaigns needs --customers"
        demo = demo_config(args.out, args.redeliver, policy=args.policy or DEMO_POLICY)
        return replace(demo, start=args.start or demo.start, days=args.days or demo.days)
    if args.campaigns is None or args.start is None or args.days is None:
        return "--customers needs --campaigns, --start and --days"
    return _config(args, None)


def _serve(args: argparse.Namespace) -> int:
    from emulator.serve import serve

    config = _serve_config(args)
    if isinstance(config, str):
        print(f"error: {config}", file=sys.stderr)
        return 2

    def ready(server: Any, result: SimulationResult) -> None:
        print(summary(result, config.out))
        print("Local only: the marketer API accepts unsigned requests here.")
        print(f"Outbox: {server.url}/_local/outbox")
        print(f"Serving on {server.url}/", flush=True)

    try:
        serve(config, args.host, args.port, on_ready=ready)
    except KeyboardInterrupt:  # Ctrl-C while still simulating
        print("Stopped.")
        return 130
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print("Stopped.")
    # moto's in-memory state is large: without this the interpreter's final garbage
    # collection keeps the process alive for seconds after Ctrl-C. Nothing is left to save.
    gc.freeze()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    try:
        chaos = ChaosSpec.parse(args.chaos) if getattr(args, "chaos", None) is not None else None
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "demo":
        policy = None if args.no_policy else args.policy
        config = demo_config(args.out, args.redeliver, chaos, policy)
    else:
        config = _config(args, chaos)
    if args.command != "dry-run" and not args.quiet and os.environ.get("LCM_QUIET") != "1":
        config = replace(config, progress=True)
    try:
        if args.command == "dry-run":
            outcome = dry_run(config)
            print(
                f"Dry run {config.start} + {config.days} days: {outcome['messages']} messages "
                f"would be sent; excluded: {counts_text(outcome['excluded'])}; "
                f"rejected records: {len(outcome['rejected'])}"
            )
            print(f"Wrote {config.out / 'plan.jsonl'} and {config.out / 'excluded.jsonl'}")
            return 0
        result = simulate(config)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(result, config.out))
    return 0
