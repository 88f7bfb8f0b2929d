"""End to end: ``python -m emulator serve`` simulates a short period, then serves the
template's API routes, the public pages and the local outbox on a local port.

The server runs on an ephemeral port of 127.0.0.1 in a thread of the test (pytest-socket
allows that host for these tests only); requests go through urllib as a browser's would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig
from emulator.serve import LocalServer, serving
from tests.builders import campaign_doc, customer_doc, email_content

pytestmark = [pytest.mark.e2e, pytest.mark.allow_hosts(["127.0.0.1"])]

CUSTOMERS = [
    customer_doc("ana", first_name="<b>Ana</b>", birthday="1990-03-01", locale="en"),
    customer_doc("bo", first_name="Bo", locale="en"),
]
CAMPAIGNS = [
    campaign_doc("bday", content=email_content("Hi {{ first_name }}", "Happy birthday")),
    campaign_doc(
        "nps",
        occasion={"type": "post_purchase_survey", "delay_days": 1, "kind": "nps"},
        send_at_local="11:00",
        content=email_content("How did we do?", "Rate us: {{ survey_url }}"),
    ),
]
ORDERS = [
    {
        "order_id": "o-1",
        "customer_id": "bo",
        "status": "delivered",
        "created_at": "2027-03-01T01:00:00Z",
        "delivered_at": "2027-03-01T08:00:00Z",
        "items": [{"sku": "TEA", "name": "Tea", "qty": 1, "price": 5}],
        "total": 5,
        "currency": "EUR",
    }
]


def _lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("serve")
    campaigns = folder / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS), encoding="utf-8")
    config = SimulationConfig(
        customers=_lines(folder / "customers.jsonl", CUSTOMERS),
        campaigns=campaigns,
        start=date(2027, 3, 1),
        days=2,
        out=folder / "out",
        orders=_lines(folder / "orders.jsonl", ORDERS),
    )
    with serving(config, port=0) as (local, _):
        yield local


def _request(
    url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 - the local server only
        url, data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _outbox(server: LocalServer) -> list[dict[str, Any]]:
    status, headers, body = _request(f"{server.url}/_local/outbox.json")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    rows: list[dict[str, Any]] = json.loads(body)
    return rows


def _state(server: LocalServer) -> dict[str, Any]:
    """Every item of every table (where consent and answers are kept)."""
    assert server.app is not None
    client = server.app.simulation.dynamodb
    tables = {}
    for name in sorted(client.list_tables()["TableNames"]):
        items = client.scan(TableName=name)["Items"]
        tables[name] = sorted(json.dumps(i, sort_keys=True) for i in items)
    return tables


def test_given_simulated_period_when_outbox_json_read_then_messages_with_links_on_this_server(
    server,
):
    rows = _outbox(server)

    by_campaign = {r["campaign_id"]: r for r in rows}
    assert set(by_campaign) == {"bday", "nps"}
    birthday = by_campaign["bday"]
    assert birthday["to"] == "ana@example.com"
    assert birthday["subject"] == "Hi <b>Ana</b>"
    assert {"customer_id", "channel", "text", "sent_at", "local_time", "headers"} <= set(birthday)
    assert birthday["links"]["unsubscribe"].startswith(f"{server.url}/u/")
    assert birthday["links"]["survey"] is None
    survey = by_campaign["nps"]
    assert survey["links"]["survey"].startswith(f"{server.url}/s/")
    # The e-mails themselves link here (PUBLIC_BASE_URL is this server).
    assert f"{server.url}/s/" in survey["text"]


def test_given_outbox_page_when_read_then_escaped_list_and_sandboxed_message(server):
    status, headers, body = _request(f"{server.url}/_local/outbox")
    page = body.decode()
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Hi &lt;b&gt;Ana&lt;/b&gt;" in page
    assert "<b>Ana</b>" not in page
    first = _outbox(server)[0]
    status, _, body = _request(f"{server.url}/_local/outbox/{first['id']}")
    assert status == 200
    assert "&lt;b&gt;Ana" in body.decode()
    status, _, _ = _request(f"{server.url}/_local/outbox/email-999")
    assert status == 404


def test_given_survey_link_when_opened_and_answered_then_answer_stored(server):
    link = next(r for r in _outbox(server) if r["campaign_id"] == "nps")["links"]["survey"]
    status, headers, body = _request(link)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    before = _state(server)

    status, _, body = _request(
        link,
        "POST",
        b"score=9&comment=Nice+%3Cb%3Etea%3C%2Fb%3E",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert status == 200, body[:300]
    assert _state(server) != before
    assert b"<b>tea</b>" not in body


def test_given_unsubscribe_link_when_got_then_nothing_changes_and_when_posted_then_it_does(server):
    link = next(r for r in _outbox(server) if r["campaign_id"] == "bday")["links"]["unsubscribe"]
    before = _state(server)

    status, _, _ = _request(link)
    assert status == 200
    assert _state(server) == before

    status, _, _ = _request(
        link,
        "POST",
        b"List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200
    assert _state(server) != before


def test_given_marketer_api_when_called_unsigned_locally_then_answered(server):
    status, _, body = _request(f"{server.url}/campaigns")
    assert status == 200
    listed = json.loads(body)
    text = json.dumps(listed)
    assert "bday" in text and "nps" in text
    status, _, body = _request(f"{server.url}/campaigns/bday")
    assert status == 200
    assert '"bday"' in body.decode()


def test_given_unknown_route_or_method_when_requested_then_api_gateway_403(server):
    for method, path in (("GET", "/nowhere"), ("PATCH", "/campaigns"), ("GET", "/u")):
        status, _, body = _request(f"{server.url}{path}", method)
        assert status == 403
        assert json.loads(body) == {"message": "Missing Authentication Token"}
    status, _, _ = _request(f"{server.url}/_local/outbox.json", "POST", b"x")
    assert status == 405
