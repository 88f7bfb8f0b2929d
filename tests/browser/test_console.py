"""The marketer console in Debian's Chromium, on the local stack (``python -m emulator serve``).

The stack simulates two days over a few customers, then serves the console at /console/ with
its local sign-in, the API under /api behind the (local) Cognito authorizer, and the clock
control. Tests: the marketer's journey from sign-in to results, the viewer's limits (no
enabled editing control, 403 from the API), and every page at 375 and 1280 px without a
JavaScript error, with screenshots under out/screenshots/console/.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from emulator.runner import SimulationConfig
from emulator.serve import LocalServer, serving
from tests.builders import birthday_campaign, customer_doc, email_content

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots" / "console"
WIDTHS = (375, 1280)
CUSTOMERS = [
    customer_doc("c-ana", first_name="Ana", birthday="1990-03-04", locale="de-DE", country="DE"),
    customer_doc("c-bo", first_name="Bo", birthday="1985-03-05", locale="en-GB", country="GB"),
    customer_doc("c-cy", first_name="Cy", birthday="1992-03-04", locale="en-US", country="US"),
    customer_doc("c-di", first_name="Di", birthday="1980-03-05", consent={"email": False}),
    customer_doc("c-ed", first_name="Ed", birthday="1979-06-01", locale="en-US"),
]
CAMPAIGNS = [
    birthday_campaign(
        "bday-existing",
        name="Existing birthday",
        holdout_percent=20,
        content=email_content("Happy birthday, {{ first_name }}", "{{ offer.code }}"),
    )
]
PAGES = {
    "campaigns": "#/campaigns",
    "editor": "#/campaigns/bday-existing",
    "new-campaign": "#/campaigns/new",
    "forecast": "#/forecast",
    "results": "#/results/bday-existing",
    "segments": "#/segments",
    "customers": "#/customers/c-ana",
    "policy": "#/policy",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("console")
    customers = folder / "customers.jsonl"
    customers.write_text("".join(json.dumps(c) + "\n" for c in CUSTOMERS), encoding="utf-8")
    campaigns = folder / "campaigns.json"
    campaigns.write_text(json.dumps(CAMPAIGNS), encoding="utf-8")
    config = SimulationConfig(customers, campaigns, date(2027, 3, 1), 2, folder / "out")
    with serving(config, port=0) as (server, _):
        yield server


class Browser:
    """One signed-in page; collects console errors and uncaught exceptions."""

    def __init__(self, chromium: Any, stack: LocalServer, role: str, width: int) -> None:
        phone = width < 600
        self.context = chromium.new_context(
            viewport={"width": width, "height": 900 if not phone else 812},
            is_mobile=phone,
            has_touch=phone,
        )
        self.page = self.context.new_page()
        # The local stack answers one request at a time; CI machines are shared.
        self.page.set_default_timeout(90_000)
        self.errors: list[str] = []  # JavaScript errors: logged errors and uncaught exceptions
        self.refused: list[str] = []  # requests the server answered with an error status
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.base = f"{stack.url}/console/"
        self.width = width
        self.page.goto(self.base)
        self.page.wait_for_url("**/signin.html")
        self.page.get_by_role("button", name=f"Sign in as {role}").click()
        self.page.wait_for_url("**/console/#/campaigns")
        self.ready()

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource"):
            self.refused.append(message.text)
        else:
            self.errors.append(message.text)

    def ready(self) -> None:
        """Wait until the page's heading shows and nothing says it is still loading."""
        self.page.wait_for_function(
            "() => { const m = document.querySelector('main');"
            " return m && document.querySelector('main h1')"
            " && !m.textContent.includes('Loading') && !m.querySelector('[aria-busy=true]'); }",
            timeout=60_000,
        )

    def go(self, fragment: str) -> None:
        self.page.goto(self.base + fragment)
        self.ready()

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


def _advance(stack: LocalServer, days: int) -> str:
    request = urllib.request.Request(  # noqa: S310 - the local server only
        f"{stack.url}/_local/clock",
        data=json.dumps({"days": days}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 - local
        answer: dict[str, str] = json.loads(response.read())
    return answer["now"]


def test_given_a_marketer_when_creating_a_campaign_then_preview_forecast_and_results(
    chromium: Any, stack: LocalServer
):
    started = time.perf_counter()
    browser = Browser(chromium, stack, "marketer", 1280)
    page = browser.page
    page.get_by_role("button", name="New campaign").click()
    browser.ready()
    page.get_by_label("Campaign ID").fill("bday-console")
    page.get_by_label("Name").fill("Birthday from the console")
    page.get_by_label("Occasion", exact=True).select_option("birthday")
    page.get_by_label("Send at (local time)").fill("09:00")
    english = page.locator("fieldset.locale[data-locale='en']")
    english.get_by_label("Subject").fill("Happy birthday, {{ first_name }!")  # a typo
    english.get_by_label("Text").fill("Hello {{ first_name }}, here is a gift.")
    page.get_by_label("Add a locale to the e-mail").fill("de")
    page.get_by_role("button", name="Add locale").click()
    german = page.locator("fieldset.locale[data-locale='de']")
    german.get_by_label("Subject").fill("Alles Gute, {{ first_name }}!")
    german.get_by_label("Text").fill("Hallo {{ first_name }}, ein Geschenk für Sie.")
    page.get_by_role("button", name="Save").click()

    # The template error is shown next to the English subject, which gets the focus.
    subject = english.get_by_label("Subject")
    page.wait_for_selector("fieldset.locale[data-locale='en'] [aria-invalid='true']")
    assert subject.get_attribute("aria-invalid") == "true"
    error_id = f"{subject.get_attribute('id')}-error"
    assert page.locator(f"#{error_id}").is_visible()
    assert page.locator(f"#{error_id}").inner_text().strip()
    subject.fill("Happy birthday, {{ first_name }}!")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/#/campaigns/bday-console")
    browser.ready()
    assert "Saved bday-console (version 1)" in page.locator("#notice").inner_text()

    # Live preview for a real customer: Ana reads German.
    page.get_by_label("Preview for customer").fill("c-ana")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("heading", name="Subject: Alles Gute, Ana!").wait_for()

    page.get_by_role("button", name="Activate").click()
    page.wait_for_selector(".status-active")
    assert "now active" in page.locator("#notice").inner_text()

    browser.go("#/forecast")
    assert page.get_by_role("heading", name="Forecast").is_visible()
    page.get_by_role("button", name=re.compile(r"^Thu, Mar 4: \d+ messages")).click()
    day = page.locator("section[aria-label='Selected day']")
    day.get_by_role("heading", name="Thu, Mar 4").wait_for()
    # Ana (German) and Cy have their birthday that day; Di gave no consent.
    rows = day.locator("tr").all_inner_texts()
    assert any(r.startswith("bday-console") and r.split()[-1] == "2" for r in rows), rows

    _advance(stack, 3)  # planner, dispatcher and sender run over Mar 3-5
    browser.go("#/results/bday-console")
    rows = page.locator("section.card").first.locator("tr")
    sent = next(r for r in rows.all_inner_texts() if r.startswith("Sent"))
    assert sent.split()[-1] == "3"  # Ana, Bo, Cy (Di gave no consent)
    assert page.get_by_text("Skipped: no_consent").is_visible()
    browser.shot("journey-results")
    assert browser.errors == []
    browser.close()
    duration = time.perf_counter() - started
    print(f"marketer journey: {duration:.1f} s")
    assert duration < 240


@pytest.mark.parametrize("width", WIDTHS)
def test_given_a_viewer_when_looking_then_nothing_editable_and_writes_refused(
    chromium: Any, stack: LocalServer, width: int
):
    browser = Browser(chromium, stack, "viewer", width)
    page = browser.page
    assert page.get_by_role("button", name="New campaign").is_disabled()
    for name in ("Activate", "Pause", "Archive"):
        buttons = page.get_by_role("button", name=name, exact=True)
        assert buttons.count() >= 1
        assert all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
    browser.go("#/campaigns/bday-existing")
    assert page.get_by_role("button", name="Save").is_disabled()
    assert page.get_by_label("Name").is_disabled()
    assert page.get_by_label("Preview for customer").is_enabled()  # reading is allowed
    browser.go("#/policy")
    assert page.get_by_role("button", name="Save").is_disabled()
    # The API itself refuses a viewer's change, whatever the page shows.
    status = page.evaluate(
        """async () => {
            const token = sessionStorage.getItem("console.id_token");
            const response = await fetch("../api/campaigns/bday-existing/status", {
                method: "POST",
                headers: {"Content-Type": "application/json", "Authorization": token},
                body: JSON.stringify({status: "paused", version: 1}),
            });
            return [response.status, (await response.json()).error];
        }"""
    )
    assert status == [403, "forbidden"]
    unsigned = page.evaluate("""async () => (await fetch("../api/campaigns")).status""")
    assert unsigned == 401
    assert len(browser.refused) == 2  # the two requests above, nothing else
    assert browser.errors == []
    browser.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_given_every_page_when_opened_then_no_script_error_and_it_fits(
    chromium: Any, stack: LocalServer, width: int
):
    browser = Browser(chromium, stack, "marketer", width)
    page = browser.page
    for name in ("Campaigns", "Forecast", "Results", "Segments", "Customers"):
        assert page.get_by_role("link", name=name, exact=True).is_visible()
    for name, fragment in PAGES.items():
        browser.go(fragment)
        browser.shot(name)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main textarea')]
                .filter(c => c.type !== 'hidden' && !(c.labels && c.labels.length)
                    && !c.getAttribute('aria-label')).map(c => c.outerHTML.slice(0, 80))"""
        )
        assert unlabelled == [], f"{name}: fields without a label: {unlabelled}"
    page.get_by_role("link", name="Customers", exact=True).focus()
    page.keyboard.press("Enter")  # the keyboard reaches the pages too
    page.wait_for_url("**/console/#/customers")
    page.get_by_role("heading", name="Customers", exact=True).wait_for()
    browser.ready()
    assert browser.errors == [], browser.errors
    assert browser.refused == [], browser.refused
    browser.close()
