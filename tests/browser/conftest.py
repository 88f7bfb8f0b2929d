"""Browser fixtures: one headless Chromium per session, pages served by the real handlers.

* ``chromium`` (session): Debian's ``/usr/bin/chromium`` driven by Playwright
  (``executable_path``; Playwright's own browser download cannot work here). A missing browser
  FAILS the test: ``make browser`` installs it (``make test`` does so first).
* ``site`` (module): a moto deployment of ``template.yaml`` with branding parameters, a few
  customers, and a local HTTP server on 127.0.0.1 that turns each request into an API Gateway
  REST proxy event for the real ``functions/survey`` and ``functions/unsubscribe`` handlers
  (``/s/``, ``/u/`` and the preference centre ``/p/``).
* ``tab`` (module): one page per viewport width (375 px phone, 1280 px desktop), reused by
  every test; ``Tab.open`` resets the console-error list, ``Tab.shot`` saves a full-page PNG
  under ``out/screenshots/`` with a stable name.

Every test in this folder gets the markers ``browser`` and ``allow_hosts(["127.0.0.1"])``:
pytest-socket still refuses any other address. Requests the page makes elsewhere (the logo's
https URL) are answered by the browser context itself, never sent.
"""

from __future__ import annotations

import copy
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.events import load_event

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "out" / "screenshots"
NOW = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)
WIDTHS = (375, 1280)
HEIGHTS = {375: 812, 1280: 800}
LOGO_URL = "https://cdn.example.com/mercado-verde/logo.svg"
BRANDING = {
    "CompanyName": "Mercado Verde",
    "LogoUrl": LOGO_URL,
    "BrandColour": "#0b6e4f",
    "PostalAddress": "Mercado Verde GmbH\nHafenstraße 12\n20457 Hamburg",
}
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" viewBox="0 0 200 40">'
    '<circle cx="20" cy="20" r="16" fill="#ffffff"/><circle cx="20" cy="20" r="9" fill="#0b6e4f"/>'
    '<text x="44" y="27" font-family="sans-serif" font-size="20" font-weight="700" '
    'fill="#ffffff">Mercado Verde</text></svg>'
)
CUSTOMERS = [
    {"customer_id": "c-de", "locale": "de-DE", "timezone": "Europe/Berlin", "country": "DE"},
    {"customer_id": "c-ja", "locale": "ja-JP", "timezone": "Asia/Tokyo", "country": "JP"},
    {"customer_id": "c-en", "locale": "en-GB", "timezone": "Europe/London", "country": "GB"},
    {"customer_id": "c-ko", "locale": "ko-KR", "timezone": "Asia/Seoul", "country": "KR"},
    {"customer_id": "c-prefs", "locale": "de-DE", "timezone": "Europe/Berlin", "country": "DE"},
]
# Marketing campaigns whose topics the preference centre lists (e-mail; one also by SMS).
CAMPAIGNS = [
    {
        "campaign_id": "bday",
        "name": "Birthday",
        "status": "active",
        "occasion": {"type": "birthday"},
        "channels": ["email"],
        "send_at_local": "09:00",
        "default_timezone": "UTC",
        "content": {"email": {"en": {"subject": "Happy birthday", "text": "Hi"}}},
    },
    {
        "campaign_id": "news",
        "name": "News",
        "status": "active",
        "occasion": {"type": "inactivity", "days": 30},
        "topic": "newsletter",
        "topic_names": {"en": "Newsletter", "de": "Rundbrief"},
        "channels": ["email"],
        "send_at_local": "10:00",
        "default_timezone": "UTC",
        "content": {"email": {"en": {"subject": "News", "text": "News"}}},
    },
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.allow_hosts(["127.0.0.1"]))


# ----------------------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium; "
            "run `make browser` (apt-get install chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--disable-gpu", "--no-first-run"]
        )
        try:
            yield browser
        finally:
            browser.close()


# ----------------------------------------------------------------------------- the site
_EVENTS = {
    ("s", "GET"): "survey/get.json",
    ("s", "POST"): "survey/post_answer.json",
    ("u", "GET"): "unsubscribe/get.json",
    ("u", "POST"): "unsubscribe/post_one_click.json",
    ("p", "GET"): "unsubscribe/preferences_get.json",
    ("p", "POST"): "unsubscribe/preferences_post.json",
}


def proxy_event(
    route: str, method: str, token: str, headers: dict[str, str], body: str | None
) -> dict[str, Any]:
    """An API Gateway REST proxy event for ``/{route}/{token}`` (from the sample events)."""
    event = copy.deepcopy(load_event(_EVENTS[(route, method)]))
    path = f"/{route}/{token}"
    event.update(
        path=path,
        httpMethod=method,
        resource=f"/{route}/{{token}}",
        pathParameters={"token": token},
        headers=headers,
        multiValueHeaders={name: [value] for name, value in headers.items()},
        body=body,
        isBase64Encoded=False,
    )
    event["requestContext"].update(
        httpMethod=method, resourcePath=f"/{route}/{{token}}", path=f"/v1{path}"
    )
    return event


@dataclass
class Site:
    """The local server in front of the real handlers; ``url("/s/<token>")``."""

    base: str
    deployment: Any
    keys: Any
    requests: list[tuple[str, str, int]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _server(handlers: dict[str, Callable[..., Any]], log: list[tuple[str, str, int]]) -> HTTPServer:
    from emulator.template import FakeLambdaContext

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._invoke("GET")

        def do_POST(self) -> None:
            self._invoke("POST")

        def _invoke(self, method: str) -> None:
            match = re.fullmatch(r"/([sup])/([^/?#]+)", urlsplit(self.path).path)
            if match is None:
                self._answer(404, {"Content-Type": "text/plain"}, "not found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else None
            event = proxy_event(match[1], method, match[2], dict(self.headers.items()), body)
            result = handlers[match[1]](event, FakeLambdaContext())
            self._answer(result["statusCode"], result.get("headers") or {}, result["body"])
            log.append((method, match[1], result["statusCode"]))

        def _answer(self, status: int, headers: dict[str, str], body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return HTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    import json

    import boto3
    from moto import mock_aws

    from emulator.template import LocalDeployment, load_handler
    from lifecycle.core import aws as lifecycle_aws
    from lifecycle.core import settings
    from lifecycle.core.clock import SimulatedClock, SystemClock, set_clock
    from lifecycle.core.secrets import signing_keys
    from lifecycle.features.importer import import_campaigns, import_customers
    from lifecycle.store import models

    saved = dict(os.environ)
    with mock_aws():
        deployment = LocalDeployment.create(
            ROOT / "template.yaml",
            session=boto3.Session(region_name="us-east-1"),
            parameters={
                "SenderEmail": "messages@example.com",
                "ConsoleDomainPrefix": "lifecycle-test",
                **BRANDING,
            },
        )
        for logical_id in deployment.functions:
            os.environ.update(deployment.function_environment(logical_id))
        settings.reset_settings()
        lifecycle_aws.reset_clients()
        models.configure_tables()
        set_clock(SimulatedClock(NOW))
        lines = [
            json.dumps(
                {**c, "email": f"{c['customer_id']}@example.com", "consent": {"email": True}}
            )
            for c in CUSTOMERS
        ]
        assert not import_customers(lines, "customers.jsonl", NOW).rejected
        assert not import_campaigns(json.dumps(CAMPAIGNS), "campaigns.json", NOW).rejected
        handlers = {
            "s": load_handler(deployment.functions["SurveyFunction"]),
            "u": load_handler(deployment.functions["UnsubscribeFunction"]),
        }
        handlers["p"] = handlers["u"]  # the preference centre is served by the same function
        log: list[tuple[str, str, int]] = []
        server = _server(handlers, log)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        host, port = server.server_address[:2]
        try:
            yield Site(
                f"http://{host!s}:{port}", deployment, signing_keys(settings.get_settings()), log
            )
        finally:
            server.shutdown()
            server.server_close()
            set_clock(SystemClock())
            os.environ.clear()
            os.environ.update(saved)
            settings.reset_settings()
            lifecycle_aws.reset_clients()


# ----------------------------------------------------------------------------- the tabs
@dataclass
class Tab:
    """Reused browser pages at one viewport width, one per browser language.

    Chromium derives ``Accept-Language`` from the context's locale (a header set on a request
    does not replace it), so each language has its own context, opened on first use.
    """

    browser: Any
    width: int
    errors: list[str] = field(default_factory=list)
    pages: dict[str, Any] = field(default_factory=dict)
    locale: str = "en-US"

    @property
    def page(self) -> Any:
        return self.pages[self.locale]

    def open(self, url: str, locale: str = "en-US") -> Any:
        """Navigate with a browser whose language is ``locale`` (its ``Accept-Language``)."""
        self.errors.clear()
        self.locale = locale
        if locale not in self.pages:
            self.pages[locale] = self._new_page(locale)
        return self.page.goto(url, wait_until="load")

    def expect_errors(self, status: int) -> list[str]:
        """Console errors other than Chromium's note on the page's own (expected) status."""
        note = f"the server responded with a status of {status}"
        return [error for error in self.errors if note not in error]

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _new_page(self, locale: str) -> Any:
        phone = self.width < 600
        context = self.browser.new_context(
            viewport={"width": self.width, "height": HEIGHTS[self.width]},
            is_mobile=phone,
            has_touch=phone,
            locale=locale,
        )
        context.route(
            LOGO_URL,
            lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=LOGO_SVG),
        )
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page


@pytest.fixture(scope="module")
def tabs(chromium: Any, site: Site) -> Iterator[dict[int, Tab]]:
    opened = {width: Tab(chromium, width) for width in WIDTHS}
    try:
        yield opened
    finally:
        for tab in opened.values():
            tab.close()


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def tab(request: pytest.FixtureRequest, tabs: dict[int, Tab]) -> Tab:
    return tabs[request.param]
