"""Date occasion on moto: import -> date index -> plan -> send, dry run, why-not, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from typing import Any

import pytest

from lifecycle.campaigns.model import Campaign, parse_campaign
from lifecycle.campaigns.repository import save_campaign
from lifecycle.core.aws import client
from lifecycle.core.settings import get_settings
from lifecycle.features.dryrun import dry_run, preview
from lifecycle.features.erasure import erase_customer
from lifecycle.features.importer import import_customers
from lifecycle.features.insights import customer_history, explain_absence
from lifecycle.pipeline.planner import PlanReport, PlanSettings, plan_dated
from lifecycle.pipeline.sender import SendDependencies, process_delivery
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer, read_index
from lifecycle.store.models import CustomerDateModel
from tests.builders import campaign_doc, customer_doc, email_content

KEY = b"integration-test-signing-key"
T_IMPORT = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
T_PLAN = datetime(2027, 4, 3, 0, 0, tzinfo=UTC)  # plans local date 2027-04-03 only
SETTINGS = PlanSettings(shards=4, ttl_days=400, ahead_days=0, max_send_delay=timedelta(minutes=15))

ANNIVERSARY = campaign_doc(
    "anniv",
    name="Signup anniversary",
    occasion={"type": "date", "date": "signup", "repeat": "yearly"},
    content=email_content(
        "{{ occasion.years }} years with us, {{ first_name }}!",
        "Member since {{ occasion.date }}, celebrated on {{ occasion.on }}.",
    ),
)
RENEWAL = campaign_doc(
    "renew",
    name="Renewal reminder",
    occasion={"type": "date", "date": "renewal", "repeat": "once", "offset_days": -7},
    send_at_local="10:00",
    content=email_content("Your plan renews on {{ occasion.on }}", "Renews {{ occasion.date }}."),
)

# Who is planned on local date 2027-04-03, and who must not be.
CUSTOMERS: list[dict[str, Any]] = [
    customer_doc("a1", first_name="Ana", timezone="UTC", dates={"signup": "2020-04-03"}),
    customer_doc("a2", first_name="Ben", timezone="Europe/Berlin", dates={"signup": "2026-04-03"}),
    customer_doc(
        "a3",
        first_name="Cy",
        timezone="America/New_York",
        dates={"signup": "2000-04-03", "renewal": "2027-04-10"},
    ),
    customer_doc("a8", timezone="UTC", consent={"email": False}, dates={"signup": "2019-04-03"}),
    customer_doc("r1", first_name="Rui", timezone="UTC", dates={"renewal": "2027-04-10"}),
    # not planned on 2027-04-03
    customer_doc("new", timezone="UTC", dates={"signup": "2027-04-03"}),  # the year itself
    customer_doc("future", timezone="UTC", dates={"signup": "2030-04-03"}),
    customer_doc("other-day", timezone="UTC", dates={"signup": "2020-04-04"}),
    customer_doc("other-name", timezone="UTC", dates={"pet_birthday": "2020-04-03"}),
    customer_doc("no-dates", first_name="Noa", timezone="UTC"),
    customer_doc("renew-next-year", timezone="UTC", dates={"renewal": "2028-04-10"}),
    customer_doc("renew-last-year", timezone="UTC", dates={"renewal": "2026-04-10"}),
    customer_doc("renew-passed", timezone="UTC", dates={"renewal": "2027-04-03"}),
]
PLANNED = {
    "anniv#a1#signup:2027#email": ("queued", "2027-04-03T09:00:00Z"),
    "anniv#a2#signup:2027#email": ("queued", "2027-04-03T07:00:00Z"),  # 09:00 CEST
    "anniv#a3#signup:2027#email": ("queued", "2027-04-03T13:00:00Z"),  # 09:00 EDT
    "anniv#a8#signup:2027#email": ("skipped", "2027-04-03T09:00:00Z"),  # no consent
    "renew#a3#renewal:2027-04-10#email": ("queued", "2027-04-03T14:00:00Z"),  # 10:00 EDT
    "renew#r1#renewal:2027-04-10#email": ("queued", "2027-04-03T10:00:00Z"),
}


def _import(records: list[dict[str, Any]], now: datetime = T_IMPORT) -> None:
    result = import_customers([json.dumps(r) for r in records], "customers.jsonl", now)
    assert not result.rejected, result.rejected


def _save(*docs: dict[str, Any]) -> list[Campaign]:
    """Save (and so activate) campaigns at the planning instant: nothing earlier is planned."""
    campaigns = [parse_campaign(doc) for doc in docs]
    for campaign in campaigns:
        save_campaign(campaign, T_PLAN)
    return campaigns


def _ledger(*campaign_ids: str) -> dict[str, tuple[str, str]]:
    items = {}
    for campaign_id in campaign_ids:
        for key in ledger.by_campaign(campaign_id):
            item = ledger.get(key.delivery_id)
            assert item is not None
            items[item.delivery_id] = (item.status, item.deliver_at)
    return items


def _date_names(customer_id: str) -> dict[str, str]:
    return {item.name: item.date for item in CustomerDateModel.query(customer_id)}


def _sent_raw() -> list[str]:
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends["123456789012"]["us-east-1"].sent_messages]


@pytest.fixture
def deps(aws: Any) -> SendDependencies:
    return SendDependencies(settings=get_settings(), key=KEY, sesv2=client("sesv2"))


@pytest.fixture
def planned(aws: Any, clock: Any) -> PlanReport:
    _save(ANNIVERSARY, RENEWAL)
    _import(CUSTOMERS)
    clock.set(T_PLAN)
    return plan_dated(T_PLAN, KEY, SETTINGS)


# ---------------------------------------------------------------- planning
def test_given_dated_customers_when_planned_then_exactly_the_day_s_occurrences(planned):
    assert _ledger("anniv", "renew") == PLANNED
    assert planned.created == {"queued": 5, "no_consent": 1}
    assert planned.dates == {"anniv": ["2027-04-03"], "renew": ["2027-04-03"]}


def test_given_planned_items_when_read_then_context_has_date_on_and_years(planned):
    def context(delivery: str) -> dict[str, Any]:
        item = ledger.get(delivery)
        assert item is not None
        return dict(item.context)

    assert context("anniv#a1#signup:2027#email") == {
        "type": "date",
        "name": "signup",
        "date": "2020-04-03",
        "on": "2027-04-03",
        "years": 7,
    }
    assert context("anniv#a2#signup:2027#email")["years"] == 1
    assert context("anniv#a3#signup:2027#email")["years"] == 27
    assert context("renew#r1#renewal:2027-04-10#email") == {
        "type": "date",
        "name": "renewal",
        "date": "2027-04-10",
        "on": "2027-04-10",
    }
    item = ledger.get("anniv#a2#signup:2027#email")
    assert item is not None and item.local_send_time == "2027-04-03T09:00:00+02:00"


def test_given_planned_when_planner_runs_again_then_nothing_new(planned):
    again = plan_dated(T_PLAN, KEY, SETTINGS)
    assert sum(again.created.values()) == 0
    assert again.customers_read == 0  # the cursors already cover the day
    campaigns = [(parse_campaign(ANNIVERSARY), None), (parse_campaign(RENEWAL), None)]
    forced = plan_dated(T_PLAN, KEY, SETTINGS, campaigns=campaigns)  # cursors forgotten
    assert sum(forced.created.values()) == 0
    assert forced.existing == len(PLANNED)
    assert _ledger("anniv", "renew") == PLANNED


def test_given_next_day_when_planned_then_only_that_day_s_dates(planned):
    report = plan_dated(T_PLAN + timedelta(days=1), KEY, SETTINGS)
    assert report.dates == {"anniv": ["2027-04-04"], "renew": ["2027-04-04"]}
    assert set(_ledger("anniv", "renew")) - set(PLANNED) == {"anniv#other-day#signup:2027#email"}


def test_given_many_same_day_dates_in_other_years_or_names_when_planned_then_few_reads(aws, clock):
    _save(ANNIVERSARY, RENEWAL)
    decoys = [
        *(
            customer_doc(f"y{year}", dates={"signup": f"{year}-04-03"})
            for year in range(2027, 2037)  # this year and later: no anniversary yet
        ),
        *(
            customer_doc(
                f"n{i}", dates={"pet_birthday": "2020-04-03", "renewal": f"20{30 + i}-04-10"}
            )
            for i in range(8)  # other name on the day; renewals in other years
        ),
        *(customer_doc(f"d{i}", dates={"signup": f"2020-04-{5 + i:02d}"}) for i in range(4)),
    ]
    _import(
        [
            *decoys,
            customer_doc("hit-1", dates={"signup": "2001-04-03"}),
            customer_doc("hit-2", dates={"signup": "2026-04-03", "renewal": "2027-04-10"}),
            customer_doc("hit-3", dates={"renewal": "2027-04-10"}),
        ]
    )
    report = plan_dated(T_PLAN, KEY, SETTINGS)
    created = sum(report.created.values())
    assert set(_ledger("anniv", "renew")) == {
        "anniv#hit-1#signup:2027#email",
        "anniv#hit-2#signup:2027#email",
        "renew#hit-2#renewal:2027-04-10#email",
        "renew#hit-3#renewal:2027-04-10#email",
    }
    assert created == 4
    assert report.customers_read / created <= 1.5, report.as_dict()


def test_given_feb29_date_when_non_leap_year_then_planned_on_the_rule_day(aws, clock):
    feb28, mar1 = _save(
        campaign_doc("feb28", occasion={"type": "date", "date": "signup", "feb29": "feb28"}),
        campaign_doc("mar1", occasion={"type": "date", "date": "signup", "feb29": "mar1"}),
    )
    _import(
        [
            customer_doc("leap", dates={"signup": "2024-02-29"}),
            customer_doc("feb-28", dates={"signup": "2023-02-28"}),
            customer_doc("mar-1", dates={"signup": "2022-03-01"}),
        ],
        datetime(2027, 2, 1, tzinfo=UTC),
    )
    for day in (datetime(2027, 2, 28, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)):
        plan_dated(day, KEY, SETTINGS, campaigns=[(feb28, None), (mar1, None)])
    assert set(_ledger("feb28", "mar1")) == {
        "feb28#leap#signup:2027#email",
        "feb28#feb-28#signup:2027#email",
        "feb28#mar-1#signup:2027#email",
        "mar1#leap#signup:2027#email",
        "mar1#feb-28#signup:2027#email",
        "mar1#mar-1#signup:2027#email",
    }
    feb = ledger.get("feb28#leap#signup:2027#email")
    mar = ledger.get("mar1#leap#signup:2027#email")
    assert feb is not None and feb.local_send_time == "2027-02-28T09:00:00+00:00"
    assert mar is not None and mar.local_send_time == "2027-03-01T09:00:00+00:00"
    assert (feb.context["on"], feb.context["years"]) == ("2027-02-28", 3)
    assert (mar.context["on"], mar.context["years"]) == ("2027-03-01", 3)


def test_given_negative_offset_when_planned_in_december_then_marks_january_dates(aws, clock):
    yearly, once = _save(
        campaign_doc("early", occasion={"type": "date", "date": "signup", "offset_days": -7}),
        campaign_doc(
            "soon",
            occasion={"type": "date", "date": "renewal", "repeat": "once", "offset_days": -7},
        ),
    )
    _import(
        [
            customer_doc("jan", dates={"signup": "2020-01-03", "renewal": "2028-01-03"}),
            customer_doc("jan-new", dates={"signup": "2027-01-03", "renewal": "2027-01-03"}),
        ],
        datetime(2027, 12, 1, tzinfo=UTC),
    )
    plan_dated(
        datetime(2027, 12, 27, tzinfo=UTC), KEY, SETTINGS, campaigns=[(yearly, None), (once, None)]
    )
    assert _ledger("early", "soon") == {
        "early#jan#signup:2028#email": ("queued", "2027-12-27T09:00:00Z"),
        "early#jan-new#signup:2028#email": ("queued", "2027-12-27T09:00:00Z"),
        "soon#jan#renewal:2028-01-03#email": ("queued", "2027-12-27T09:00:00Z"),
    }
    item = ledger.get("early#jan#signup:2028#email")
    assert item is not None
    assert (item.context["on"], item.context["years"]) == ("2028-01-03", 8)


def test_given_csv_with_date_columns_when_imported_then_dates_indexed(aws, clock):
    text = (
        "customer_id,email,consent_email,date_signup,date_renewal\n"
        "csv-1,csv1@example.com,true,2020-04-03,2027-04-10\n"
        "csv-2,csv2@example.com,true,2021-04-03,\n"
        "csv-3,csv3@example.com,true,2021-04-03,2027-13-10\n"
    )
    result = import_customers(text.splitlines(), "customers.csv", T_IMPORT)
    assert result.imported_ids == ["csv-1", "csv-2"]
    assert [(r.id, r.reason.split(":")[0]) for r in result.rejected] == [("csv-3", "dates.renewal")]
    assert _date_names("csv-1") == {"signup": "2020-04-03", "renewal": "2027-04-10"}
    assert _date_names("csv-2") == {"signup": "2021-04-03"}
    assert _date_names("csv-3") == {}
    customer = get_customer("csv-1")
    assert customer is not None and customer["dates"] == {
        "signup": "2020-04-03",
        "renewal": "2027-04-10",
    }
    _save(ANNIVERSARY, RENEWAL)
    plan_dated(T_PLAN, KEY, SETTINGS)
    assert set(_ledger("anniv", "renew")) == {
        "anniv#csv-1#signup:2027#email",
        "anniv#csv-2#signup:2027#email",
        "renew#csv-1#renewal:2027-04-10#email",
    }


# ---------------------------------------------------------------- date index upkeep
def test_given_customer_when_reimported_without_a_date_then_its_index_item_is_removed(
    planned,
):
    assert _date_names("a3") == {"signup": "2000-04-03", "renewal": "2027-04-10"}
    _import([customer_doc("a3", timezone="America/New_York", dates={"signup": "2000-04-03"})])
    assert _date_names("a3") == {"signup": "2000-04-03"}
    assert [
        c["customer_id"] for c in read_index("by-anniversary", "renewal|04-10|on|2027-04-10")
    ] == ["r1"]
    _import([customer_doc("a3", timezone="America/New_York")])
    assert _date_names("a3") == {}
    customer = get_customer("a3")
    assert customer is not None and customer["dates"] == {}


def test_given_customer_when_date_moved_then_index_follows(planned):
    _import([customer_doc("a1", timezone="UTC", dates={"signup": "2020-05-01"})])
    assert _date_names("a1") == {"signup": "2020-05-01"}
    on_old_day = read_index("by-anniversary", "signup|04-03|before|2028-01-01")
    on_new_day = read_index("by-anniversary", "signup|05-01|before|2028-01-01")
    assert "a1" not in [c["customer_id"] for c in on_old_day]
    assert [c["customer_id"] for c in on_new_day] == ["a1"]


def test_given_erased_customer_when_erased_then_date_items_are_gone(planned):
    report = erase_customer("a3", T_PLAN + timedelta(hours=1))
    assert report.dates_removed == 2
    assert _date_names("a3") == {}
    assert "a3" not in [
        c["customer_id"] for c in read_index("by-anniversary", "signup|04-03|before|2028-01-01")
    ]
    assert "a3" not in [
        c["customer_id"] for c in read_index("by-anniversary", "renewal|04-10|on|2027-04-10")
    ]
    item = ledger.get("renew#a3#renewal:2027-04-10#email")
    assert item is not None and (item.status, item.reason) == ("skipped", "erased")
    assert not item.context  # the customer's date left the ledger too
    campaigns = [(parse_campaign(ANNIVERSARY), None)]
    next_year = plan_dated(datetime(2028, 4, 3, tzinfo=UTC), KEY, SETTINGS, campaigns=campaigns)
    assert ledger.get("anniv#a3#signup:2028#email") is None
    assert {key.split("#")[1] for key in _ledger("anniv") if key.endswith(":2028#email")} == {
        "a1",
        "a2",
        "a8",
        "new",  # signed up on 2027-04-03: its first anniversary
    }
    assert sum(next_year.created.values()) == 4


# ---------------------------------------------------------------- sending
def test_given_planned_date_when_sent_then_years_and_dates_rendered(planned, deps):
    now = datetime(2027, 4, 3, 9, 0, tzinfo=UTC)
    assert process_delivery("anniv#a1#signup:2027#email", now, deps) == "sent"
    assert process_delivery(
        "renew#r1#renewal:2027-04-10#email", now + timedelta(hours=1), deps
    ) == ("sent")
    first, second = (message_from_string(raw, policy=policy.default) for raw in _sent_raw())
    assert first["Subject"] == "7 years with us, Ana!"
    body = first.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Member since 2020-04-03, celebrated on 2027-04-03." in body.get_content()
    assert second["Subject"] == "Your plan renews on 2027-04-10"


def test_given_date_changed_after_planning_when_sending_then_skipped_date_changed(planned, deps):
    _import([customer_doc("a1", timezone="UTC", dates={"signup": "2021-04-03"})])  # other year
    _import([customer_doc("r1", timezone="UTC", dates={"renewal": "2027-05-10"})])
    _import([customer_doc("a2", timezone="Europe/Berlin")])  # date removed
    now = datetime(2027, 4, 3, 9, 0, tzinfo=UTC)
    assert process_delivery("anniv#a1#signup:2027#email", now, deps) == "skipped:date_changed"
    assert (
        process_delivery("renew#r1#renewal:2027-04-10#email", now + timedelta(hours=1), deps)
        == "skipped:date_changed"
    )
    assert (
        process_delivery("anniv#a2#signup:2027#email", now - timedelta(hours=2), deps)
        == "skipped:date_changed"
    )
    assert _sent_raw() == []
    item = ledger.get("anniv#a1#signup:2027#email")
    assert item is not None and (item.status, item.reason) == ("skipped", "date_changed")


def test_given_unrelated_change_after_planning_when_sending_then_still_sent(planned, deps):
    _import([customer_doc("a1", first_name="Anna", timezone="UTC", dates={"signup": "2020-04-03"})])
    now = datetime(2027, 4, 3, 9, 0, tzinfo=UTC)
    assert process_delivery("anniv#a1#signup:2027#email", now, deps) == "sent"
    message = message_from_string(_sent_raw()[0], policy=policy.default)
    assert message["Subject"] == "7 years with us, Anna!"


# ---------------------------------------------------------------- dry run, why-not, preview
def test_given_same_data_when_dry_run_then_lists_the_planned_messages(aws, clock, deps):
    campaigns = _save(ANNIVERSARY, RENEWAL)
    _import(CUSTOMERS)
    plans, excluded = dry_run(campaigns, T_PLAN, T_PLAN + timedelta(days=1), deps)
    assert _ledger("anniv", "renew") == {}  # the dry run writes nothing
    clock.set(T_PLAN)
    plan_dated(T_PLAN, KEY, SETTINGS)
    queued = {
        (item.campaign_id, item.customer_id, item.deliver_at, item.local_send_time)
        for key in [*ledger.by_campaign("anniv"), *ledger.by_campaign("renew")]
        if (item := ledger.get(key.delivery_id)) is not None and item.status == "queued"
    }
    assert {(p.campaign_id, p.customer_id, p.sent_at, p.local_time) for p in plans} == queued
    assert len(plans) == len(queued) == 5
    subjects = {(p.campaign_id, p.customer_id): p.subject for p in plans}
    assert subjects[("anniv", "a3")] == "27 years with us, Cy!"
    assert subjects[("renew", "r1")] == "Your plan renews on 2027-04-10"
    assert [(e.campaign_id, e.customer_id, e.reason) for e in excluded] == [
        ("anniv", "a8", "no_consent")
    ]
    assert not _sent_raw()


def test_given_customer_without_the_date_when_asked_why_not_then_no_date_reason(planned):
    assert "no_date:signup" in explain_absence("no-dates", "anniv")
    assert "no_date:renewal" in explain_absence("a1", "renew")
    assert "no_date:signup" not in explain_absence("other-day", "anniv")
    history = customer_history("other-name", "anniv")
    assert history["deliveries"] == []
    assert "no_date:signup" in history["not_planned_because"]


def test_given_date_campaign_when_previewed_then_sample_occasion_rendered(planned, aws):
    anniversary, renewal = (parse_campaign(d) for d in (ANNIVERSARY, RENEWAL))
    customer = get_customer("no-dates")
    assert customer is not None
    shown = preview(anniversary, customer, "email", KEY, get_settings(), T_PLAN)
    assert shown["subject"] == "3 years with us, Noa!"
    assert "Member since 2024-03-14, celebrated on 2027-03-14." in shown["text"]
    shown = preview(renewal, customer, "email", KEY, get_settings(), T_PLAN)
    assert shown["subject"] == "Your plan renews on 2027-03-14"
