"""Hostile input through the real handlers, with the event shapes AWS delivers, on moto.

One bad line or campaign is rejected with its line and a reason naming the problem; every
other record of the same file still imports. Usage events and survey answers that cannot be
right are refused without changing anything; a hostile name or template stored before the
checks existed cannot break the sender.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.aws import client
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import sign
from lifecycle.features.importer import import_campaigns, import_customers
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer
from lifecycle.store.responses import get_response
from tests.builders import campaign_doc, customer_doc, email_content
from tests.events import load_event

T0 = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
DEEP = "[" * 5000 + "]" * 5000
FOUR_LOOPS = (
    "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
    "{% for d in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}"
)


def _handler(aws: Any, logical_id: str) -> Any:
    return load_handler(aws.functions[logical_id])


def _ctx(name: str) -> FakeLambdaContext:
    return FakeLambdaContext(function_name=name)


def _line(customer_id: str, **fields: Any) -> bytes:
    return json.dumps(customer_doc(customer_id, **fields), ensure_ascii=False).encode()


def _import(aws: Any, key: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Put ``body`` under ``key``, run the importer on its S3 event: (result, stored report)."""
    s3 = client("s3")
    bucket = aws.physical["ImportBucket"]
    name = "customers" if key.startswith("customers/") else "campaigns"
    event = load_event(f"importer/s3_put_{name}.json")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    event["Records"][0]["s3"]["object"]["size"] = len(body)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    result = _handler(aws, "ImporterFunction")(event, _ctx("importer"))["results"][0]
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read())
    return result, report


# ------------------------------------------------------------------ customers, line by line
HOSTILE_LINES: list[tuple[str, bytes, str]] = [
    ("deep-json", DEEP.encode(), "nested deeper than 64 levels"),
    (
        "deep-attribute",
        b'{"customer_id": "c-bad", "attributes": {"a": ' + DEEP.encode() + b"}}",
        "nested deeper than 64 levels",
    ),
    ("nan", b'{"customer_id": "c-bad", "attributes": {"s": NaN}}', "NaN is not allowed"),
    ("infinity", b'{"customer_id": "c-bad", "attributes": {"s": -Infinity}}', "Infinity"),
    ("float-overflow", b'{"customer_id": "c-bad", "attributes": {"s": 2e308}}', "not a finite"),
    ("not-utf8", b'{"customer_id": "c-bad", "first_name": "Ana\xc3"}', "not UTF-8 text"),
    ("latin1", '{"customer_id": "c-bad", "first_name": "Zoë"}'.encode("latin-1"), "not UTF-8"),
    ("crlf-name", _line("c-bad", first_name="Ana\r\nBcc: x@example.com"), "first_name: "),
    ("nul-name", _line("c-bad", last_name="Lopez\x00"), "last_name: "),
    ("line-separator-name", _line("c-bad", first_name="Ana\u2028x"), "first_name: "),
    ("future-active", _line("c-bad", last_active_at="2099-01-01T00:00:00Z"), "last_active_at: "),
    ("future-created", _line("c-bad", created_at="2099-01-01T00:00:00Z"), "created_at: "),
]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [(b, r) for _, b, r in HOSTILE_LINES],
    ids=[i for i, _, _ in HOSTILE_LINES],
)
def test_given_one_hostile_line_when_importer_runs_then_the_others_import(aws, clock, bad, reason):
    clock.set(T0)
    body = b"\n".join([_line("c-1"), bad, _line("c-3")]) + b"\n"
    result, report = _import(aws, "customers/2027-03-13.jsonl", body)
    assert result["imported"] == 2
    assert [(r["line"], reason in r["reason"]) for r in result["rejected"]] == [(2, True)]
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (2, result["rejected"][0]["reason"].split(":")[0])  # the report keeps the field only
    ]
    assert get_customer("c-1") is not None and get_customer("c-3") is not None
    assert get_customer("c-bad") is None


def test_given_every_hostile_line_in_one_file_when_imported_then_each_rejected_by_line(aws, clock):
    clock.set(T0)
    lines = [_line("c-0")]
    for index, (_, bad, _) in enumerate(HOSTILE_LINES, start=1):
        lines += [bad.replace(b"c-bad", f"c-bad-{index}".encode()), _line(f"c-{index}")]
    # U+2028 / U+0085 inside a JSON string and CRLF endings do not split or spoil a record.
    lines.append(_line("c-sep", attributes={"note": "a\u2028b\u0085c"}) + b"\r")
    started = time.monotonic()
    result, report = _import(aws, "customers/all.jsonl", b"\n".join(lines) + b"\r\n")
    assert time.monotonic() - started < 10
    assert [r["line"] for r in report["rejected"]] == list(range(2, 2 * len(HOSTILE_LINES) + 1, 2))
    for rejection, (_, _, reason) in zip(result["rejected"], HOSTILE_LINES, strict=True):
        assert reason in rejection["reason"], rejection
    assert result["imported"] == len(HOSTILE_LINES) + 2
    stored = get_customer("c-sep")
    assert stored is not None and stored["attributes"] == {"note": "a\u2028b\u0085c"}


def test_given_csv_with_a_non_utf8_row_when_imported_then_only_that_row_rejected(aws, clock):
    clock.set(T0)
    body = (
        b"customer_id,email,first_name\r\n"
        b"c-1,c-1@example.com,Ana\r\n"
        b"c-2,c-2@example.com,Jos\xe9\r\n"
        b"c-3,c-3@example.com,Zo\xc3\xab\r\n"
    )
    result, report = _import(aws, "customers/people.csv", body)
    assert result["imported"] == 2
    assert [(r["line"], r["reason"][:22]) for r in result["rejected"]] == [
        (3, "record: not UTF-8 text")
    ]
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [(3, "record")]
    stored = get_customer("c-3")
    assert stored is not None and stored["first_name"] == "Zoë"


# -------------------------------------------------------------------- campaigns, one by one
def test_given_hostile_campaigns_among_good_ones_when_imported_then_only_they_are_rejected(
    aws, clock
):
    clock.set(T0)
    good = json.dumps(campaign_doc("good-1"))
    deep = '{"campaign_id": "deep", "audience": ' + DEEP + "}"
    nan = json.dumps(campaign_doc("nan")).replace('"status": "active"', '"x": NaN')
    loops = json.dumps(campaign_doc("loops", content=email_content("Hi", FOUR_LOOPS)))
    percent = json.dumps(
        campaign_doc("percent", content=email_content("{{ '%0300000000d' % 1 }}", "Hello"))
    )
    items = json.dumps(
        campaign_doc(
            "restock",
            occasion={"type": "replenishment", "days_after_purchase": 30, "skus": ["C-1"]},
            content=email_content("{{ order.items[0].name }}", "{{ order.items|length }}"),
        )
    )
    text = "[\n" + ",\n".join([good, deep, nan, loops, percent, items]) + "\n]\n"
    started = time.monotonic()
    result, report = _import(aws, "campaigns/2027.json", text.encode())
    assert time.monotonic() - started < 5
    assert result["imported"] == 2
    rejected = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(rejected) == [3, 4, 5, 6]
    assert "nested deeper than 64 levels" in rejected[3]
    assert "NaN is not allowed" in rejected[4]
    assert rejected[5].startswith("content.email.en.text: not allowed in templates: more than")
    assert rejected[6].startswith("content.email.en.subject: not allowed in templates: % format")


def test_given_campaign_file_with_a_syntax_error_when_imported_then_the_file_error_names_it(aws):
    result, _ = _import(aws, "campaigns/broken.json", b'[{"campaign_id": "a"} {"b": 1}]')
    assert result["imported"] == 0
    assert result["error"] == (
        "broken.json: not valid JSON: Expecting ',' delimiter (line 1, column 23)"
    )


# --------------------------------------------------------------------------- usage events
@pytest.mark.parametrize(
    "at",
    ["2099-01-01T00:00:00Z", "2027-03-21T08:15:01Z"],
    ids=["year-2099", "a-day-and-a-second-after-the-event"],
)
def test_given_usage_event_in_the_future_when_handled_then_invalid_and_nothing_moves(
    aws, clock, at
):
    import_customers([_line("c-001", last_active_at="2027-03-01T00:00:00Z")], "c.jsonl", T0)
    # The clock judges (an event's own "time" is set by its producer): it is the moment the
    # fixture event is delivered.
    clock.set(datetime(2027, 3, 20, 8, 15, tzinfo=UTC))
    event = load_event("usage/usage_recorded.json")
    event["detail"]["at"] = at
    outcome = _handler(aws, "UsageFunction")(event, _ctx("usage"))
    assert outcome["status"] == "invalid"
    assert outcome["error"].startswith("at: ") and "in the future" in outcome["error"]
    customer = get_customer("c-001")
    assert customer is not None and customer["last_active_at"] == "2027-03-01T00:00:00Z"
    assert _handler(aws, "UsageFunction")(load_event("usage/usage_recorded.json"), _ctx("u")) == {
        "status": "updated"
    }


# ------------------------------------------------------------------------- survey answers
def _survey_post(body: str, *, base64_encoded: bool = False) -> dict[str, Any]:
    key = signing_keys(get_settings())
    token = sign(key, "survey", {"s": "nps#c-001#o-1", "q": "nps"}, T0, 30)
    event = load_event("survey/post_answer.json")
    event["path"] = f"/s/{token}"
    event["pathParameters"] = {"token": token}
    event["body"] = body
    event["isBase64Encoded"] = base64_encoded
    return event


@pytest.mark.parametrize(
    ("body", "base64_encoded"),
    [
        ('{"score": ' + DEEP + "}", False),
        ('{"score": 9, "comment": ' + "[" * 100 + "]" * 100 + "}", False),
        ('{"score": NaN}', False),
        ('{"score": 1e999}', False),
        ("not base64!", True),
    ],
    ids=["deep-json", "deep-comment", "nan", "overflow", "bad-base64"],
)
def test_given_hostile_survey_body_when_posted_then_400_and_nothing_stored(
    aws, clock, body, base64_encoded
):
    clock.set(T0)
    response = _handler(aws, "SurveyFunction")(
        _survey_post(body, base64_encoded=base64_encoded), _ctx("survey")
    )
    assert response["statusCode"] == 400
    assert 'role="alert"' in response["body"]
    assert get_response("nps#c-001#o-1") is None


def test_given_form_body_with_a_non_utf8_byte_when_posted_then_score_kept(aws, clock):
    clock.set(T0)
    body = base64.b64encode(b"score=9&comment=gut\xff").decode()
    response = _handler(aws, "SurveyFunction")(
        _survey_post(body, base64_encoded=True), _ctx("survey")
    )
    assert response["statusCode"] == 200
    stored = get_response("nps#c-001#o-1")
    assert stored is not None and (int(stored.score), stored.comment) == (9, "gut\ufffd")


# --------------------------------------------------- stored before the checks: the sender
@pytest.fixture
def birthday(aws, clock):
    clock.set(T0)
    import_campaigns(
        json.dumps([campaign_doc("bday-2027", content=email_content("Hi {{ first_name }}", "Hi"))]),
        "campaigns.json",
        T0,
    )
    lines = [_line(cid, birthday="1990-03-14", timezone="UTC") for cid in ("c-001", "c-002")]
    assert not import_customers(lines, "customers.jsonl", T0).rejected
    return aws


def _plan_and_send(aws: Any, clock: Any) -> dict[str, Any]:
    _handler(aws, "PlannerFunction")(load_event("planner/scheduled.json"), _ctx("planner"))
    clock.set(datetime(2027, 3, 14, 9, 2, tzinfo=UTC))
    result: dict[str, Any] = _handler(aws, "SenderFunction")(
        load_event("sender/sqs_batch.json"), _ctx("sender")
    )
    return result


def test_given_stored_name_with_crlf_and_nul_when_sent_then_headers_stay_clean(birthday, clock):
    client("dynamodb").update_item(
        TableName=get_settings().customers_table,
        Key={"customer_id": {"S": "c-001"}},
        UpdateExpression="SET first_name = :f, last_name = :l",
        ExpressionAttributeValues={
            ":f": {"S": "Ana\r\nBcc: evil@example.com"},
            ":l": {"S": "Lo\x00pez\u2028"},
        },
    )
    assert _plan_and_send(birthday, clock) == {"batchItemFailures": []}
    item = ledger.get("bday-2027#c-001#2027#email")
    assert item is not None and item.status == "sent"
    from moto.ses.models import ses_backends

    raw = next(
        m.raw_data
        for m in ses_backends["123456789012"]["us-east-1"].sent_messages
        if "c-001@example.com" in m.raw_data
    )
    headers = raw.split("\n\n", 1)[0]
    assert "\x00" not in headers
    assert not any(line.startswith("Bcc") for line in headers.splitlines())
    to = next(line for line in headers.splitlines() if line.startswith("To:"))
    assert to.endswith("<c-001@example.com>")


def test_given_template_hostile_only_with_real_data_when_sent_then_template_error(aws, clock):
    # Fine with the sample name "Ana" when saved (81 iterations), not with a 50-letter name.
    loops = (
        "{% for a in first_name %}{% for b in first_name %}{% for c in first_name %}"
        "{% for d in first_name %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}Hi"
    )
    clock.set(T0)
    doc = campaign_doc("bday-2027", content=email_content("Hi", loops))
    assert import_campaigns(json.dumps([doc]), "campaigns.json", T0).imported == 1
    lines = [
        _line("c-001", birthday="1990-03-14", timezone="UTC", first_name="A" * 50),
        _line("c-002", birthday="1990-03-14", timezone="UTC", first_name="Ana"),
    ]
    assert not import_customers(lines, "customers.jsonl", T0).rejected
    started = time.monotonic()
    assert _plan_and_send(aws, clock) == {"batchItemFailures": []}
    assert time.monotonic() - started < 10
    failed = ledger.get("bday-2027#c-001#2027#email")
    assert failed is not None and (failed.status, failed.reason) == ("failed", "template_error")
    sent = ledger.get("bday-2027#c-002#2027#email")
    assert sent is not None and sent.status == "sent"
