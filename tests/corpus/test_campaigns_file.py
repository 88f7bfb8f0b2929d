"""Corpus: campaigns files (a JSON list) through the importer function's S3 event.

Each case is one element of the list between two good campaigns: the file is ``[``, the
good campaign on line 2, the case's element from line 3, the other good campaign, ``]``.
``CID`` is replaced by an id of the case's own. A rejected element is reported at the line it
starts on with a reason naming the field, and both good campaigns are imported. An accepted
one is stored (``Accepted.values``: dotted paths into the stored document; ``warning``: the
prefix of a warning; ``email_locale_for:<locale>``: the subject a customer with that locale
gets). :class:`RawFile` cases replace the whole file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import campaign_doc, email_content
from tests.corpus.conftest import T0
from tests.corpus.corpus import Accepted, Case, FileRefused, Rejected, ids, prefix_ok
from tests.events import load_event

ENTRY_POINT = "campaigns file (importer, S3 event)"


@dataclass(frozen=True)
class RawFile:
    data: bytes


def _doc(**fields: Any) -> str:
    return json.dumps(campaign_doc("CID", **fields), ensure_ascii=False)


def _with(replace: str, by: str, **fields: Any) -> str:
    text = _doc(**fields)
    assert replace in text
    return text.replace(replace, by, 1)


_SEGMENTS = _doc(sms_max_segments=1)
_LOCALES = {
    "en": {"subject": "English", "text": "Hi"},
    "zh_CN": {"subject": "中文", "text": "你好"},
}

CASES: list[Case] = [
    # ---- not a campaign object
    Case("element-true", "true", Rejected(3, "campaign: must be a JSON object")),
    Case("element-empty-object", "{}", Rejected(3, "campaign_id: Field required")),
    Case("occasion-null", _doc(occasion=None), Rejected(3, "occasion: ")),
    Case("content-list", _doc(content=[]), Rejected(3, "content: ")),
    # ---- JSON the safe loader refuses, one element at a time
    Case(
        "infinity-in-unknown-field",
        _with('"status": "active"', '"status": "active", "score": Infinity'),
        Rejected(3, "campaign: not valid JSON (Infinity is not allowed"),
    ),
    Case(
        "integer-of-5000-digits",
        _SEGMENTS.replace('"sms_max_segments": 1', '"sms_max_segments": ' + "9" * 5000),
        Rejected(3, "campaign: not valid JSON (integer longer than 4300 digits"),
    ),
    Case(
        "overflow-reported-where-it-is",
        # The same digits occur earlier, in a string: the reason must point at the number.
        '{"campaign_id": "CID", "name": "1e999 sale",\n'
        + _SEGMENTS.replace('"sms_max_segments": 1', '"sms_max_segments": 1e999').removeprefix(
            '{"campaign_id": "CID", "name": "CID",'
        ),
        Rejected(3, "campaign: not valid JSON (1e999 is too large (not a finite number) at line 4"),
    ),
    # ---- field values
    Case("name-of-201-chars", _doc(name="n" * 201), Rejected(3, "name: ")),
    Case("name-lone-surrogate", _with('"name": "CID"', '"name": "\\ud800"'), Rejected(3, "name: ")),
    Case("name-with-crlf", _doc(name="Spring\r\nBcc: all@example.com"), Rejected(3, "name: ")),
    Case("status-uppercase", _doc(status="ACTIVE"), Rejected(3, "status: ")),
    Case("channel-capitalized", _doc(channels=["Email"]), Rejected(3, "channels[0]: ")),
    Case(
        "timezone-trailing-space", _doc(default_timezone="UTC "), Rejected(3, "default_timezone: ")
    ),
    Case("send-at-arabic-digits", _doc(send_at_local="٠٩:٠٠"), Rejected(3, "send_at_local: ")),
    Case("send-at-signed-hour", _doc(send_at_local="+9:00"), Rejected(3, "send_at_local: ")),
    Case("send-at-space-padded", _doc(send_at_local=" 9:00"), Rejected(3, "send_at_local: ")),
    Case(
        "percent-off-true",
        _doc(offer={"percent_off": True, "valid_days": 14}),
        Rejected(3, "offer.percent_off: "),  # stored as 1% today
    ),
    Case("sms-max-segments-true", _doc(sms_max_segments=True), Rejected(3, "sms_max_segments: ")),
    Case(
        "template-over-20000-chars",
        _doc(content=email_content("Hi", "x" * 20_001)),
        Rejected(3, "content.email.en.text: template longer than 20000 characters"),
    ),
    Case(
        "html-without-text",
        _doc(content={"email": {"en": {"subject": "Hi", "html": "<p>Hi</p>"}}}),
        Rejected(3, "content.email.en.text: Field required"),
    ),
    # ---- accepted
    Case(
        "unknown-field-of-1-mb",
        _doc(notes="x" * 1_000_000),
        Accepted({"name": "CID", "warning": "campaign: ignored unknown field(s) notes"}),
    ),
    Case(
        "version-field-ignored",
        _doc(version=3),
        Accepted({"warning": "campaign: ignored unknown field(s) version"}),
    ),
    Case(
        "duplicate-key-last-wins",
        json.dumps(campaign_doc("other-id"))[:-1] + ', "campaign_id": "CID"}',
        Accepted({"campaign_id": "CID", "name": "other-id"}),
    ),
    Case(
        "repeated-id-later-wins",
        json.dumps(campaign_doc("GOOD1", name="Second")),
        Accepted(
            {
                "campaign_id": "GOOD1",
                "name": "Second",
                "warning": "campaign_id: repeats line 2; this one wins",
            }
        ),
    ),
    Case("raw-line-separator-in-name", _doc(name="a\u2028b"), Accepted({"name": "a\u2028b"})),
    Case(
        "underscore-locale-key",
        _doc(content={"email": _LOCALES}),
        Accepted({"email_locale_for:zh-CN": "中文"}),  # today zh-CN customers get "English"
    ),
    Case(
        "bom-before-the-list",
        RawFile(b"\xef\xbb\xbf[" + json.dumps(campaign_doc("CID")).encode() + b"]"),
        Accepted({"name": "CID"}),
    ),
    # ---- the whole file
    Case(
        "empty-file", RawFile(b""), FileRefused("campaigns.json: not valid JSON: Expecting value")
    ),
    Case(
        "trailing-comma",
        RawFile(b'[{"campaign_id": "CID"},]'),
        FileRefused("campaigns.json: not valid JSON: "),
    ),
    Case(
        "leading-comment",
        RawFile(b"// spring campaigns\n[]"),
        FileRefused("campaigns.json: not valid JSON: "),
    ),
    Case(
        "top-level-object",
        RawFile(json.dumps(campaign_doc("CID")).encode()),
        FileRefused("campaigns.json: must be a JSON list of campaign objects"),
    ),
    Case(
        "latin-1-file",
        RawFile(
            ("[" + json.dumps(campaign_doc("CID", name="Café"), ensure_ascii=False) + "]").encode(
                "latin-1"
            )
        ),
        FileRefused("campaigns.json: not UTF-8 text (byte "),
    ),
]


# --------------------------------------------------------------------------- the runner
def _names(case: Case) -> dict[str, str]:
    return {"GOOD1": f"{case.id}-a", "CID": f"{case.id}-x", "GOOD2": f"{case.id}-b"}


def _fill(text: str, names: dict[str, str]) -> str:
    for placeholder, value in names.items():
        text = text.replace(placeholder, value)
    return text


def _file(case: Case, names: dict[str, str]) -> bytes:
    if isinstance(case.input, RawFile):
        return _fill(case.input.data.decode("latin-1"), names).encode("latin-1")
    good = [json.dumps(campaign_doc(names[name])) for name in ("GOOD1", "GOOD2")]
    text = "[\n" + good[0] + ",\n" + _fill(case.input, names) + ",\n" + good[1] + "\n]\n"
    return text.encode("utf-8", "surrogatepass")


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[part]
    return document


@pytest.fixture(scope="module")
def run_import(deployment: Any, sim_clock: Any, handler: Any) -> Any:
    from lifecycle.core.aws import client

    s3 = client("s3")
    bucket = deployment.physical["ImportBucket"]
    importer = handler("ImporterFunction")

    def run(key: str, body: bytes) -> dict[str, Any]:
        sim_clock.set(T0)
        event = load_event("importer/s3_put_campaigns.json")
        record = event["Records"][0]
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["object"]["key"] = key
        record["s3"]["object"]["size"] = len(body)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        result: dict[str, Any] = importer(event)["results"][0]
        return result

    return run


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_campaigns_file_case(case: Case, run_import: Any) -> None:
    from lifecycle.campaigns.repository import get_stored
    from lifecycle.rules.templates import choose_locale

    names = _names(case)
    result = run_import(f"campaigns/{case.id}/campaigns.json", _file(case, names))
    rejected = [(r["line"], r["reason"]) for r in result["rejected"]]
    expect = case.expect

    if isinstance(expect, FileRefused):
        assert result["imported"] == 0
        assert str(result.get("error", "")).startswith(expect.message), result
        assert get_stored(names["CID"]) is None
        return
    assert "error" not in result, result
    if not isinstance(case.input, RawFile):
        for good in ("GOOD1", "GOOD2"):
            assert get_stored(names[good]) is not None, f"good campaign {good} lost: {rejected}"
    if isinstance(expect, Rejected):
        assert len(rejected) == 1 and rejected[0][0] == expect.line, rejected
        assert prefix_ok(rejected[0][1], expect.reason), rejected
        assert result["imported"] == 2
        assert get_stored(names["CID"]) is None
        return
    assert isinstance(expect, Accepted)
    assert rejected == [], rejected
    values = {k: _fill(v, names) if isinstance(v, str) else v for k, v in expect.values.items()}
    warning = values.pop("warning", None)
    warnings = [w["reason"] for w in result["warnings"]]
    if warning is None:
        assert warnings == [], warnings
    else:
        assert [w for w in warnings if w.startswith(warning)], warnings
    stored = get_stored(values.get("campaign_id", names["CID"]))
    assert stored is not None
    document = stored.campaign.document()
    for path, value in values.items():
        if path.startswith("email_locale_for:"):
            email = document["content"]["email"]
            chosen = choose_locale(list(email), path.split(":", 1)[1])
            assert email[chosen]["subject"] == value, (chosen, list(email))
        else:
            assert _at(document, path) == value, path
