"""Corpus: the survey endpoint, GET/POST ``/s/{token}`` (API Gateway REST events).

Each case is one request with a token for a survey of its own (``nps#sv-1#<case>``, signed
with the deployment's key unless the case forges it). Outcomes: :class:`Accepted` (200 and
the stored response's ``score`` / ``comment``), :class:`Refused` (the status, nothing
stored), :class:`Ignored` (200, nothing stored: GET only shows the form).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.corpus.conftest import T0, link_keys
from tests.corpus.corpus import Accepted, Case, Ignored, Refused, ids
from tests.events import load_event

ENTRY_POINT = "survey handler (GET/POST /s/{token})"
CUSTOMER = "sv-1"


@dataclass(frozen=True)
class Visit:
    body: str | None = "score=9"
    method: str = "POST"
    token: str = "valid"  # how the token is made: see _token
    base64: bool = False
    content_type: str | None = None
    survey: str = f"nps#{CUSTOMER}#SID"  # the survey id in the token; SID: the case's order
    kind: str = "nps"


def _post(body: str, **kwargs: Any) -> Visit:
    return Visit(body=body, **kwargs)


SMILE = "%F0%9F%98%80"  # U+1F600, form-encoded

CASES: list[Case] = [
    # ---- scores that are not a plain ASCII whole number
    Case("score-with-underscore", _post("score=1_0"), Refused(400)),  # read as 10 today
    Case("score-arabic-indic-nine", _post("score=%D9%A9"), Refused(400)),  # read as 9 today
    Case("score-emoji", _post(f"score={SMILE}"), Refused(400)),
    Case("score-uppercase-key", _post("SCORE=9"), Refused(400)),
    Case("score-semicolon-separator", _post("score=9;comment=x"), Refused(400)),
    Case("json-score-float", _post('{"score": 9.0}'), Refused(400)),
    Case("json-score-null", _post('{"score": null}'), Refused(400)),
    Case("json-comment-object", _post('{"score": 9, "comment": {"text": "hi"}}'), Refused(400)),
    Case(
        "multipart-body",
        _post(
            '--b\r\nContent-Disposition: form-data; name="score"\r\n\r\n9\r\n--b--',
            content_type="multipart/form-data; boundary=b",
        ),
        Refused(400),
    ),
    # ---- accepted, normalized
    Case("score-repeated-first-wins", _post("score=9&score=3"), Accepted({"score": 9})),
    Case("json-duplicate-key-last-wins", _post('{"score": 3, "score": 9}'), Accepted({"score": 9})),
    Case("json-score-as-text", _post('{"score": " 9 "}'), Accepted({"score": 9})),
    Case(
        "json-comment-lone-surrogate",
        _post('{"score": 9, "comment": "ok \\ud800"}'),
        Accepted({"score": 9}),  # UnicodeEncodeError at the write today: a 500
    ),
    Case(
        "comment-of-3000-emoji",
        _post(f"score=10&comment={SMILE * 3000}"),
        Accepted({"score": 10, "comment": "\U0001f600" * 2000}),  # 2000 characters kept
    ),
    Case(
        "form-body-labelled-json",
        _post("score=5&comment=late", content_type="application/json"),
        Accepted({"score": 5, "comment": "late"}),
    ),
    Case(
        "base64-json-body",
        _post(base64.b64encode(b'{"score": 7, "comment": "gut"}').decode(), base64=True),
        Accepted({"score": 7, "comment": "gut"}),
    ),
    Case("customer-unknown", _post("score=5", survey="nps#nobody#SID"), Accepted({"score": 5})),
    # ---- tokens
    Case("token-expired", _post("score=9", token="expired"), Refused(410)),
    Case("token-truncated-end", _post("score=9", token="truncated-end"), Refused(403)),
    Case("token-truncated-start", _post("score=9", token="truncated-start"), Refused(403)),
    Case("token-other-key", _post("score=9", token="other-key"), Refused(403)),
    Case("token-for-unsubscribe", _post("score=9", token="unsubscribe"), Refused(403)),
    Case("token-of-2000-chars", _post("score=9", token="long"), Refused(400)),
    Case("token-with-three-dots", _post("score=9", token="dots"), Refused(400)),
    Case("token-kind-ces", _post("score=3", kind="ces", survey="ces#sv-1#SID"), Refused(400)),
    Case("token-survey-without-hash", _post("score=3", survey="nps-sv-1-SID"), Refused(400)),
    Case("token-without-kind", _post("score=3", token="no-kind"), Refused(400)),
    Case(
        "token-empty-customer",
        _post("score=3", survey="nps##SID"),
        Refused(400),  # GetItem with an empty key today: a 500
    ),
    # ---- methods
    Case("method-put", _post("score=9", method="PUT"), Refused((404, 405))),
    Case("method-delete", Visit(body=None, method="DELETE"), Refused((404, 405))),
    Case("get-with-a-body", _post("score=3", method="GET"), Ignored()),
    Case("get-expired-token", Visit(body=None, method="GET", token="expired"), Refused(410)),
]


# --------------------------------------------------------------------------- the runner
def _token(visit: Visit, survey_id: str) -> str:
    from lifecycle.core.tokens import sign, sign_unsubscribe

    keys = link_keys()
    body = {"s": survey_id, "q": visit.kind}
    made = {
        "valid": lambda: sign(keys, "survey", body, T0, 30),
        "expired": lambda: sign(keys, "survey", body, T0 - timedelta(days=31), 30),
        "truncated-end": lambda: sign(keys, "survey", body, T0, 30)[:-5],
        "truncated-start": lambda: sign(keys, "survey", body, T0, 30)[5:],
        "other-key": lambda: sign(b"o" * 32, "survey", body, T0, 30),
        "unsubscribe": lambda: sign_unsubscribe(
            keys, customer_id=CUSTOMER, channel="email", campaign_id="nps", now=T0, ttl_days=30
        ),
        "long": lambda: "a" * 2000,
        "dots": lambda: "a.b.c.d",
        "no-kind": lambda: sign(keys, "survey", {"s": survey_id}, T0, 30),
    }
    return made[visit.token]()


def _event(visit: Visit, token: str) -> dict[str, Any]:
    event = load_event("survey/get.json" if visit.method == "GET" else "survey/post_answer.json")
    event["httpMethod"] = visit.method
    event["path"] = f"/s/{token}"
    event["pathParameters"] = {"token": token}
    event["requestContext"]["path"] = f"/v1/s/{token}"
    event["requestContext"]["httpMethod"] = visit.method
    event["body"] = visit.body
    event["isBase64Encoded"] = visit.base64
    if visit.content_type is not None:
        event["headers"] = dict(event.get("headers") or {}, **{"Content-Type": visit.content_type})
        event["multiValueHeaders"] = dict(
            event.get("multiValueHeaders") or {}, **{"Content-Type": [visit.content_type]}
        )
    return event


@pytest.fixture(scope="module")
def survey(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    from lifecycle.features.importer import import_customers

    sim_clock.set(T0)
    line = f'{{"customer_id": "{CUSTOMER}", "email": "sv-1@example.com", "locale": "en-GB"}}'
    assert not import_customers([line], "customers.jsonl", T0).rejected
    return handler("SurveyFunction")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_survey_handler_case(case: Case, survey: Any, sim_clock: Any) -> None:
    from lifecycle.store.responses import get_response

    visit: Visit = case.input
    survey_id = visit.survey.replace("SID", f"o-{case.id}")
    sim_clock.set(T0 + timedelta(hours=1))

    response = survey(_event(visit, _token(visit, survey_id)))

    status = response["statusCode"]
    stored = get_response(survey_id)
    expect = case.expect
    if isinstance(expect, Refused):
        allowed = expect.status if isinstance(expect.status, tuple) else (expect.status,)
        assert status in allowed, (status, response["body"][:300])
        assert stored is None
    elif isinstance(expect, Ignored):
        assert status == 200, response["body"][:300]
        assert stored is None
    else:
        assert isinstance(expect, Accepted)
        assert status == 200, response["body"][:300]
        assert stored is not None
        answer = {"score": int(stored.score), "comment": stored.comment}
        assert {key: answer[key] for key in expect.values} == expect.values
