"""SMS segments and survey answers (pure logic)."""

from __future__ import annotations

import pytest

from lifecycle.features.surveys import parse_answer
from lifecycle.features.usage import UsageEventError, parse_usage_event
from lifecycle.rules.templates import render_sms, sms_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # extension characters count twice
        ("€" * 81, ("GSM-7", 2)),
        ("生" * 70, ("UCS-2", 1)),
        ("生" * 71, ("UCS-2", 2)),
        ("Hi 🎂", ("UCS-2", 1)),
        ("🎂" * 35, ("UCS-2", 1)),  # a surrogate pair is two UTF-16 units
        ("🎂" * 36, ("UCS-2", 2)),
    ],
)
def test_given_text_when_counted_then_encoding_and_segments(text, expected):
    assert sms_segments(text) == expected


def test_given_sms_content_when_rendered_then_localized_opt_out_and_single_line():
    sms = render_sms(
        {"en": "Hi {{ first_name }},\nhappy holidays", "zh-CN": "{{ first_name }}，节日快乐"},
        "zh-CN",
        {"first_name": "芳"},
    )
    assert sms.text == "芳，节日快乐 回复TD退订。"
    assert (sms.encoding, sms.segments) == ("UCS-2", 1)
    english = render_sms(
        {"en": "Hi {{ first_name }},\nhappy holidays"}, "ko-KR", {"first_name": "Kim"}
    )
    assert english.text == "Hi Kim, happy holidays Reply STOP to opt out."


@pytest.mark.parametrize(
    ("body", "kind", "expected"),
    [
        ("score=0", "nps", (0, None)),
        ("score=10&comment=Great+coffee", "nps", (10, "Great coffee")),
        ("score=5&comment=", "csat", (5, None)),
        ('{"score": 7, "comment": "ok"}', "nps", (7, "ok")),
        ("score= 9 ", "nps", (9, None)),
    ],
)
def test_given_valid_answer_when_parsed_then_score_and_comment(body, kind, expected):
    assert parse_answer(body, kind) == expected


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("score=11", "nps"),
        ("score=-1", "nps"),
        ("score=0", "csat"),
        ("score=6", "csat"),
        ("score=abc", "nps"),
        ("score=7.5", "nps"),
        ("", "nps"),
        ("comment=hi", "nps"),
        ('{"score": true}', "nps"),
        ('{"score": "10", "comment": 5}', "nps"),
        ("[1]", "nps"),
    ],
)
def test_given_bad_answer_when_parsed_then_value_error(body, kind):
    with pytest.raises(ValueError):
        parse_answer(body, kind)


def test_given_long_comment_when_parsed_then_truncated():
    _, comment = parse_answer("score=9&comment=" + "x" * 5000, "nps")
    assert comment is not None and len(comment) == 2000


def _event(detail: object, detail_type: str = "usage.recorded") -> dict[str, object]:
    return {"detail-type": detail_type, "source": "app", "detail": detail}


@pytest.mark.parametrize(
    "event",
    [
        _event({"customer_id": "c-1", "type": "login", "at": "2027-03-01T10:00:00Z"}, "order"),
        _event({"type": "login", "at": "2027-03-01T10:00:00Z"}),
        _event({"customer_id": "c 1", "type": "login", "at": "2027-03-01T10:00:00Z"}),
        _event({"customer_id": "c-1", "type": "login", "at": "2027-03-01T10:00:00"}),
        _event({"customer_id": "c-1", "type": "", "at": "2027-03-01T10:00:00Z"}),
        _event(None),
        _event("login"),
    ],
)
def test_given_malformed_usage_event_when_parsed_then_error(event):
    with pytest.raises(UsageEventError):
        parse_usage_event(event)
