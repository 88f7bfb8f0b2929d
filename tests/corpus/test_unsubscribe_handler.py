"""Corpus: the unsubscribe endpoint, GET/POST ``/u/{token}`` (API Gateway REST events).

Each case has a customer of its own (``CID``, e-mail and SMS consent) and one request, or a
few in a row. Outcomes: :class:`Accepted` (the last answer is 200 and the customer's stored
fields, as dotted paths, have these values), :class:`Refused` (the status; the customer is
unchanged), :class:`Ignored` (200; the customer is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.corpus.conftest import T0, link_keys
from tests.corpus.corpus import Accepted, Case, Ignored, Refused, ids
from tests.events import load_event

ENTRY_POINT = "unsubscribe handler (GET/POST /u/{token})"


@dataclass(frozen=True)
class Request:
    method: str = "POST"
    token: str = "valid"  # how the token is made: see _token
    channel: str = "email"
    customer: str = "CID"
    campaign: str = "bday"
    hours_later: int = 1  # when the request arrives, after the token was signed
    body: str | None = None  # None: the sample's body


def _then(*requests: Request) -> tuple[Request, ...]:
    return requests


UNSUBSCRIBED_AT = "2027-03-13T01:00:00Z"

CASES: list[Case] = [
    # ---- channels
    Case(
        "sms-channel-post",
        Request(channel="sms"),
        Accepted(
            {"consent.sms": False, "consent.email": True, "unsubscribed.sms": UNSUBSCRIBED_AT}
        ),
    ),
    Case("sms-channel-get", Request(method="GET", channel="sms"), Ignored()),
    Case("channel-fax-post", Request(channel="fax"), Refused(400)),  # AttributeError today: 500
    Case("channel-fax-get", Request(method="GET", channel="fax"), Refused(400)),  # 200 today
    Case("channel-uppercase-email", Request(channel="EMAIL"), Refused(400)),  # 500 today
    # ---- who
    Case("customer-empty", Request(customer=""), Refused(400)),  # GetItem fails today: 500
    Case("customer-unknown", Request(customer="nobody-CID"), Ignored()),
    Case("customer-with-hash", Request(customer="CID#x"), Ignored()),
    # ---- tokens
    Case("token-for-a-survey", Request(token="survey"), Refused(403)),
    Case("token-other-key", Request(token="other-key"), Refused(403)),
    Case("token-truncated-start", Request(token="truncated-start"), Refused(403)),
    Case("token-uppercased", Request(token="uppercased"), Refused(403)),
    Case("token-leading-space", Request(token="leading-space"), Refused(403)),
    Case("token-dots-percent-encoded", Request(token="encoded-dots"), Refused(400)),
    Case("token-of-2000-chars", Request(token="long"), Refused(400)),
    Case("token-without-channel", Request(token="no-channel"), Refused(400)),
    Case(
        "token-expires-this-second",
        Request(token="ttl-1-day", hours_later=24),
        Accepted({"consent.email": False, "unsubscribed.email": "2027-03-14T00:00:00Z"}),
    ),
    Case("token-expired-a-second-ago", Request(token="ttl-1-day-plus-1s"), Refused(410)),
    # ---- repeated, methods, bodies
    Case(
        "second-campaign-keeps-first-time",
        _then(Request(campaign="bday"), Request(campaign="xmas", hours_later=30)),
        Accepted({"consent.email": False, "unsubscribed.email": UNSUBSCRIBED_AT}),
    ),
    Case(
        "get-after-post-changes-nothing",
        _then(Request(), Request(method="GET", hours_later=2)),
        Accepted({"consent.email": False, "unsubscribed.email": UNSUBSCRIBED_AT}),
    ),
    Case(
        "post-without-one-click-body",
        Request(body="hello=world"),
        Accepted({"consent.email": False, "consent.sms": True}),
    ),
    Case("method-put", Request(method="PUT"), Refused((404, 405))),
    Case("method-delete", Request(method="DELETE"), Refused((404, 405))),
    Case("method-patch", Request(method="PATCH"), Refused((404, 405))),
]


# --------------------------------------------------------------------------- the runner
def _token(request: Request, customer: str) -> str:
    from lifecycle.core.tokens import sign, sign_unsubscribe

    keys = link_keys()

    def unsub(key: Any = keys, now: Any = T0, ttl: int = 90) -> str:
        return sign_unsubscribe(
            key,
            customer_id=customer,
            channel=request.channel,
            campaign_id=request.campaign,
            now=now,
            ttl_days=ttl,
        )

    made = {
        "valid": unsub,
        "survey": lambda: sign(keys, "survey", {"s": f"nps#{customer}#o-1", "q": "nps"}, T0, 30),
        "other-key": lambda: unsub(key=b"o" * 32),
        "truncated-start": lambda: unsub()[5:],
        "uppercased": lambda: unsub().upper(),
        "leading-space": lambda: " " + unsub(),
        "encoded-dots": lambda: unsub().replace(".", "%2E"),
        "long": lambda: "a" * 2000,
        "no-channel": lambda: sign(keys, "unsub", {"c": customer, "k": "bday"}, T0, 90),
        "ttl-1-day": lambda: unsub(ttl=1),
        # signed so that it expired one second before the request (an hour after T0)
        "ttl-1-day-plus-1s": lambda: unsub(now=T0 - timedelta(days=1, seconds=1, hours=-1), ttl=1),
    }
    return made[request.token]()


def _event(request: Request, token: str) -> dict[str, Any]:
    sample = (
        "unsubscribe/get.json" if request.method == "GET" else "unsubscribe/post_one_click.json"
    )
    event = load_event(sample)
    event["httpMethod"] = request.method
    event["path"] = f"/u/{token}"
    event["pathParameters"] = {"token": token}
    event["requestContext"]["path"] = f"/v1/u/{token}"
    event["requestContext"]["httpMethod"] = request.method
    if request.body is not None:
        event["body"] = request.body
    return event


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = (document or {}).get(part)
    return document


@pytest.fixture(scope="module")
def unsubscribe(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    return handler("UnsubscribeFunction")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_unsubscribe_handler_case(case: Case, unsubscribe: Any, sim_clock: Any) -> None:
    from lifecycle.features.importer import import_customers
    from lifecycle.store.customers import get_customer

    cid = f"{case.id}-x"
    sim_clock.set(T0)
    line = (
        f'{{"customer_id": "{cid}", "email": "{cid}@example.com", "phone": "+4915112345678",'
        ' "consent": {"email": true, "sms": true}}'
    )
    assert not import_customers([line], "customers.jsonl", T0).rejected
    before = get_customer(cid)
    requests = case.input if isinstance(case.input, tuple) else (case.input,)

    status = 0
    for request in requests:
        sim_clock.set(T0 + timedelta(hours=request.hours_later))
        token = _token(request, request.customer.replace("CID", cid))
        status = unsubscribe(_event(request, token))["statusCode"]

    after = get_customer(cid)
    expect = case.expect
    if isinstance(expect, Refused):
        allowed = expect.status if isinstance(expect.status, tuple) else (expect.status,)
        assert status in allowed
        assert after == before
    elif isinstance(expect, Ignored):
        assert status == 200
        assert after == before
    else:
        assert isinstance(expect, Accepted)
        assert status == 200
        assert {path: _at(after, path) for path in expect.values} == expect.values
