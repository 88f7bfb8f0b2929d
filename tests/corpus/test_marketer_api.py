"""Corpus: the marketer API (functions/campaign_api) with API Gateway REST events.

Each case is one request built from ``events/campaign_api/<route>.json``; ``CID`` (in the body,
the path and the query) is replaced by an id of the case's own, and campaign routes other
than create run against a draft campaign ``CID`` created first. Outcomes:

* :class:`Refused`: the status, the problem ``error`` or first invalid ``field``, always one
  of the two documented shapes; a refused create stores nothing under ``CID``.
* :class:`Accepted`: ``values["status"]`` and dotted paths into the JSON answer.
* :class:`Rejected` (customer imports): 200, that line rejected, the two good lines imported.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.corpus.conftest import T0
from tests.corpus.corpus import Accepted, Case, Refused, Rejected, ids, prefix_ok
from tests.events import load_event

ENTRY_POINT = "marketer API (campaign_api, API Gateway REST)"


@dataclass(frozen=True)
class Request:
    route: str  # a file of events/campaign_api
    body: str | None = None  # None: the sample's body
    raw: bytes | None = None  # sent base64-encoded (isBase64Encoded)
    headers: dict[str, str | None] = field(default_factory=dict)  # None removes the header
    query: dict[str, str] | None = None
    customer_id: str | None = None
    existing: bool = True  # create the draft CID first (routes on /campaigns/{id})


def _create_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event("campaign_api/create.json")["body"])
    body["campaign_id"] = "CID"
    body.update(fields)
    return body


def _create(**fields: Any) -> str:
    return json.dumps(_create_body(**fields), ensure_ascii=False)


def _swap(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


GOOD1 = '{"customer_id": "GOOD1", "email": "good1@example.com"}'
GOOD2 = '{"customer_id": "GOOD2", "email": "good2@example.com"}'
CSV_HEAD = "customer_id,first_name,email"
BODY = "body"
CREATED = {"status": 201, "campaign.campaign_id": "CID"}

CREATE: list[Case] = [
    Case(
        "create-nan-in-audience",
        Request(
            "create",
            _swap(_create(audience={"attr": "country", "gte": 1}), '"gte": 1', '"gte": NaN'),
        ),
        Refused(400, field=BODY),  # today: 404 "no campaign", and an unreadable item stays
    ),
    Case(
        "update-infinity-in-offer",
        Request(
            "update",
            _swap(
                _create(offer={"percent_off": 20}), '"percent_off": 20', '"percent_off": Infinity'
            ),
            headers={"If-Match": '"1"'},
        ),
        Refused(400, field=BODY),
    ),
    Case(
        "status-version-nan",
        Request("status", '{"status": "active", "version": NaN}'),
        Refused(400, field=BODY),
    ),
    Case(
        "test-send-nested-200-deep",
        Request("test_send", '{"to": "qa@example.com", "x": ' + "[" * 200 + "]" * 200 + "}"),
        Refused(400, field=BODY),
    ),
    Case(
        "create-integer-of-5000-digits",
        Request(
            "create",
            _swap(
                _create(sms_max_segments=3),
                '"sms_max_segments": 3',
                '"sms_max_segments": ' + "9" * 5000,
            ),
        ),
        Refused(400, field=BODY),  # ValueError today: a 500
    ),
    Case(
        "create-base64-latin-1-body",
        Request("create", raw=_create(name="Café").encode("latin-1")),
        Refused(400, field=BODY),  # UnicodeDecodeError today: a 500
    ),
    Case(
        "create-bom-before-json", Request("create", "\ufeff" + _create()), Refused(400, field=BODY)
    ),
    Case(
        "create-name-lone-surrogate",
        Request("create", _swap(_create(name="N"), '"name": "N"', '"name": "\\udfff"')),
        Refused(422, field="name"),
    ),
    Case(
        "create-id-with-umlaut",
        Request("create", _create(campaign_id="frühling")),
        Refused(422, field="campaign_id"),
    ),
    Case(
        "create-percent-off-true",
        Request(
            "create", _create(offer={"percent_off": True, "valid_days": 14, "code_prefix": "BDAY"})
        ),
        Refused(422, field="offer.percent_off"),  # saved as 1% today
    ),
    Case(
        "create-send-at-fullwidth-digits",
        Request("create", _create(send_at_local="０９:００")),
        Refused(422, field="send_at_local"),  # saved as written today
    ),
    Case(
        "create-content-type-uppercase",
        Request("create", _create(), headers={"Content-Type": "APPLICATION/JSON"}),
        Accepted(CREATED),  # media types are case-insensitive; 415 today
    ),
    Case(
        "create-content-type-with-charset",
        Request("create", _create(), headers={"Content-Type": "application/json; charset=utf-8"}),
        Accepted(CREATED),
    ),
    Case(
        "create-content-type-form",
        Request(
            "create",
            "campaign_id=CID&name=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        Refused(415, error="unsupported_media_type"),  # parsed as a form, 422 today
    ),
    Case(
        "create-content-type-vendor-json",
        Request("create", _create(), headers={"Content-Type": "application/vnd.api+json"}),
        Refused(415, error="unsupported_media_type"),
    ),
    Case(
        "create-without-content-type",
        Request("create", _create(), headers={"Content-Type": None}),
        Accepted(CREATED),
    ),
    Case(
        "create-base64-utf-8-body",
        Request("create", raw=_create(name="Café ☕").encode()),
        Accepted({**CREATED, "campaign.name": "Café ☕"}),
    ),
    Case(
        "create-duplicate-key-last-wins",
        Request("create", _create(campaign_id="other")[:-1] + ', "campaign_id": "CID"}'),
        Accepted(CREATED),
    ),
    Case(
        "create-unknown-field-of-1-mb",
        Request("create", _create(notes="x" * 1_000_000)),
        Accepted(CREATED),
    ),
    Case(
        "create-name-of-200-emoji",
        Request("create", _create(name="🎂" * 200)),
        Accepted({**CREATED, "campaign.name": "🎂" * 200}),
    ),
]

OTHER_ROUTES: list[Case] = [
    Case(
        "status-version-true",
        Request("status", '{"status": "active", "version": true}'),
        Refused(422, field="version"),  # read as version 1 today (PUT refuses it)
    ),
    Case(
        "status-version-of-30-digits",
        Request("status", '{"status": "active", "version": ' + "9" * 30 + "}"),
        Refused(409, error="version_conflict"),
    ),
    Case(
        "status-lowercase-body-key",
        Request("status", '{"Status": "active", "version": 1}'),
        Refused(422, field="status"),
    ),
    Case(
        "test-send-header-injection",
        Request(
            "test_send",
            json.dumps({"channel": "email", "to": "qa@example.com\r\nBcc: all@example.com"}),
        ),
        Refused(422, field="to"),
    ),
    Case(
        "preview-customer-of-5000-chars",
        Request("preview", json.dumps({"customer_id": "c" * 5000})),
        Refused(422, field="customer_id"),
    ),
    Case(
        "dry-run-feb-30",
        Request("dry_run", '{"from": "2027-02-30", "to": "2027-03-14"}', existing=False),
        Refused(422, field="from"),
    ),
    Case(
        "list-next-token-of-2000-chars",
        Request("list", query={"next_token": "a" * 2000}, existing=False),
        Refused(422, field="next_token"),
    ),
    Case(
        "list-status-uppercase",
        Request("list", query={"status": "ACTIVE"}, existing=False),
        Refused(422, field="status"),
    ),
    Case(
        "history-id-of-129-chars",
        Request("customer_history", customer_id="c" * 129, existing=False),
        Refused(400, error="bad_customer_id"),
    ),
    Case(
        "erase-id-with-space",
        Request("customer_erase", customer_id="c 1", existing=False),
        Refused(400, error="bad_customer_id"),
    ),
]


def _imp(body: str, **kwargs: Any) -> Request:
    return Request("customers_import_jsonl", body, existing=False, **kwargs)


def _csv(body: str, **kwargs: Any) -> Request:
    return Request("customers_import_csv", body, existing=False, **kwargs)


IMPORTED_3 = {"status": 200, "imported": 3, "rejected": []}

IMPORTS: list[Case] = [
    Case(
        "import-raw-line-separator",
        _imp(_lines(GOOD1, '{"customer_id": "CID", "attributes": {"note": "a\u2028b"}}', GOOD2)),
        Accepted(IMPORTED_3),  # str.splitlines splits the record today
    ),
    Case(
        "import-raw-next-line",
        _imp(
            _lines(
                GOOD1,
                '{"customer_id": "CID", "first_name": "Ana", "attributes": {"n": "a\u0085b"}}',
                GOOD2,
            )
        ),
        Accepted(IMPORTED_3),
    ),
    Case(
        "import-base64-latin-1-line",
        _imp(
            "",
            raw=_lines(GOOD1, '{"customer_id": "CID", "first_name": "José"}', GOOD2).encode(
                "latin-1"
            ),
        ),
        Rejected(2, "record: not UTF-8"),  # UnicodeDecodeError today: a 500
    ),
    Case(
        "import-flagged-base64-but-not",
        _imp("", raw=None, headers={"X-Corpus-Not-Base64": "1"}),
        Refused(400),  # binascii.Error today: a 500
    ),
    Case(
        "import-jsonl-with-bom",
        _imp("\ufeff" + _lines(GOOD1, '{"customer_id": "CID"}', GOOD2)),
        Accepted(IMPORTED_3),  # line 1 rejected today (the S3 path drops the BOM)
    ),
    Case(
        "import-csv-with-bom",
        _csv("\ufeff" + _lines(CSV_HEAD, "GOOD1,Ana,", "CID,Eve,", "GOOD2,Bo,")),
        Accepted(IMPORTED_3),  # 400 "needs a header row" today
    ),
    Case(
        "import-csv-bare-cr-in-cell",
        _csv(_lines(CSV_HEAD, "GOOD1,Ana,", "CID,Ana\rMaria,", "GOOD2,Bo,")),
        Rejected(3, ("first_name: ", "record: ")),  # csv.Error today: a 500
    ),
    Case(
        "import-csv-cell-over-128-kib",
        _csv(_lines(CSV_HEAD, "GOOD1,Ana,", "CID," + "x" * 200_000 + ",", "GOOD2,Bo,")),
        Rejected(3, ("record: ", "first_name: ")),  # csv.Error today: a 500
    ),
    Case(
        "import-year-one-instant",
        _imp(
            _lines(
                GOOD1, '{"customer_id": "CID", "created_at": "0001-01-01T00:00:00+01:00"}', GOOD2
            )
        ),
        Rejected(2, "created_at: "),  # OverflowError today: a 500
    ),
    Case(
        "import-lone-surrogate-name",
        _imp(_lines(GOOD1, '{"customer_id": "CID", "first_name": "\\ud83c"}', GOOD2)),
        Rejected(2, "first_name: "),  # UnicodeEncodeError today: a 500
    ),
    Case(
        "import-content-type-uppercase-csv",
        _csv(
            _lines(CSV_HEAD, "GOOD1,Ana,", "CID,Eve,", "GOOD2,Bo,"),
            headers={"Content-Type": "TEXT/CSV"},
        ),
        Accepted(IMPORTED_3),
    ),
    Case(
        "import-jsonl-sent-as-csv",
        _imp(_lines(GOOD1, '{"customer_id": "CID"}', GOOD2), headers={"Content-Type": "text/csv"}),
        Refused(400, error="unreadable_file"),
    ),
    Case("import-whitespace-only", _imp(" \n\t\n "), Refused(400, error="empty_body")),
    Case(
        "import-csv-header-only",
        _csv(_lines(CSV_HEAD)),
        Accepted({"status": 200, "imported": 0, "rejected": []}),
    ),
]

CASES = CREATE + OTHER_ROUTES + IMPORTS


# --------------------------------------------------------------------------- the runner
def _fill(text: str, names: dict[str, str]) -> str:
    for placeholder, value in names.items():
        text = text.replace(placeholder, value)
    return text


def _event(request: Request, names: dict[str, str]) -> dict[str, Any]:
    event = load_event(f"campaign_api/{request.route}.json")
    cid = names["CID"]
    event["path"] = event["path"].replace("bday-2027", cid)
    if event.get("pathParameters") and "campaign_id" in event["pathParameters"]:
        event["pathParameters"] = {"campaign_id": cid}
    if request.customer_id is not None:
        event["pathParameters"] = {"customer_id": request.customer_id}
        event["path"] = event["path"].replace("c-001", request.customer_id)
    if request.raw is not None:
        event["body"] = base64.b64encode(
            _fill(request.raw.decode("latin-1"), names).encode("latin-1")
        ).decode()
        event["isBase64Encoded"] = True
    elif request.body is not None:
        event["body"] = _fill(request.body, names)
    for key, value in request.headers.items():
        if key == "X-Corpus-Not-Base64":
            event["body"], event["isBase64Encoded"] = "!!not base64!!", True
            continue
        event["headers"] = dict(event.get("headers") or {})
        event["multiValueHeaders"] = dict(event.get("multiValueHeaders") or {})
        event["headers"].pop(key, None)
        event["multiValueHeaders"].pop(key, None)
        if value is not None:
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
    if request.query is not None:
        query = {k: _fill(v, names) for k, v in request.query.items()}
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if part.isdigit() else document[part]
    return document


@pytest.fixture(scope="module")
def api(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    call = handler("CampaignApiFunction")

    def send(event: dict[str, Any]) -> tuple[int, Any]:
        sim_clock.set(T0)
        response = call(event)
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None

    return send


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_marketer_api_case(case: Case, api: Any) -> None:
    from lifecycle.store.campaigns import get_record
    from lifecycle.store.customers import get_customer

    names = {"CID": f"{case.id}-x", "GOOD1": f"{case.id}-a", "GOOD2": f"{case.id}-b"}
    request: Request = case.input
    creates = request.route in ("create", "validate")
    if request.existing and not creates:
        draft = copy.deepcopy(_create_body())
        draft["campaign_id"] = names["CID"]
        created = api(_event(Request("create", json.dumps(draft)), names))
        assert created[0] == 201, created

    status, body = api(_event(request, names))

    expect = case.expect
    if isinstance(expect, Refused):
        allowed = expect.status if isinstance(expect.status, tuple) else (expect.status,)
        assert status in allowed, (status, body)
        assert isinstance(body, dict) and (
            set(body) == {"errors"} or {"error", "message"} <= set(body)
        ), body
        if expect.error is not None:
            assert body.get("error") == expect.error, body
        if expect.field is not None:
            assert body.get("errors") and body["errors"][0]["field"] == expect.field, body
        if request.route == "create":
            assert get_record(names["CID"]) is None, "a refused create stored the campaign"
        if request.route.startswith("customers_import"):
            assert get_customer(names["CID"]) is None
    elif isinstance(expect, Rejected):
        assert status == 200, (status, body)
        rejected = [(r["line"], r["reason"]) for r in body["rejected"]]
        assert len(rejected) == 1 and rejected[0][0] == expect.line, rejected
        assert prefix_ok(rejected[0][1], expect.reason), rejected
        assert body["imported"] == 2
        assert get_customer(names["GOOD1"]) is not None and get_customer(names["GOOD2"]) is not None
        assert get_customer(names["CID"]) is None
        assert get_customer("Maria") is None
    else:
        assert isinstance(expect, Accepted)
        values = {k: _fill(v, names) if isinstance(v, str) else v for k, v in expect.values.items()}
        assert status == values.pop("status"), (status, body)
        for path, value in values.items():
            assert _at(body, path) == value, (path, body)
