"""The local server's pieces without a socket: routes read from the template, the REST proxy
event an HTTP request becomes, API Gateway's answer to a proxy response, outbox links."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, cast

import pytest

from emulator.cli import DEMO_START, _serve_config, build_parser, main
from emulator.environment import TEMPLATE
from emulator.outbox import OutboxMessage, find_links, html_part, message_page, outbox_page
from emulator.serve import (
    STATIC_APPS,
    HttpRequest,
    LocalApp,
    LocalTokens,
    Route,
    from_proxy_response,
    proxy_event,
    resolve,
    routes,
)
from emulator.template import load_template
from tests.events import load_event

TABLE = routes(load_template(TEMPLATE))


def test_given_template_when_routes_read_then_every_api_event_is_served():
    template = load_template(TEMPLATE)
    expected = {
        (str(e["Properties"]["Method"]).upper(), e["Properties"]["Path"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for e in (r["Properties"].get("Events") or {}).values()
        if e["Type"] == "Api"
    }
    assert {(r.method, r.resource) for r in TABLE} == expected
    assert ("GET", "/campaigns") in expected and ("POST", "/u/{token}") in expected


def test_given_campaign_api_when_routes_read_then_iam_and_public_pages_are_not():
    by_key = {(r.method, r.resource): r for r in TABLE}
    assert by_key[("GET", "/campaigns")].iam
    assert by_key[("GET", "/campaigns")].api == "CampaignApi"
    assert not by_key[("POST", "/s/{token}")].iam
    assert by_key[("POST", "/s/{token}")].function == "SurveyFunction"


@pytest.mark.parametrize(
    ("method", "path", "resource", "parameters"),
    [
        ("POST", "/campaigns/validate", "/campaigns/validate", {}),
        ("GET", "/campaigns/c%201", "/campaigns/{campaign_id}", {"campaign_id": "c%201"}),
        ("POST", "/campaigns/x/status", "/campaigns/{campaign_id}/status", {"campaign_id": "x"}),
        ("GET", "/s/abc.def", "/s/{token}", {"token": "abc.def"}),
        ("GET", "/campaigns/", "/campaigns", {}),
    ],
)
def test_given_path_when_resolved_then_most_specific_resource_and_parameters(
    method, path, resource, parameters
):
    found = resolve(TABLE, method, path)
    assert found is not None
    assert found[0].resource == resource
    assert found[1] == parameters


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nope"),
        ("PATCH", "/campaigns"),
        ("GET", "/s"),
        ("GET", "/s/a/b"),
        # The literal resource wins, as in API Gateway, even without the method asked for.
        ("GET", "/campaigns/validate"),
    ],
)
def test_given_unknown_resource_or_method_when_resolved_then_none(method, path):
    assert resolve(TABLE, method, path) is None


def test_given_greedy_resource_when_resolved_then_rest_of_path_and_lower_priority():
    table = [
        Route("Api", "F", "ANY", "/files/{proxy+}", False),
        Route("Api", "G", "GET", "/files/{name}", False),
    ]
    assert resolve(table, "GET", "/files/a")[0].function == "G"  # type: ignore[index]
    assert resolve(table, "GET", "/files/a/b/c") == (table[0], {"proxy": "a/b/c"})


def _request(**overrides):
    values: dict[str, Any] = {
        "method": "GET",
        "target": "/campaigns?status=draft&tag=a&tag=b&empty=",
        "headers": [("Accept", "application/json"), ("X-Many", "1"), ("X-Many", "2")],
        "body": b"",
        "client_ip": "127.0.0.1",
    }
    values.update(overrides)
    return HttpRequest(**values)


def _route(resource="/campaigns", iam=True, binary=()):
    return Route("CampaignApi", "CampaignApiFunction", "GET", resource, iam, tuple(binary))


def _event(request, route, parameters=None):
    return proxy_event(
        request, route, parameters or {}, "127.0.0.1:8300", 1_805_029_500_000, "14/Mar/2027"
    )


def test_given_request_when_translated_then_rest_proxy_event_with_multi_values():
    event = _event(_request(), _route())
    sample = load_event("campaign_api/list.json")

    assert set(event) == set(sample)
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert event["queryStringParameters"] == {"status": "draft", "tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert event["headers"]["X-Many"] == "2"
    assert event["multiValueHeaders"]["X-Many"] == ["1", "2"]
    assert event["path"] == "/campaigns"
    assert event["requestContext"]["path"] == "/v1/campaigns"
    assert event["requestContext"]["resourcePath"] == "/campaigns"
    assert event["pathParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_given_iam_route_when_translated_then_local_caller_named_and_public_route_anonymous():
    iam = _event(_request(), _route(iam=True))["requestContext"]["identity"]
    public = _event(_request(), _route("/s/{token}", iam=False))["requestContext"]["identity"]
    assert iam["userArn"].endswith(":user/local-serve") and iam["accountId"]
    assert public["userArn"] is None and public["accessKey"] is None
    assert public["sourceIp"] == "127.0.0.1"


def test_given_no_query_when_translated_then_null_query_fields_as_api_gateway_sends():
    event = _event(_request(target="/s/t"), _route("/s/{token}", False), {"token": "t"})
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] == {"token": "t"}


@pytest.mark.parametrize(
    ("body", "binary", "expected", "encoded"),
    [
        (b"score=9", (), "score=9", False),
        (b"score=9", ("application/x-www-form-urlencoded",), "c2NvcmU9OQ==", True),
        (b"score=9", ("*/*",), "c2NvcmU9OQ==", True),
        (b"\xff\xfe", (), base64.b64encode(b"\xff\xfe").decode(), True),
    ],
)
def test_given_body_when_translated_then_text_or_base64_as_the_api_is_configured(
    body, binary, expected, encoded
):
    request = _request(
        method="POST",
        target="/s/t",
        body=body,
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
    )
    event = _event(request, _route("/s/{token}", False, binary), {"token": "t"})
    assert event["body"] == expected
    assert event["isBase64Encoded"] is encoded


def test_given_proxy_response_when_answered_then_headers_merged_and_body_decoded():
    response = from_proxy_response(
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "Set-Cookie": "ignored"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00bin").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201
    assert response.body == b"\x00bin"
    assert ("Set-Cookie", "a=1") in response.headers and ("Set-Cookie", "b=2") in response.headers
    assert ("Set-Cookie", "ignored") not in response.headers
    assert ("Content-Type", "application/json") in response.headers
    assert from_proxy_response({"statusCode": 204}).body == b""


def test_given_links_anywhere_when_found_then_absolute_on_this_server():
    links = find_links(
        "http://127.0.0.1:9",
        [
            "Rate us: https://abc.execute-api.us-east-1.amazonaws.com/v1/s/tok.sig.",
            '<a href="https://shop.example/p/pref.sig?x=1&amp;y=2">prefs</a>',
            "https://elsewhere.example/about",
        ],
        "<mailto:u@example.com>, <https://host/v1/u/unsub.sig>",
    )
    assert links == {
        "unsubscribe": "http://127.0.0.1:9/u/unsub.sig",
        "preferences": "http://127.0.0.1:9/p/pref.sig",
        "survey": "http://127.0.0.1:9/s/tok.sig",
    }
    assert find_links("http://h", ["no links"], None) == dict.fromkeys(
        ["unsubscribe", "preferences", "survey"]
    )


def _message(**row_overrides):
    row = {
        "customer_id": "c-<1>",
        "campaign_id": 'x"y',
        "occasion": "birthday",
        "channel": "email",
        "to": "<script>alert(1)</script>@example.com",
        "subject": "<img src=x onerror=alert(1)>",
        "text": "Go https://h/u/t?<b>",
        "headers": {"X-<h>": "<v>"},
        "sent_at": "2027-03-01T09:00:00Z",
        "local_time": "2027-03-01T09:00:00+00:00",
    }
    row.update(row_overrides)
    return OutboxMessage("email-0", row, "<html><head></head><body>hi</body></html>", {})


def test_given_hostile_message_when_listed_and_shown_then_everything_escaped():
    message = _message()
    for page in (outbox_page([message]), message_page(message)):
        assert "<script>" not in page and "<img" not in page and "<b>" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;h&gt;" in message_page(message)


def test_given_html_part_when_served_then_links_open_in_the_top_window():
    document = html_part(_message())
    assert document == '<html><head><base target="_top"></head><body>hi</body></html>'
    plain = OutboxMessage("sms-1", _message(channel="sms").row, None, {})
    assert html_part(plain) is None
    assert json.dumps(outbox_page([]))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--customers", "c.jsonl"], "--customers needs --campaigns, --start and --days"),
        (["--campaigns", "c.json"], "--campaigns needs --customers"),
    ],
)
def test_given_incomplete_serve_inputs_when_started_then_error_and_exit_2(argv, message, capsys):
    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err


def test_given_no_files_when_serve_configured_then_demo_data_with_its_period_overridable():
    args = build_parser().parse_args(["serve", "--days", "3", "--port", "0"])
    config = _serve_config(args)
    assert not isinstance(config, str)
    assert config.customers.name == "customers.jsonl" and config.customers.parent.name == "demo"
    assert (config.start, config.days, config.out) == (DEMO_START, 3, Path("out/serve"))
    assert args.port == 0 and args.host == "127.0.0.1"


@pytest.mark.parametrize("port", ["-1", "65536", "http", "80a"])
def test_given_bad_port_when_parsed_then_refused(port):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--port", port])


def test_given_static_app_when_requested_then_its_files_only(tmp_path, monkeypatch):
    app_dir = tmp_path / "console"
    app_dir.mkdir()
    (app_dir / "index.html").write_text("<h1>console</h1>", encoding="utf-8")
    (app_dir / "app.js").write_text("let x = 1;", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    monkeypatch.setitem(STATIC_APPS, "/console/", app_dir)
    app = LocalApp(cast(Any, None), "http://127.0.0.1:9", load_template(TEMPLATE))

    def get(path: str) -> tuple[int, bytes, str]:
        response = app.handle(_request(target=path), "127.0.0.1:9")
        kinds = [v for k, v in response.headers if k == "Content-Type"]
        return response.status, response.body, kinds[0] if kinds else ""

    assert get("/console/")[:2] == (200, b"<h1>console</h1>")
    assert get("/console")[0] == 301
    assert get("/console/app.js")[0] == 200 and "javascript" in get("/console/app.js")[2]
    for path in ("/console/../secret.txt", "/console/%2e%2e/secret.txt", "/console/nope.js"):
        assert get(path)[0] == 404
    # The API's routes are untouched by the static app
    assert get("/nowhere")[0] == 403


def test_given_cognito_route_when_translated_then_the_token_s_claims_reach_the_handler():
    template = {
        "Resources": {
            "ConsoleApi": {
                "Type": "AWS::Serverless::Api",
                "Properties": {
                    "Auth": {
                        "DefaultAuthorizer": "Users",
                        "Authorizers": {"Users": {"UserPoolArn": "arn:pool"}},
                    }
                },
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "Get": {
                            "Type": "Api",
                            "Properties": {
                                "RestApiId": {"Ref": "ConsoleApi"},
                                "Path": "/api/campaigns",
                                "Method": "get",
                            },
                        }
                    }
                },
            },
        }
    }
    (route,) = routes(template)
    assert route.cognito and not route.iam and route.method == "GET"

    tokens = LocalTokens()
    claims = tokens.claims(tokens.issue("viewer", 1_800_000_000), 1_800_000_100)
    assert claims is not None
    event = _event_with(_request(target="/api/campaigns"), route, claims)
    assert event["requestContext"]["authorizer"]["claims"]["cognito:groups"] == "viewers"
    assert event["requestContext"]["authorizer"]["claims"]["token_use"] == "id"
    assert "authorizer" not in _event(_request(), _route())["requestContext"]


def _event_with(request, route, claims):
    return proxy_event(
        request, route, {}, "127.0.0.1:8300", 1_805_029_500_000, "14/Mar/2027", claims
    )


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_given_local_sign_in_when_token_checked_then_claims_as_api_gateway_passes_them(role):
    tokens = LocalTokens()
    claims = tokens.claims(tokens.issue(role, 1_800_000_000), 1_800_000_000)
    assert claims is not None
    assert claims["cognito:groups"] == {"marketer": "marketers", "viewer": "viewers"}[role]
    assert all(isinstance(value, str) for value in claims.values())


def test_given_bad_tokens_when_checked_then_refused():
    tokens = LocalTokens()
    good = tokens.issue("viewer", 1_800_000_000)
    header, payload, signature = good.split(".")
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    other = LocalTokens().issue("marketer", 1_800_000_000)
    for token in [
        None,
        "",
        "abc",
        f"{header}.{forged_payload}.{signature}",  # claims changed
        other,  # another process's key
        f"{header}.{payload}.",  # no signature
        "a.b.c.d",
    ]:
        assert tokens.claims(token, 1_800_000_000) is None, token
    assert tokens.claims(good, 1_800_000_000 + 9 * 3600) is None  # expired after 8 hours
    assert tokens.claims(f"Bearer {good}", 1_800_000_000) is not None
