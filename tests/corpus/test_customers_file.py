"""Corpus: customers files (JSON Lines and CSV) through the importer function's S3 event.

Each case is one line (JSONL) or row (CSV) between two good ones. ``CID`` in the input is
replaced by an id of the case's own, ``GOOD1`` by the first good record's id. A rejected line
is reported with its line and a reason naming the field, and both good records are still
imported; an accepted one is stored normalized (``Accepted.values``: stored fields, plus
``warning``: the prefix of a warning on that line).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.corpus.conftest import T0
from tests.corpus.corpus import (
    Accepted,
    Case,
    FileRefused,
    Ignored,
    Rejected,
    ids,
    prefix_ok,
)
from tests.events import load_event

ENTRY_POINT = "customers file (importer, S3 event)"


@dataclass(frozen=True)
class Csv:
    """One CSV row after the ``header`` (the good rows fill ``customer_id`` and ``email``)."""

    row: str
    header: str = "customer_id,first_name,email,consent_email"


@dataclass(frozen=True)
class RawFile:
    """The whole file as given (``GOOD1``, ``CID`` and ``GOOD2`` still replaced)."""

    data: bytes
    name: str = "customers.jsonl"


def _j(**fields: Any) -> str:
    return json.dumps({"customer_id": "CID", **fields}, ensure_ascii=False)


BIG = "x" * 70_000

JSONL: list[Case] = [
    # ---- instants: out of range, other notations
    Case(
        "go-zero-time-created",
        _j(created_at="0001-01-01T00:00:00Z"),
        Rejected(2, "created_at: "),  # stored as "1-01-01T00:00:00Z" today
    ),
    Case(
        "year-one-with-offset",
        _j(last_active_at="0001-01-01T00:00:00+01:00"),
        Rejected(2, "last_active_at: "),  # OverflowError today: the whole file is lost
    ),
    Case("epoch-seconds-instant", _j(created_at=1600000000), Rejected(2, "created_at: ")),
    Case(
        "offset-out-of-range",
        _j(created_at="2020-01-01T00:00:00+25:00"),
        Rejected(2, "created_at: "),
    ),
    Case("date-only-instant", _j(last_active_at="2027-03-01"), Rejected(2, "last_active_at: ")),
    Case(
        "lowercase-t-and-z",
        _j(created_at="2020-01-01t08:00:00z"),
        Accepted({"created_at": "2020-01-01T08:00:00Z"}),
    ),
    Case(
        "offset-stored-as-utc",
        _j(last_active_at="2027-03-01T10:00:00+05:30"),
        Accepted({"last_active_at": "2027-03-01T04:30:00Z"}),
    ),
    Case(
        "fractional-seconds-dropped",
        _j(last_active_at="2027-03-01T10:00:00.999999Z"),
        Accepted({"last_active_at": "2027-03-01T10:00:00Z"}),
    ),
    # ---- text that is not text
    Case(
        "lone-surrogate-in-name",
        '{"customer_id": "CID", "first_name": "Ana\\ud800"}',
        Rejected(2, "first_name: "),  # UnicodeEncodeError at the write today
    ),
    Case(
        "bom-inside-the-file",
        "\ufeff" + _j(),
        Rejected(2, "record: not valid JSON"),  # only a BOM at the start is dropped
    ),
    Case("hash-comment-line", "# exported 2027-03-01", Rejected(2, "record: not valid JSON")),
    Case("slash-comment-line", "// exported 2027-03-01", Ignored()),
    Case("tabs-only-line", "\t \t", Ignored()),
    # ---- sizes
    Case(
        "line-over-64-kib",
        _j(attributes={"note": BIG}),
        Rejected(2, "record: line longer than 65536 bytes"),
    ),
    Case(
        "attributes-over-4-kib",
        _j(attributes={"note": "x" * 5000}),
        Rejected(2, "attributes: larger than 4096 bytes"),
    ),
    Case("name-of-200-emoji", _j(first_name="🎂" * 200), Accepted({"first_name": "🎂" * 200})),
    # ---- values of the wrong kind
    Case("email-empty-string", _j(email=""), Rejected(2, "email: ")),
    Case("phone-empty-string", _j(phone=""), Rejected(2, "phone: ")),
    Case("birthday-empty-string", _j(birthday=""), Rejected(2, "birthday: ")),
    Case("consent-null-value", _j(consent={"email": None}), Rejected(2, "consent: ")),
    Case("consent-one-for-true", _j(consent={"sms": 1}), Rejected(2, "consent: ")),
    Case("id-fullwidth-digit", _j(customer_id="c-\uff11"), Rejected(2, "customer_id: ")),
    Case("id-escaped-newline", '{"customer_id": "c-1\\n"}', Rejected(2, "customer_id: ")),
    # ---- accepted and normalized
    Case(
        "duplicate-key-last-wins",
        '{"customer_id": "other-id", "email": "a@example.com", "customer_id": "CID"}',
        Accepted({"email": "a@example.com"}),
    ),
    Case("nbsp-around-name", _j(first_name="\u00a0Ana\u00a0"), Accepted({"first_name": "Ana"})),
    Case(
        "unknown-field-warned",
        _j(nickname="ani"),
        Accepted({"warning": "record: ignored unknown field(s) nickname"}),
    ),
    Case(
        "repeated-id-later-wins",
        '{"customer_id": "GOOD1", "first_name": "Second"}',
        Accepted(
            {
                "customer_id": "GOOD1",
                "first_name": "Second",
                "warning": "customer_id: repeats line 1; this line wins",
            }
        ),
    ),
]

CSV: list[Case] = [
    Case(
        "csv-cell-over-128-kib",
        Csv("CID," + "x" * 200_000 + ",cid@example.com,true"),
        Rejected(3, ("record: ", "first_name: ")),  # csv.Error today: the whole file is lost
    ),
    Case(
        "csv-bare-cr-in-cell",
        Csv("CID,Ana\rMaria,cid@example.com,true"),
        Rejected(3, ("first_name: ", "record: ")),  # csv.Error today: the whole file is lost
    ),
    Case(
        "csv-unterminated-quote",
        Csv('CID,"Ana,cid@example.com,true'),
        Rejected(3, ("record: ", "first_name: ")),  # today it swallows the next row
    ),
    Case(
        "csv-quoted-newline-in-name",
        Csv('CID,"Ana\nMaria",cid@example.com,true'),
        Rejected(3, "first_name: "),  # the line the row starts on (today: where it ends)
    ),
    Case("csv-nul-in-cell", Csv("CID,Ana\x00,cid@example.com,true"), Rejected(3, "first_name: ")),
    Case(
        "csv-more-cells-than-header",
        Csv("CID,Ana,cid@example.com,true,surplus"),
        Rejected(3, "record: more cells than header columns"),
    ),
    Case(
        "csv-consent-maybe",
        Csv("CID,Ana,cid@example.com,maybe"),
        Rejected(3, "consent: consent_email must be true or false"),
    ),
    Case(
        "csv-empty-id-cell",
        Csv(",Ana,cid@example.com,true"),
        Rejected(3, "customer_id: is required"),
    ),
    Case("csv-only-commas", Csv(",,,"), Rejected(3, "customer_id: is required")),
    Case("csv-bad-email-cell", Csv("CID,Ana,not-an-address,true"), Rejected(3, "email: ")),
    Case(
        "csv-quoted-comma",
        Csv('CID,"Lopez, Ana",cid@example.com,true'),
        Accepted({"first_name": "Lopez, Ana"}),
    ),
    Case(
        "csv-doubled-quotes",
        Csv('CID,"Ana ""La Flaca""",cid@example.com,true'),
        Accepted({"first_name": 'Ana "La Flaca"'}),
    ),
    Case("csv-stray-quote", Csv('CID,An"a,cid@example.com,true'), Accepted({"first_name": 'An"a'})),
    Case(
        "csv-fewer-cells",
        Csv("CID,Ana"),
        Accepted({"first_name": "Ana", "email": None}),
    ),
    Case(
        "csv-consent-uppercase-yes",
        Csv("CID,Ana,cid@example.com,YES"),
        Accepted({"consent": {"email": True, "sms": False}}),
    ),
    Case(
        "csv-padded-cells",
        Csv("  CID  , Ana ,cid@example.com,true"),
        Accepted({"first_name": "Ana"}),
    ),
    Case("csv-blank-row", Csv(""), Ignored()),
    Case(
        "csv-bom-before-header",
        Csv(
            "CID,Ana,cid@example.com,true",
            header="\ufeffcustomer_id,first_name,email,consent_email",
        ),
        Accepted({"first_name": "Ana"}),
    ),
    Case(
        "csv-header-capitalized",
        Csv("CID,Ana,cid@example.com,true", header="Customer_ID,first_name,email,consent_email"),
        FileRefused("CSV needs a header row with a customer_id column"),
    ),
    Case(
        "csv-semicolon-separated",
        Csv("CID;Ana;cid@example.com;true", header="customer_id;first_name;email;consent_email"),
        FileRefused("CSV needs a header row with a customer_id column"),
    ),
    Case(
        "csv-cr-only-line-ends",
        RawFile(b"customer_id,first_name\rGOOD1,Ana\rCID,Mac\rGOOD2,Eve\r", name="customers.csv"),
        Accepted({"first_name": "Mac"}),  # Excel's "CSV (Macintosh)"; csv.Error today
    ),
]

CASES = JSONL + CSV


# --------------------------------------------------------------------------- the runner
def _ids(case: Case) -> dict[str, str]:
    return {"GOOD1": f"{case.id}-a", "CID": f"{case.id}-x", "GOOD2": f"{case.id}-b"}


def _fill(text: str, names: dict[str, str]) -> str:
    for placeholder, value in names.items():
        text = text.replace(placeholder, value)
    return text


def _file(case: Case, names: dict[str, str]) -> tuple[str, bytes]:
    if isinstance(case.input, RawFile):
        return case.input.name, _fill(case.input.data.decode("latin-1"), names).encode("latin-1")
    if isinstance(case.input, Csv):
        header = case.input.header
        columns = header.removeprefix("\ufeff").split(";" if ";" in header else ",")

        def good(customer_id: str) -> str:
            cells = {"customer_id": customer_id, "email": f"{customer_id}@example.com"}
            sep = ";" if ";" in header else ","
            return sep.join(cells.get(column.lower(), "") for column in columns)

        rows = [header, good(names["GOOD1"]), _fill(case.input.row, names), good(names["GOOD2"])]
        return "customers.csv", ("\n".join(rows) + "\n").encode("utf-8", "surrogatepass")
    lines = [
        json.dumps({"customer_id": names["GOOD1"], "email": f"{names['GOOD1']}@example.com"}),
        _fill(case.input, names),
        json.dumps({"customer_id": names["GOOD2"], "email": f"{names['GOOD2']}@example.com"}),
    ]
    return "customers.jsonl", ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def run_import(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    from lifecycle.core.aws import client

    s3 = client("s3")
    bucket = deployment.physical["ImportBucket"]
    importer = handler("ImporterFunction")

    def run(key: str, body: bytes) -> dict[str, Any]:
        sim_clock.set(T0)
        event = load_event("importer/s3_put_customers.json")
        record = event["Records"][0]
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["object"]["key"] = key
        record["s3"]["object"]["size"] = len(body)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        result: dict[str, Any] = importer(event)["results"][0]
        return result

    return run


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_customers_file_case(case: Case, run_import: Any) -> None:
    from lifecycle.store.customers import get_customer

    names = _ids(case)
    name, body = _file(case, names)
    stem, dot, extension = name.rpartition(".")
    result = run_import(f"customers/{case.id}/{stem}{dot}{extension}", body)
    rejected = [(r["line"], r["reason"]) for r in result["rejected"]]
    expect = case.expect

    if isinstance(expect, FileRefused):
        assert result["imported"] == 0
        assert str(result.get("error", "")).startswith(expect.message), result
        return
    assert "error" not in result, result
    for good in ("GOOD1", "GOOD2"):
        assert get_customer(names[good]) is not None, f"good record {good} lost: {rejected}"
    if isinstance(expect, Rejected):
        assert len(rejected) == 1 and rejected[0][0] == expect.line, rejected
        assert prefix_ok(rejected[0][1], expect.reason), rejected
        assert result["imported"] == 2
        assert get_customer(names["CID"]) is None
    elif isinstance(expect, Ignored):
        assert rejected == [] and result["imported"] == 2
    else:
        assert isinstance(expect, Accepted)
        assert rejected == [], rejected
        values = {k: _fill(v, names) if isinstance(v, str) else v for k, v in expect.values.items()}
        warning = values.pop("warning", None)
        warnings = [(w["line"], w["reason"]) for w in result["warnings"]]
        if warning is None:
            assert warnings == [], warnings
        else:
            assert [w for w in warnings if w[1].startswith(warning)], warnings
        stored = get_customer(values.get("customer_id", names["CID"]))
        assert stored is not None
        assert {key: stored.get(key) for key in values} == values
