"""The local deployment's fixed facts: paths, region, account and environment variables.

Owns the constants every other runner module shares (template and sample-event locations,
moto's region and account, the template parameters of the local stack) and the one function
that puts the fake AWS credentials into the process environment. Imports nothing of the
runner, so every module may import it.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
SENDER_EMAIL = "messages@example.com"
# DynamoDB's item operations: the calls that consume read or write capacity (what the cost
# meter counts) and the data calls the runner's direct path hands to moto (emulator.motofast).
DYNAMODB_ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
# Template parameters of the local deployment. One dispatch shard: moto answers every index
# Query with a full table scan, so more shards only cost time here.
LOCAL_PARAMETERS = {
    "SenderEmail": SENDER_EMAIL,
    "DispatchShards": "1",
    "ConsoleDomainPrefix": "lifecycle-local",
}
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ACCOUNT_ID": ACCOUNT,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    # The dispatcher and the RFM job call AWS from one thread here: the simulated queues and
    # the seeded faults see the calls in one repeatable order.
    "JOB_THREADS": "1",
    # An import chunk's writers likewise: on moto every call is CPU in this process, so ten
    # threads only take turns (10,000 lines: 15.3 s CPU with one, 24.3 s with ten).
    "IMPORT_WRITE_CONCURRENCY": "1",
}


def set_local_environment() -> None:
    """Point boto3 and moto at the fake account (before anything of ``lifecycle`` is imported)."""
    for key, value in LOCAL_ENV.items():
        os.environ[key] = value
