"""boto3 clients, created once per process (a client costs ~0.1 s; never in hot loops)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS


@cache
def session() -> boto3.Session:
    return boto3.Session()


@cache
def client(service: str) -> Any:
    return session().client(service)


def reset_clients() -> None:
    """Forget cached clients and parameter values (the local runner and tests switch back-ends)."""
    client.cache_clear()
    session.cache_clear()
    parameters.clear_caches()
    DEFAULT_PROVIDERS.clear()
