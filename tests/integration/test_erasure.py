"""Erasure that sticks: an erased customer's data never comes back, their links store nothing.

On moto, through the real handlers with the event shapes of ``events/``: the importer (S3),
the marketer API (JSON Lines and CSV imports, ``DELETE /customers/{id}``), the survey and
the unsubscribe endpoints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.core.tokens import sign, sign_unsubscribe
from lifecycle.features.erasure import erase_customer
from lifecycle.features.importer import ERASED, import_customers
from lifecycle.store.customers import get_customer
from lifecycle.store.models import CustomerDateModel, SurveyResponseModel
from tests.builders import customer_doc
from tests.events import load_event

T0 = datetime(2027, 3, 13, 9, 0, tzinfo=UTC)
ERASED_AT = "2027-03-13T10:00:00Z"
PERSON = customer_doc(
    "c-001",
    phone="+4915112345678",
    first_name="Ana",
    last_name="Lopez",
    birthday="1990-02-28",
    locale="de-DE",
    country="DE",
    timezone="Europe/Berlin",
    consent={"email": True, "sms": True},
    dates={"signup": "2024-05-01"},
    attributes={"tier": "gold"},
)
OTHER = customer_doc("c-002", first_name="Ben")
FILE = "\n".join(json.dumps(c) for c in (PERSON, OTHER)) + "\n"
PERSONAL_FIELDS = ("email", "phone", "first_name", "last_name", "birthday", "locale", "country")


def _ctx(name: str) -> FakeLambdaContext:
    return FakeLambdaContext(function_name=name)


def _handler(aws: Any, logical_id: str) -> Any:
    return load_handler(aws.functions[logical_id])


@pytest.fixture
def erased(aws: Any, clock: Any) -> Any:
    """c-001 imported with every personal field, then erased; c-002 a live customer."""
    clock.set(T0)
    import_customers(FILE.encode().split(b"\n"), "customers.jsonl", T0)
    clock.set(datetime(2027, 3, 13, 10, 0, tzinfo=UTC))
    erase_customer("c-001", clock.now())
    return aws


def assert_still_a_tombstone(customer_id: str = "c-001") -> None:
    customer = get_customer(customer_id)
    assert customer is not None
    assert {field: customer[field] for field in PERSONAL_FIELDS} == dict.fromkeys(PERSONAL_FIELDS)
    assert customer["attributes"] == {"erased_at": ERASED_AT}
    assert customer["consent"] == {"email": False, "sms": False}
    assert set(customer["unsubscribed"]) == {"email", "sms"}
    assert customer["dates"] == {}
    assert list(CustomerDateModel.query(customer_id)) == []


# -- imports --------------------------------------------------------------------------------
def _s3_import(aws: Any, key: str, body: bytes) -> dict[str, Any]:
    bucket = aws.physical["ImportBucket"]
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    event = load_event("importer/s3_put_customers.json")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    event["Records"][0]["s3"]["object"]["size"] = len(body)
    result: dict[str, Any] = _handler(aws, "ImporterFunction")(event, _ctx("importer"))
    return result["results"][0]


def test_given_erased_customer_when_same_file_imported_again_then_rejected_erased(erased):
    result = _s3_import(erased, "customers/2027-03-01.jsonl", FILE.encode())
    assert result["imported"] == 1  # c-002
    assert result["rejected"] == [
        {"source": "2027-03-01.jsonl", "line": 1, "id": "c-001", "reason": ERASED}
    ]
    assert_still_a_tombstone()
    other = get_customer("c-002")
    assert other is not None and other["first_name"] == "Ben"


CSV = (
    "customer_id,email,first_name,birthday,consent_email,attr_tier,date_signup\n"
    "c-003,new@example.com,Cleo,1991-01-01,true,gold,\n"
    "c-001,ana@example.com,Ana,1990-02-28,true,gold,2024-05-01\n"
    "c-004,bad@,Bad,1990-13-01,true,,\n"
)


@pytest.mark.parametrize(
    ("name", "body", "content_type", "imported", "rejected"),
    [
        pytest.param(
            "jsonl",
            FILE,
            "application/x-ndjson",
            1,
            [(1, "c-001", ERASED)],
            id="JSON Lines",
        ),
        pytest.param(
            "csv",
            CSV,
            "text/csv",
            1,
            [(3, "c-001", ERASED), (4, "c-004", "email")],
            id="CSV, among a good and a bad row",
        ),
        pytest.param(
            "only the erased one, changed",
            json.dumps({**PERSON, "email": "new-address@example.com", "consent": {"sms": True}}),
            "application/x-ndjson",
            0,
            [(1, "c-001", ERASED)],
            id="new address, consent again",
        ),
        pytest.param(
            "minimal line",
            '{"customer_id": "c-001"}\n',
            "application/x-ndjson",
            0,
            [(1, "c-001", ERASED)],
            id="id only",
        ),
        pytest.param(
            "with activity",
            json.dumps({**PERSON, "last_active_at": "2027-03-13T09:30:00Z"}),
            "application/x-ndjson",
            0,
            [(1, "c-001", ERASED)],
            id="with last_active_at (the activity write path)",
        ),
        pytest.param(
            "repeated",
            FILE + json.dumps(PERSON) + "\n",
            "application/x-ndjson",
            1,
            [(3, "c-001", ERASED)],
            id="repeated in the file: the winning line is reported",
        ),
    ],
)
def test_given_erased_customer_when_imported_through_the_api_then_rejected_per_line(
    erased, name, body, content_type, imported, rejected
):
    event = load_event("campaign_api/customers_import_jsonl.json")
    event["body"] = body
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    response = _handler(erased, "CampaignApiFunction")(event, _ctx("api"))
    assert response["statusCode"] == 200, response["body"]
    report = json.loads(response["body"])
    assert report["imported"] == imported
    got = [(r["line"], r["id"], r["reason"].split(":")[0]) for r in report["rejected"]]
    assert got == rejected
    assert_still_a_tombstone()


def test_given_customer_erased_through_the_api_when_file_reimported_then_tombstone_stays(aws):
    api = _handler(aws, "CampaignApiFunction")
    event = load_event("campaign_api/customers_import_jsonl.json")
    event["body"] = FILE
    assert api(event, _ctx("api"))["statusCode"] == 200
    erase = api(load_event("campaign_api/customer_erase.json"), _ctx("api"))
    assert erase["statusCode"] == 200 and json.loads(erase["body"])["customer_found"] is True
    result = _s3_import(aws, "customers/again.jsonl", FILE.encode())
    assert [(r["line"], r["reason"]) for r in result["rejected"]] == [(1, ERASED)]
    customer = get_customer("c-001")
    assert customer is not None
    assert {f: customer[f] for f in PERSONAL_FIELDS} == dict.fromkeys(PERSONAL_FIELDS)


@pytest.mark.parametrize(
    "attributes",
    [
        {"note": "erased_at"},
        {"note": '{"erased_at": "x"}'},
        {"tier": "gold", "note": "erased_at 2027"},
    ],
)
def test_given_live_customer_whose_attributes_mention_erasure_when_imported_twice_then_imported(
    aws, attributes
):
    line = json.dumps(customer_doc("c-005", attributes=attributes))
    for _ in range(2):
        result = import_customers([line], "c.jsonl", T0)
        assert (result.imported, result.rejected) == (1, [])
    customer = get_customer("c-005")
    assert customer is not None and customer["attributes"] == attributes


@pytest.mark.parametrize(
    "attributes",
    [{"erased_at": "2027-01-01T00:00:00Z"}, {"tier": "gold", "erased_at": ""}],
)
def test_given_import_setting_erased_at_when_imported_then_refused_and_nothing_written(
    aws, attributes
):
    result = import_customers([json.dumps(customer_doc("c-006", attributes=attributes))], "x", T0)
    assert [(r.line, r.reason) for r in result.rejected] == [
        (1, "attributes.erased_at: is reserved (only erasure sets it)")
    ]
    assert get_customer("c-006") is None


# -- links ----------------------------------------------------------------------------------
def _survey_token(now: datetime) -> str:
    keys = signing_keys(get_settings())
    return sign(keys, "survey", {"s": "nps#c-001#o-1", "q": "nps"}, now, 60)


def _unsubscribe_token(now: datetime, customer_id: str = "c-001", channel: str = "email") -> str:
    return sign_unsubscribe(
        signing_keys(get_settings()),
        customer_id=customer_id,
        channel=channel,
        campaign_id="bday-2027",
        now=now,
        ttl_days=400,
    )


def _call(aws: Any, function: str, fixture: str, prefix: str, token: str, body: str | None):
    event = load_event(fixture)
    event["path"] = f"/{prefix}/{token}"
    event["pathParameters"] = {"token": token}
    if body is not None:
        event["body"] = body
    response: dict[str, Any] = _handler(aws, function)(event, _ctx(function))
    return response


SURVEY_REQUESTS = [
    pytest.param("survey/get.json", None, id="GET form"),
    pytest.param("survey/post_answer.json", "score=2&comment=Call+me+at+0151", id="POST form"),
    pytest.param("survey/post_answer.json", '{"score": 10, "comment": "Ana"}', id="POST JSON"),
    pytest.param("survey/post_answer.json", "score=11", id="POST bad score"),
]


@pytest.mark.parametrize(("fixture", "body"), SURVEY_REQUESTS)
def test_given_erased_customer_when_old_survey_link_used_then_410_and_nothing_stored(
    erased, clock, fixture, body
):
    token = _survey_token(T0)  # a link sent before the erasure
    clock.set(datetime(2027, 3, 20, tzinfo=UTC))
    response = _call(erased, "SurveyFunction", fixture, "s", token, body)
    assert response["statusCode"] == 410
    assert "Ana" not in response["body"] and "<form" not in response["body"]
    assert list(SurveyResponseModel.scan()) == []
    assert get_customer("c-001") is not None
    assert_still_a_tombstone()
    customer = get_customer("c-001")
    assert customer is not None and customer["nps_group"] is None


def test_given_survey_answered_before_erasure_when_answered_again_then_410_and_redaction_kept(
    erased, clock
):
    SurveyResponseModel(
        survey_id="nps#c-001#o-1",
        campaign_id="nps",
        customer_id="c-001",
        kind="nps",
        score=3,
        answered_at="2027-03-13T09:30:00Z",
        first_answered_at="2027-03-13T09:30:00Z",
    ).save()  # as the erasure left it: score only
    token = _survey_token(T0)
    response = _call(
        erased, "SurveyFunction", "survey/post_answer.json", "s", token, "score=9&comment=new"
    )
    assert response["statusCode"] == 410
    stored = SurveyResponseModel.get("nps#c-001#o-1")
    assert (int(stored.score), stored.comment is None, int(stored.revisions or 1)) == (3, True, 1)


@pytest.mark.parametrize(
    ("fixture", "channel"),
    [
        ("unsubscribe/get.json", "email"),
        ("unsubscribe/post_one_click.json", "email"),
        ("unsubscribe/post_one_click.json", "sms"),
    ],
)
def test_given_erased_customer_when_unsubscribe_link_used_then_410_and_nothing_written(
    erased, clock, fixture, channel
):
    token = _unsubscribe_token(T0, channel=channel)
    before = get_customer("c-001")
    clock.set(datetime(2027, 9, 1, tzinfo=UTC))
    response = _call(erased, "UnsubscribeFunction", fixture, "u", token, None)
    assert response["statusCode"] == 410
    assert "<form" not in response["body"]
    assert get_customer("c-001") == before  # not even updated_at moved


def test_given_live_customer_next_to_an_erased_one_when_links_used_then_they_work(erased, clock):
    clock.set(T0 + timedelta(days=1))
    page = _call(
        erased,
        "UnsubscribeFunction",
        "unsubscribe/post_one_click.json",
        "u",
        _unsubscribe_token(T0, customer_id="c-002"),
        None,
    )
    assert page["statusCode"] == 200
    other = get_customer("c-002")
    assert other is not None and other["consent"]["email"] is False


def test_given_unknown_customer_when_unsubscribe_link_used_then_200_as_before(aws, clock):
    clock.set(T0)
    token = _unsubscribe_token(T0, customer_id="never-imported")
    response = _call(
        aws, "UnsubscribeFunction", "unsubscribe/post_one_click.json", "u", token, None
    )
    assert response["statusCode"] == 200  # reveals nothing about unknown ids
    assert get_customer("never-imported") is None
