"""Signing-key rotation through the real unsubscribe handler and Secrets Manager (moto).

A link signed before a rotation keeps working while its key stays in the secret; a link
whose key id the secret does not hold is answered like a forged one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.aws import client
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import _b64, _unb64, sign_unsubscribe
from lifecycle.features.importer import import_customers
from lifecycle.store.customers import get_customer
from tests.builders import customer_doc
from tests.events import load_event

T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
K1 = "first-signing-key-0123456789"
K2 = "second-signing-key-0123456789"


@pytest.fixture
def world(aws: Any, clock: Any) -> Iterator[Any]:
    clock.set(T0)
    import_customers([json.dumps(customer_doc("c-001", timezone="UTC"))], "c.jsonl", T0)
    parameters.clear_caches()
    yield aws
    parameters.clear_caches()


def _rotate_to(aws: Any, secret: dict[str, Any] | str) -> None:
    value = secret if isinstance(secret, str) else json.dumps(secret)
    client("secretsmanager").put_secret_value(
        SecretId=aws.physical["SigningSecret"], SecretString=value
    )
    parameters.clear_caches()  # what the 5-minute secret cache does on its own


def _link() -> str:
    return sign_unsubscribe(
        signing_keys(get_settings()),
        customer_id="c-001",
        channel="email",
        campaign_id="bday-2027",
        now=T0,
        ttl_days=get_settings().unsubscribe_token_ttl_days,
    )


def _kid(token: str) -> object:
    return json.loads(_unb64(token.split(".", maxsplit=1)[0])).get("kid")


def _with_kid(token: str, kid: str | None) -> str:
    """``token`` naming another key id (``None``: none), its signature kept."""
    payload, mac = token.split(".")
    body = json.loads(_unb64(payload))
    body.pop("kid")
    if kid is not None:
        body["kid"] = kid
    return f"{_b64(json.dumps(body, separators=(',', ':'), sort_keys=True).encode())}.{mac}"


def _post(aws: Any, token: str) -> int:
    event = load_event("unsubscribe/post_one_click.json")
    event["path"] = f"/u/{token}"
    event["pathParameters"] = {"token": token}
    handler = load_handler(aws.functions["UnsubscribeFunction"])
    response = handler(event, FakeLambdaContext(function_name="unsubscribe"))
    return int(response["statusCode"])


def _email_consent() -> bool:
    customer = get_customer("c-001")
    assert customer is not None
    return bool(customer["consent"]["email"])


def test_given_link_signed_with_k1_when_k2_becomes_current_then_one_click_still_works(world, clock):
    _rotate_to(world, {"current": "k1", "keys": {"k1": K1}})
    token = _link()
    assert _kid(token) == "k1"
    _rotate_to(world, {"current": "k2", "keys": {"k1": K1, "k2": K2}})
    assert _kid(_link()) == "k2"
    clock.set(T0 + timedelta(days=365))  # a year later: still valid
    assert _post(world, token) == 200
    assert _email_consent() is False


def test_given_old_single_string_secret_when_moved_into_json_as_k0_then_its_links_still_work(
    world,
):
    token = _link()  # the template's generated single-string secret: key id k0
    assert _kid(token) == "k0"
    old = client("secretsmanager").get_secret_value(SecretId=world.physical["SigningSecret"])
    _rotate_to(world, {"current": "k1", "keys": {"k0": old["SecretString"], "k1": K1}})
    assert _post(world, token) == 200


@pytest.mark.parametrize(
    "secret_after",
    [
        pytest.param({"current": "k2", "keys": {"k2": K2}}, id="k1 removed"),
        pytest.param({"current": "k1", "keys": {"k1": K2}}, id="k1 now names another key"),
    ],
)
def test_given_link_whose_key_left_the_secret_when_posted_then_403_and_nothing_changes(
    world, secret_after
):
    _rotate_to(world, {"current": "k1", "keys": {"k1": K1}})
    token = _link()
    _rotate_to(world, secret_after)
    assert _post(world, token) == 403
    assert _email_consent() is True


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: _with_kid(t, "k9"), id="unknown kid"),
        pytest.param(lambda t: _with_kid(t, "k2"), id="kid of the other key"),
        pytest.param(lambda t: _with_kid(t, None), id="kid stripped"),
    ],
)
def test_given_tampered_kid_when_posted_then_403_and_nothing_changes(world, tamper):
    _rotate_to(world, {"current": "k1", "keys": {"k1": K1, "k2": K2}})
    assert _post(world, tamper(_link())) == 403
    assert _email_consent() is True
