"""Hostile input: each bad record or template gets a clear error; the others still go through.

Deep JSON, NaN and Infinity (the safe loader), templates that would run for minutes or
allocate gigabytes, dict keys that shadow dict methods, control characters in names and
headers, non-UTF-8 bytes and Unicode line separators in a customers file, instants far in
the future.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from lifecycle.campaigns.model import CampaignError, parse_campaign
from lifecycle.core import jsonsafe
from lifecycle.core.clock import SimulatedClock, SystemClock, set_clock
from lifecycle.features.importer import parse_customer_lines, split_lines
from lifecycle.features.surveys import parse_answer
from lifecycle.features.usage import UsageEventError, parse_usage_event
from lifecycle.messages.channels.email import OutgoingEmail, build_mime
from lifecycle.rules import template_limits
from lifecycle.rules.records import RecordError, parse_customer
from lifecycle.rules.templates import RenderError, render
from tests.builders import campaign_doc, customer_doc, email_content, outgoing_email
from tests.events import load_event

NOW = datetime(2027, 3, 13, 0, 0, tzinfo=UTC)
DEEP = "[" * 5000 + "]" * 5000
FIELD = "content.email.en.text"
CONTEXT: dict[str, Any] = {"first_name": "Ana", "unsubscribe_url": "https://x/u/t"}


@pytest.fixture
def clock() -> Iterator[SimulatedClock]:
    simulated = SimulatedClock(NOW)
    set_clock(simulated)
    yield simulated
    set_clock(SystemClock())


def _line(**fields: Any) -> str:
    return json.dumps(customer_doc("c-x", **fields))


def _good(customer_id: str) -> str:
    return json.dumps(customer_doc(customer_id))


# ------------------------------------------------------------------- 1 + 6: the JSON loader
LOADER_REFUSALS = [
    ("deep-list", DEEP, "nested deeper than 64 levels"),
    ("deep-object", '{"a":' * 5000 + "1" + "}" * 5000, "nested deeper than 64 levels"),
    ("depth-65", "[" * 65 + "]" * 65, "nested deeper than 64 levels"),
    ("nan", '{"x": NaN}', "NaN is not allowed"),
    ("infinity", '{"x": Infinity}', "Infinity is not allowed"),
    ("minus-infinity", "[-Infinity]", "-Infinity is not allowed"),
    ("float-overflow", '{"x": 1e999}', "not a finite number"),
    ("int-too-long", "1" * 5000, "integer longer than"),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [(t, m) for _, t, m in LOADER_REFUSALS],
    ids=[i for i, _, _ in LOADER_REFUSALS],
)
def test_given_hostile_json_when_loaded_then_decode_error_names_the_limit(text, message):
    with pytest.raises(json.JSONDecodeError, match=message) as caught:
        jsonsafe.loads(text)
    assert isinstance(caught.value, jsonsafe.JSONLimitError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 64 + "]" * 64,
        '{"a": "[[[[[[[[{{{{{{ NaN Infinity"}',
        '["a\\"[[[[[", "\\\\", -1.5e300]',
        '{"note": "a\u2028b\u0085c"}',
    ],
    ids=["depth-64", "brackets-in-string", "escaped-quote", "line-separators"],
)
def test_given_ordinary_json_when_loaded_then_same_as_json_loads(text):
    assert jsonsafe.loads(text) == json.loads(text)


def test_given_list_with_one_deep_element_when_items_read_then_only_that_element_refused():
    text = '[\n {"a": 1},\n ' + DEEP + ',\n {"b": NaN},\n {"c": 2}\n]'
    items = jsonsafe.array_items(text)
    assert [line for line, _ in items] == [2, 3, 4, 5]
    assert items[0][1] == {"a": 1} and items[3][1] == {"c": 2}
    assert "nested deeper than 64 levels" in str(items[1][1])
    assert "NaN is not allowed" in str(items[2][1])


@pytest.mark.parametrize(
    "text", ["[1 2]", "[1,]", "[1] x", '["open]'], ids=["no-comma", "trailing", "extra", "open"]
)
def test_given_broken_list_when_items_read_then_whole_text_is_a_decode_error(text):
    with pytest.raises(json.JSONDecodeError):
        jsonsafe.array_items(text)


# ------------------------------------------------ 1, 5, 6: one bad customer line among good
BAD_LINES: list[tuple[str, bytes, str]] = [
    ("deep-json", DEEP.encode(), "record: not valid JSON (nested deeper than 64 levels"),
    (
        "deep-attribute",
        b'{"customer_id": "c-x", "attributes": {"a": ' + DEEP.encode() + b"}}",
        "record: not valid JSON (nested deeper than 64 levels",
    ),
    ("nan", b'{"customer_id": "c-x", "attributes": {"score": NaN}}', "NaN is not allowed"),
    ("infinity", b'{"customer_id": "c-x", "attributes": {"s": Infinity}}', "Infinity is not"),
    ("float-overflow", b'{"customer_id": "c-x", "attributes": {"s": 1e999}}', "not a finite"),
    ("not-utf8", b'{"customer_id": "c-x", "first_name": "Ana\xff"}', "record: not UTF-8 text"),
    ("latin1", '{"customer_id": "c-x", "first_name": "José"}'.encode("latin-1"), "not UTF-8"),
    ("crlf-name", _line(first_name="Ana\r\nBcc: x@example.com").encode(), "first_name: "),
    ("nul-name", _line(last_name="Lopez\u0000").encode(), "last_name: "),
    ("future-active", _line(last_active_at="2099-01-01T00:00:00Z").encode(), "last_active_at: "),
    ("future-created", _line(created_at="2099-01-01T00:00:00Z").encode(), "created_at: "),
]


@pytest.mark.parametrize(
    ("bad", "reason"), [(b, r) for _, b, r in BAD_LINES], ids=[i for i, _, _ in BAD_LINES]
)
def test_given_one_hostile_line_when_file_parsed_then_only_that_line_rejected(bad, reason):
    data = b"\n".join([_good("c-1").encode(), bad, _good("c-3").encode()]) + b"\n"
    records, result = parse_customer_lines(split_lines(data), "customers.jsonl", now=NOW)
    assert [r.customer_id for _, r in records] == ["c-1", "c-3"]
    assert [line for line, _ in records] == [1, 3]
    assert [r.line for r in result.rejected] == [2]
    assert reason in result.rejected[0].reason


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\u0085"], ids=["U+2028", "U+2029", "NEL"]
)
def test_given_unicode_line_separator_in_a_string_when_parsed_then_record_stays_whole(separator):
    note = json.dumps({"customer_id": "c-2", "attributes": {"note": f"a{separator}b"}})
    raw = note.replace(json.dumps(separator)[1:-1], separator)  # the character itself
    assert separator in raw
    data = "\n".join([_good("c-1"), raw, _good("c-3"), ""]).encode()
    records, result = parse_customer_lines(split_lines(data), "c.jsonl", now=NOW)
    assert not result.rejected, result.rejected
    assert [(line, r.customer_id) for line, r in records] == [(1, "c-1"), (2, "c-2"), (3, "c-3")]
    assert records[1][1].attributes == {"note": f"a{separator}b"}


@pytest.mark.parametrize(
    "control", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e"], ids=["VT", "FF", "FS", "GS", "RS"]
)
def test_given_raw_control_character_in_a_string_when_parsed_then_one_line_rejected(control):
    raw = '{"customer_id": "c-2", "first_name": "A' + control + 'B"}'
    data = "\n".join([_good("c-1"), raw, _good("c-3")]).encode()
    records, result = parse_customer_lines(split_lines(data), "c.jsonl", now=NOW)
    assert [(line, r.customer_id) for line, r in records] == [(1, "c-1"), (3, "c-3")]
    assert [(r.line, r.reason[:22]) for r in result.rejected] == [(2, "record: not valid JSON")]


def test_given_crlf_file_with_bom_when_split_then_lines_numbered_and_clean():
    data = b"\xef\xbb\xbf" + _good("c-1").encode() + b"\r\n\r\n" + _good("c-2").encode() + b"\r\n"
    records, result = parse_customer_lines(split_lines(data), "c.jsonl", now=NOW)
    assert not result.rejected
    assert [(line, r.customer_id) for line, r in records] == [(1, "c-1"), (3, "c-2")]


# --------------------------------------------------------------- 4 + 6: record validation
RECORD_REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("lf-first", {"first_name": "Ana\nBcc: x@example.com"}, "first_name"),
    ("cr-first", {"first_name": "Ana\r"}, "first_name"),
    ("nul-last", {"last_name": "Lo\x00pez"}, "last_name"),
    ("tab-first", {"first_name": "Ana\tMaria"}, "first_name"),
    ("esc-first", {"first_name": "\x1b[31mAna"}, "first_name"),
    ("del-last", {"last_name": "Lopez\x7f"}, "last_name"),
    ("c1-nel-first", {"first_name": "Ana\x85"}, "first_name"),
    ("c1-csi-last", {"last_name": "\x9bLopez"}, "last_name"),
    ("line-sep-first", {"first_name": "Ana\u2028Bcc"}, "first_name"),
    ("para-sep-last", {"last_name": "Lopez\u2029"}, "last_name"),
    ("nan-attribute", {"attributes": {"score": float("nan")}}, "attributes.score"),
    ("inf-nested", {"attributes": {"a": [1, {"b": float("inf")}]}}, "attributes.a[1].b"),
    ("minus-inf", {"attributes": {"x": float("-inf")}}, "attributes.x"),
    ("inf-unknown-field", {"extra": float("inf")}, "extra"),
    ("deep-attribute", {"attributes": {"a": json.loads("[" * 100 + "]" * 100)}}, "attributes"),
    ("future-active", {"last_active_at": "2099-01-01T00:00:00Z"}, "last_active_at"),
    ("future-created", {"created_at": "2027-03-14T00:00:01Z"}, "created_at"),
    ("future-active-offset", {"last_active_at": "2027-03-14T02:00:01+02:00"}, "last_active_at"),
]


@pytest.mark.parametrize(
    ("fields", "field"),
    [(f, n) for _, f, n in RECORD_REFUSALS],
    ids=[i for i, _, _ in RECORD_REFUSALS],
)
def test_given_hostile_field_when_record_parsed_then_error_names_the_field(fields, field):
    with pytest.raises(RecordError) as caught:
        parse_customer(customer_doc("c-x", **fields), now=NOW)
    assert caught.value.reason.startswith(f"{field}: "), caught.value.reason
    assert caught.value.record_id == "c-x"


def test_given_recent_instants_and_plain_names_when_parsed_then_accepted():
    record = parse_customer(
        customer_doc(
            "c-ok",
            first_name="José-María",
            last_name="O'Brien 王",
            created_at="2027-03-13T23:59:59Z",  # within a day of the clock: clock skew is fine
            last_active_at="2027-03-12T10:00:00Z",
            attributes={"score": 1.5, "tags": ["a", {"b": None}]},
        ),
        now=NOW,
    )
    assert record.first_name == "José-María"
    assert record.created_at == datetime(2027, 3, 13, 23, 59, 59, tzinfo=UTC)


def test_given_no_now_when_record_parsed_then_the_clock_decides(clock):
    raw = customer_doc("c-x", last_active_at="2027-03-20T00:00:00Z")
    with pytest.raises(RecordError, match=r"^last_active_at: .*future"):
        parse_customer(raw)
    clock.set(datetime(2027, 3, 20, tzinfo=UTC))
    assert parse_customer(raw).last_active_at is not None


# ------------------------------------------------------------------------ 6: usage events
def test_given_usage_event_far_in_the_future_when_parsed_then_refused_naming_at(clock):
    event = load_event("usage/usage_recorded.json")
    event["detail"]["at"] = "2099-01-01T00:00:00Z"
    with pytest.raises(UsageEventError, match=r"^at: .*future"):
        parse_usage_event(event)


def test_given_usage_event_within_a_day_of_the_clock_when_parsed_then_accepted(clock):
    event = load_event("usage/usage_recorded.json")
    event["time"] = "2027-03-13T00:00:00Z"
    event["detail"]["at"] = "2027-03-13T20:00:00Z"
    assert parse_usage_event(event).at == datetime(2027, 3, 13, 20, tzinfo=UTC)


# ------------------------------------------------------------------ 1: survey JSON answers
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"score": ' + DEEP + "}", "nested deeper than 64 levels"),
        ('{"score": NaN}', "NaN is not allowed"),
        ('{"score": 1e999}', "not a finite number"),
        ('{"score": 9, "comment": ' + "[" * 200 + "]" * 200 + "}", "nested deeper"),
    ],
    ids=["deep", "nan", "overflow", "deep-comment"],
)
def test_given_hostile_json_answer_when_parsed_then_value_error(body, message):
    with pytest.raises(ValueError, match=message):
        parse_answer(body, "nps")


def test_given_plain_json_answer_when_parsed_then_score_and_comment():
    assert parse_answer('{"score": 9, "comment": " fast "}', "nps") == (9, "fast")


# --------------------------------------------------------------------- 2: hostile templates
S = "{% set s = 'x' * 100000 %}"
HOSTILE_TEMPLATES: list[tuple[str, str]] = [
    (
        "four-nested-loops",
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
        "{% for d in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    ),
    (
        "nested-loops-with-output",
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
        "{{ a }}{% endfor %}{% endfor %}{% endfor %}",
    ),
    ("percent-width", "{{ '%0300000000d' % 1 }}"),
    ("percent-precision", "{{ '%.300000000f' % 1 }}"),
    ("percent-star-width", "{{ '%*d' % (300000000, 1) }}"),
    ("percent-many-fields", S + "{{ ('%(a)s' * 10000) % {'a': s} }}"),
    ("format-method-width", "{{ '{:0300000000d}'.format(1) }}"),
    ("format-map-width", "{{ '{x:>300000000}'.format_map({'x': 1}) }}"),
    ("format-nested-width", "{{ '{:{w}}'.format(1, w=300000000) }}"),
    ("format-filter-width", "{{ '%0300000000d'|format(1) }}"),
    ("center-filter", "{{ 'x'|center(300000000) }}"),
    ("ljust-method", "{{ 'x'.ljust(300000000) }}"),
    ("zfill-method", "{{ '1'.zfill(300000000) }}"),
    ("expandtabs", "{{ ('\t' * 1000).expandtabs(1000000) }}"),
    ("to-bytes", "{{ (1).to_bytes(300000000, 'big')|length }}"),
    ("translate", S + "{{ s.translate({120: s})|length }}"),
    ("replace-filter", S + "{{ s|replace('x', s)|length }}"),
    ("replace-method", S + "{{ s.replace('x', s)|length }}"),
    ("join-filter", S + "{{ ([s] * 10000)|join|length }}"),
    ("join-method", S + "{{ ''.join([s] * 10000)|length }}"),
    ("concat-doubling", S + "{% set s = s ~ s %}" * 20 + "{{ s|length }}"),
    ("concat-many", S + "{{ (s" + " ~ s" * 3000 + ")|length }}"),
    ("plus-doubling", S + "{% set s = s + s %}" * 20 + "{{ s|length }}"),
    (
        "namespace-doubling",
        "{% set ns = namespace(s='xx') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    ),
    ("list-repeat-output", S + "{{ [s] * 10000 }}"),
    ("list-literal-output", S + "{{ [s" + ", s" * 3000 + "] }}"),
    ("list-to-string", S + "{{ ([s] * 10000)|string|length }}"),
    ("wordwrap-wrapstring", S + "{{ ('x ' * 50000)|wordwrap(1, wrapstring=s)|length }}"),
    ("indent-width", "{{ ('x\n' * 100000)|indent(100000)|length }}"),
    ("batch-fill", "{{ [1]|batch(300000000, 0)|list|length }}"),
    ("slice-count", "{{ [1]|slice(300000000)|list|length }}"),
    ("int-power-tower", "{{ ((10 ** 64) ** 64) ** 64 }}"),
    ("int-squaring", "{% set x = 10 ** 60 %}" + "{% set x = x * x %}" * 30 + "{{ x > 0 }}"),
    ("lipsum", "{{ lipsum(1000000) }}"),
    ("recursive-macro", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
    ("recursive-loop", "{% for i in [1] recursive %}{{ loop([1]) }}{% endfor %}"),
    ("deep-parentheses", "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}"),
    ("output-size", "{% for i in range(1000) %}{{ 'x' * 100000 }}{% endfor %}"),
]
TEMPLATE_IDS = [i for i, _ in HOSTILE_TEMPLATES]
TEMPLATES = [t for _, t in HOSTILE_TEMPLATES]


@pytest.mark.parametrize("source", TEMPLATES, ids=TEMPLATE_IDS)
def test_given_hostile_template_when_rendered_then_render_error_within_two_cpu_seconds(source):
    tracemalloc.start()
    started = time.thread_time()
    try:
        with pytest.raises(RenderError) as caught:
            render(source, CONTEXT, FIELD)
        elapsed = time.thread_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.field == FIELD
    assert elapsed < 2.0
    assert peak < 64 * 1024 * 1024, f"peak {peak // (1024 * 1024)} MiB"


@pytest.mark.parametrize("source", TEMPLATES, ids=TEMPLATE_IDS)
def test_given_hostile_template_when_campaign_saved_then_field_error_within_two_cpu_seconds(
    source,
):
    doc = campaign_doc("hostile", content=email_content("Hi {{ first_name }}", source))
    started = time.thread_time()
    with pytest.raises(CampaignError) as caught:
        parse_campaign(doc)
    assert time.thread_time() - started < 2.0
    assert [error.field for error in caught.value.errors] == [FIELD]


def test_given_slow_render_when_deadline_passes_then_render_error_names_the_time(monkeypatch):
    monkeypatch.setattr(template_limits, "MAX_RENDER_SECONDS", 0.05)
    # 3,000 steps (far below the step limit), about 0.3 s of work
    source = S + "{% for a in range(1000) %}{% set t = (s ~ s)|upper|length %}{% endfor %}"
    started = time.thread_time()
    with pytest.raises(RenderError, match=r"took longer than 0\.05 s") as caught:
        render(source, CONTEXT, FIELD)
    assert time.thread_time() - started < 0.5
    assert caught.value.field == FIELD


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ '%05.1f' % 3.14159 }}", "003.1"),
        ("{{ '%s and %s' % ('a', 'b') }}", "a and b"),
        ("{{ '%(n)d%%' % {'n': 20} }}", "20%"),
        ("{{ '{:>8,}'.format(1234567) }}", "1,234,567"),
        ("{{ '%-6s|'|format('ab') }}", "ab    |"),
        ("{{ 'ab'|center(6) }}", "  ab  "),
        ("{{ 7 % 3 }}-{{ 2 ** 10 }}-{{ 3 * 4 }}-{{ 'ab' * 2 }}", "1-1024-12-abab"),
        ("{{ first_name ~ '!' }}{{ [1, 2]|join(',') }}", "Ana!1,2"),
        ("{% for i in range(3) %}{{ loop.index }}/{{ loop.length }} {% endfor %}", "1/3 2/3 3/3 "),
        (
            "{% set ns = namespace(n=0) %}{% for i in range(5) %}{% set ns.n = ns.n + i %}"
            "{% endfor %}{{ ns.n }}",
            "10",
        ),
        ("{{ 'a-b'.replace('-', '+') }} {{ 'a b'.split()|join('|') }}", "a+b a|b"),
        ("{% macro hi(n) %}Hi {{ n }}{% endmacro %}{{ hi(first_name) }}", "Hi Ana"),
        ("{% for i in range(300) %}{% for j in range(300) %}{% endfor %}{% endfor %}ok", "ok"),
    ],
    ids=[
        "percent-float",
        "percent-tuple",
        "percent-mapping",
        "format-grouping",
        "format-filter",
        "center",
        "arithmetic",
        "concat-join",
        "loop-length",
        "namespace",
        "str-methods",
        "macro",
        "90000-iterations",
    ],
)
def test_given_ordinary_template_when_rendered_then_limits_do_not_get_in_the_way(source, expected):
    assert render(source, CONTEXT, FIELD) == expected


def test_given_html_template_when_concatenated_then_escaping_is_unchanged():
    source = "{{ first_name ~ '<b>' }}{{ '<i>'|safe ~ first_name }}"
    assert render(source, {"first_name": "<Ana>"}, FIELD, html=True) == (
        "&lt;Ana&gt;&lt;b&gt;<i>&lt;Ana&gt;"
    )


# ----------------------------------------------------------- 3: keys that shadow methods
ORDER = {
    "order_id": "o-1",
    "items": [{"sku": "COFFEE-1KG", "qty": 2}, {"sku": "FILTER", "qty": 1}],
    "keys": "k",
    "values": "v",
    "get": "g",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ order.items[0].sku }}", "COFFEE-1KG"),
        (
            "{% for i in order.items %}{{ i.sku }}x{{ i.qty }} {% endfor %}",
            "COFFEE-1KGx2 FILTERx1 ",
        ),
        ("{{ order.items|length }}", "2"),
        ("{{ order.keys }}{{ order.values }}{{ order.get }}", "kvg"),
        ("{{ order['items'][1].sku }}", "FILTER"),
        ("{% for k, v in customer.items() %}{{ k }}={{ v }};{% endfor %}", "locale=de;"),
        ("{{ customer.get('locale') }}", "de"),
    ],
    ids=["index", "loop", "length", "keys-values-get", "subscript", "items-method", "get-method"],
)
def test_given_dict_key_named_like_a_method_when_rendered_then_the_key_wins(source, expected):
    context = {"order": ORDER, "customer": {"locale": "de"}}
    assert render(source, context, FIELD) == expected


def test_given_replenishment_campaign_using_order_items_when_saved_then_accepted():
    doc = campaign_doc(
        "restock",
        occasion={"type": "replenishment", "days_after_purchase": 30, "skus": ["COFFEE-1KG"]},
        content=email_content(
            "Time for {{ order.items[0].name }}?",
            "{% for item in order.items %}{{ item.sku }} x{{ item.qty }}\n{% endfor %}",
        ),
    )
    assert parse_campaign(doc).campaign_id == "restock"


# ------------------------------------------------------------- 4: headers stay single-line
def _mail(**fields: Any) -> OutgoingEmail:
    return outgoing_email(**fields)  # dated NOW, as the rest of this file


@pytest.mark.parametrize(
    "fields",
    [
        {"to_name": "Ana\r\nBcc: x@example.com"},
        {"to_name": "Ana\x00Lopez"},
        {"to_name": "Ana\u2028Lopez\x85"},
        {"to_name": "\x1b[31mAna\x7f"},
        {"subject": "Hi\x00\r\nBcc: x@example.com"},
        {"subject": "Hi\u2029there\x0b"},
    ],
    ids=["crlf-name", "nul-name", "separators-name", "esc-del-name", "crlf-subject", "ps-vt"],
)
def test_given_control_characters_when_mime_built_then_headers_have_none(fields):
    raw = build_mime(_mail(**fields)).as_bytes()
    headers = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert not any(line.startswith("Bcc") for line in headers.split("\n"))
    for forbidden in ("\x00", "\x1b", "\x7f", "\x0b", "\r"):
        assert forbidden not in headers
    to = next(line for line in headers.split("\n") if line.startswith("To: "))
    assert to.endswith("<ana@example.com>")
