"""``make chaos``: the demo under a few fault specs, checked for duplicates and losses.

Runs the demo once without faults and once per spec (each in its own process, ``--jobs`` at
a time), then prints one line per spec: the integrity figures, the faults injected, the run
time, and how the deliveries differ from the run without faults, grouped by the state they
ended in instead (each such difference carries its reason: ``failed:outcome_unknown+received``
is a message the customer got after a worker died). Details go to ``OUT/summary.json``.

Fails (exit 1) when a spec's run has a duplicate (a delivery a provider received twice), a
lost item (no final state although its send window closed inside the period) or an
unplanned delivery (planned without faults, missing from the ledger with them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from emulator.chaos import ChaosSpec
from emulator.config import InputError

SPECS = {
    "example": "ses_throttle=0.3,ses_transient=0.05,crash_after_send=0.02,ddb_throttle=0.05,seed=7",
    "ses-heavy": "ses_throttle=0.6,ses_transient=0.2,crash_after_send=0.1,seed=11",
    "ddb-heavy": "ddb_throttle=0.15,ses_throttle=0.1,seed=23",
}


@dataclass(frozen=True)
class Outcome:
    name: str
    spec: str | None
    seconds: float
    report: dict[str, Any]
    outcomes: dict[str, str]


def run_demo(name: str, spec: str | None, out: Path) -> Outcome:
    """One demo run (in a worker process)."""
    from emulator.cli import demo_config
    from emulator.runner import simulate

    chaos = ChaosSpec.parse(spec) if spec else None
    result = simulate(demo_config(out / name, chaos=chaos))
    return Outcome(name, spec, result.seconds, result.report, result.outcomes)


def differences(base: dict[str, str], run: dict[str, str]) -> dict[str, list[str]]:
    """Deliveries sent without faults that ended otherwise with them: state -> ids."""
    moved: dict[str, list[str]] = {}
    for delivery, outcome in sorted(base.items()):
        if outcome != "sent":
            continue
        other = run.get(delivery, "unplanned")
        if other != "sent":
            moved.setdefault(other, []).append(delivery)
    return moved


def line(outcome: Outcome, moved: dict[str, list[str]], failed: bool) -> str:
    checks = outcome.report["integrity"]
    injected = outcome.report.get("chaos", {}).get("injected", {})
    faults = " ".join(f"{kind}={n}" for kind, n in injected.items() if n)
    changed = ", ".join(f"{state} {len(ids)}" for state, ids in sorted(moved.items()))
    return (
        f"{'FAIL' if failed else 'ok  '} {outcome.name:<10} planned {checks['planned']} "
        f"sent {checks['sent']} skipped {checks['skipped']} failed {checks['failed']} "
        f"pending {checks['pending']} lost {checks['lost']} duplicates {checks['duplicates']}"
        f" | injected {faults or 'nothing'} | not sent vs no faults: {changed or 'none'}"
        f" | {outcome.seconds:.0f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.chaos_suite", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/chaos"))
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument(
        "specs", nargs="*", metavar="NAME=SPEC", help="specs to run instead of the built-in ones"
    )
    args = parser.parse_args(argv)
    specs = dict(SPECS)
    if args.specs:
        specs = {}
        for item in args.specs:
            name, sep, spec = item.partition("=")
            if not sep or "=" not in spec:
                print(f"error: {item!r} is not NAME=SPEC", file=sys.stderr)
                return 2
            specs[name] = spec
    try:
        for spec in specs.values():
            ChaosSpec.parse(spec)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[str, str | None]] = [("no-faults", None), *specs.items()]
    with ProcessPoolExecutor(
        max_workers=max(1, args.jobs), mp_context=get_context("spawn")
    ) as pool:
        futures = [pool.submit(run_demo, name, spec, args.out) for name, spec in runs]
        results = [future.result() for future in futures]
    base, chaotic = results[0], results[1:]
    print(f"no faults: {base.report['integrity']['sent']} sent in {base.seconds:.0f} s")
    summary: dict[str, Any] = {"no-faults": base.report["integrity"]}
    failures = 0
    for outcome in chaotic:
        moved = differences(base.outcomes, outcome.outcomes)
        checks = outcome.report["integrity"]
        failed = bool(checks["duplicates"] or checks["lost"] or moved.get("unplanned"))
        failures += failed
        print(line(outcome, moved, failed))
        summary[outcome.name] = {
            "spec": outcome.spec,
            "seconds": round(outcome.seconds, 1),
            "integrity": checks,
            "chaos": outcome.report.get("chaos"),
            "redelivery": outcome.report.get("redelivery"),
            "not_sent_vs_no_faults": moved,
            "by_state": dict(Counter(outcome.outcomes.values())),
        }
    (args.out / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"Wrote {args.out / 'summary.json'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
