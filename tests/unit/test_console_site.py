"""The console's static site (lifecycle.api.site through functions/console/handler.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lifecycle.api.site import CSP, console_config, console_response, resolve
from lifecycle.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2] / "functions" / "console" / "static"
BASE = {"CUSTOMERS_TABLE": "c", "CAMPAIGNS_TABLE": "k", "DELIVERIES_TABLE": "d"}
LOCAL = Settings.model_validate({**BASE, "CONSOLE_AUTH": "local"})
COGNITO = Settings.model_validate(
    {
        **BASE,
        "COGNITO_DOMAIN": "shop.auth.us-east-1.amazoncognito.com",
        "COGNITO_CLIENT_ID": "abc123",
        "CONSOLE_URL": "https://x.execute-api.us-east-1.amazonaws.com/v1/console/",
    }
)
TODAY = date(2027, 3, 14)
# Chart.js 4.6.1 (npm pack chart.js@4.6.1, dist/chart.umd.min.js): the one pinned copy.
CHART_JS_SHA256 = "87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2"


def _get(proxy: str | None, method: str = "GET", settings: Settings = LOCAL) -> dict[str, Any]:
    event = {
        "httpMethod": method,
        "path": "/console/" + (proxy or ""),
        "pathParameters": None if proxy is None else {"proxy": proxy},
        "requestContext": {"path": "/v1/console"},
    }
    return console_response(event, ROOT, settings, TODAY)


def test_given_vendored_chart_js_when_hashed_then_it_is_the_pinned_release():
    data = (ROOT / "vendor" / "chart.umd.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == CHART_JS_SHA256
    assert data.startswith(b"/*!\n * Chart.js v4.6.1")
    assert (ROOT / "vendor" / "chart.LICENSE.md").read_text().startswith("The MIT License")


@pytest.mark.parametrize(
    ("proxy", "content_type"),
    [
        ("", "text/html; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("pages/editor.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("signin.html", "text/html; charset=utf-8"),
    ],
)
def test_given_a_file_when_requested_then_served_with_its_type_and_the_policy(proxy, content_type):
    response = _get(proxy)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == content_type
    assert response["headers"]["Content-Security-Policy"] == CSP
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP


def test_given_vendor_file_when_served_then_cached_long_and_pages_revalidated():
    assert "immutable" in _get("vendor/chart.umd.min.js")["headers"]["Cache-Control"]
    assert _get("app.js")["headers"]["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "proxy",
    [
        "../handler.py",
        "pages/../../handler.py",
        "..%2fhandler.py",
        ".hidden",
        "pages/.x.js",
        "nothing.js",
        "vendor",  # a folder without index.html
        "a\\b.js",
        "x\x00.js",
        "a" * 300,
        "/etc/passwd",
        "README",  # no known type
    ],
)
def test_given_path_outside_or_unknown_when_requested_then_404(proxy):
    assert _get(proxy)["statusCode"] == 404


def test_given_absolute_path_when_resolved_then_stays_below_the_root():
    assert resolve(ROOT, "/etc/passwd") is None or str(resolve(ROOT, "/etc/passwd")).startswith(
        str(ROOT)
    )


def test_given_no_trailing_slash_when_requested_then_redirected_relatively():
    event = {"httpMethod": "GET", "path": "/console", "pathParameters": None}
    response = console_response(event, ROOT, LOCAL, TODAY)
    # Relative: /v1/console -> /v1/console/ on API Gateway, /console -> /console/ locally.
    assert (response["statusCode"], response["headers"]["Location"]) == (301, "console/")


def test_given_the_folder_with_its_slash_when_requested_then_the_index_not_a_loop():
    # API Gateway hands /console/ to the /console resource (no proxy parameter).
    event = {"httpMethod": "GET", "path": "/console/", "pathParameters": None}
    response = console_response(event, ROOT, LOCAL, TODAY)
    assert response["statusCode"] == 200
    assert "<title>Lifecycle messaging console</title>" in response["body"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_given_a_write_method_when_requested_then_405(method):
    assert _get("index.html", method)["statusCode"] == 405


def test_given_local_stack_when_config_read_then_local_sign_in_and_the_clock_s_today():
    response = _get("config.json")
    assert response["headers"]["Cache-Control"] == "no-store"
    assert json.loads(response["body"]) == {
        "api_base": "../api/",
        "today": "2027-03-14",
        "auth": "local",
        "signin_url": "signin.html",
        "local_signin_url": "../_local/signin",
    }


def test_given_cognito_when_config_read_then_hosted_ui_comes_back_to_the_console():
    config = console_config(COGNITO, TODAY)
    assert config["auth"] == "cognito"
    assert config["signin_url"] == (
        "https://shop.auth.us-east-1.amazoncognito.com/login?client_id=abc123"
        "&response_type=token&scope=openid+email+profile&redirect_uri="
        "https%3A%2F%2Fx.execute-api.us-east-1.amazonaws.com%2Fv1%2Fconsole%2F"
    )


def test_given_handler_when_invoked_then_answers_like_the_module(monkeypatch):
    import importlib.util

    from emulator.template import FakeLambdaContext
    from lifecycle.core.settings import reset_settings
    from tests.events import load_event

    for name, value in {**BASE, "CONSOLE_AUTH": "local"}.items():
        monkeypatch.setenv(name, value)
    reset_settings()

    spec = importlib.util.spec_from_file_location("console_handler", ROOT.parent / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    event = load_event("console/site_index.json")
    try:
        response = module.lambda_handler(event, FakeLambdaContext("ConsoleFunction"))
    finally:
        reset_settings()
    assert response["statusCode"] == 200
    assert "<title>Lifecycle messaging console</title>" in response["body"]
