"""RFM benchmark: ranking time at 40,000 and 1,000,000 customers, writes on a moto run.

Usage: ``.venv/bin/python scripts/bench_rfm.py [--sizes 40000 1000000] [--moto 3000]``

1. Ranking (pure functions, no AWS): synthetic per-customer order summaries are ranked with
   :func:`lifecycle.rules.segments.rfm_ranks` and turned into documents; prints the seconds
   and how much the process grew (peak RSS) for the summaries and ranks.
2. Writes (moto, the template's tables): ``--moto N`` customers with orders, the job run on
   two consecutive days; prints the customer writes of each run (the second writes ~0).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from lifecycle.core.clock import utc_iso
from lifecycle.features.rfm import run_rfm_job
from lifecycle.rules.segments import CustomerOrders, rfm_document, rfm_ranks
from lifecycle.store import models

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def synthetic_summary(customers: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    summary = {}
    for n in range(customers):
        last = NOW - timedelta(seconds=rng.randrange(365 * 86400))
        count = 1 + int(rng.expovariate(0.6))
        summary[f"c-{n:07d}"] = CustomerOrders(
            utc_iso(last), count, round(count * rng.uniform(5, 120), 2)
        )
    return summary


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def bench_ranking(customers: int) -> dict[str, float]:
    gc.collect()
    before = _rss_mb()
    summary = synthetic_summary(customers)
    started, cpu = time.perf_counter(), time.process_time()
    ranks = rfm_ranks(summary)
    ranked, ranked_cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = _rss_mb() - before  # the process's peak grew by what summaries and ranks hold
    started = time.perf_counter()
    for customer, orders in summary.items():  # what the job builds to compare, one at a time
        rfm_document(orders, ranks[customer], NOW)
    documents = time.perf_counter() - started
    return {
        "customers": customers,
        "rank_s": ranked,
        "rank_cpu_s": ranked_cpu,
        "documents_s": documents,
        "peak_mb": peak,
    }


def bench_writes(customers: int) -> list[dict[str, float]]:
    """Run the job twice on moto (two consecutive days); the second run should write ~0."""
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
    ):
        os.environ[name] = value
    sys.path.insert(0, str(ROOT))  # the runner's package, for the template's moto stack
    from emulator.template import LocalDeployment  # noqa: PLC0415

    with mock_aws():
        deployment = LocalDeployment.create(
            ROOT / "template.yaml",
            session=boto3.Session(region_name="us-east-1"),
            parameters={
                "SenderEmail": "bench@example.com",
                "ConsoleDomainPrefix": "lifecycle-bench",
            },
        )
        os.environ.update(deployment.function_environment("RfmFunction"))
        models.configure_tables()
        rng = random.Random(2)  # noqa: S311 (synthetic data)
        with models.CustomerModel.batch_write() as batch:
            for n in range(customers):
                batch.save(models.CustomerModel(customer_id=f"c-{n:07d}", timezone="UTC"))
        with models.OrderModel.batch_write() as orders:
            for n in range(customers):
                for k in range(1 + int(rng.expovariate(0.6))):
                    at = NOW - timedelta(days=2 + rng.randrange(300), hours=k)
                    orders.save(
                        models.OrderModel(
                            order_id=f"o-{n}-{k}",
                            customer_id=f"c-{n:07d}",
                            status="delivered",
                            created_at=utc_iso(at),
                            total=round(rng.uniform(5, 120), 2),
                        )
                    )
        runs = []
        for day in range(2):
            started = time.perf_counter()
            result = run_rfm_job(NOW + timedelta(days=day))
            runs.append({**result, "seconds": round(time.perf_counter() - started, 1)})
        return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[40_000, 1_000_000])
    parser.add_argument("--moto", type=int, default=3_000, help="customers on moto (0: skip)")
    args = parser.parse_args(argv)
    for size in args.sizes:
        got = bench_ranking(size)
        print(
            f"ranking {size:>9,} customers: {got['rank_s']:6.2f} s ({got['rank_cpu_s']:.2f} s CPU) "
            f"(+{got['documents_s']:.2f} s building documents), "
            f"peak memory +{got['peak_mb']:,.0f} MB (summaries and ranks)",
            flush=True,
        )
    if args.moto:
        for day, run in enumerate(bench_writes(args.moto), start=1):
            print(
                f"moto run {day} ({args.moto:,} customers): {run['customers_scored']:,} scored, "
                f"{run['written']:,} written, {run['unchanged']:,} unchanged, "
                f"{run['cleared']:,} cleared, {run['seconds']} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
