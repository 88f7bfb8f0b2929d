"""Planner: turn occasions into ledger items, one per (campaign, customer, occurrence, channel).

Date-driven occasions (birthday, holiday, inactivity) are planned on *local dates*. A run at
UTC instant ``now`` plans, for each active campaign, every local date after the campaign's
cursor (``planned_through``) up to ``today + plan_ahead_days``. A local date D is sent between
D-1 10:00 UTC (UTC+14) and D+1 11:59 UTC (UTC-12), so planning D+1 at D 00:00 UTC is always in
time. The first run of a new (or re-activated) campaign starts at today and ignores occurrences
whose time has passed; later catch-up runs record those as ``skipped(missed_send_window)``.

Reads never scan the customer table:

* birthday: one Query of ``by-birthday`` per "MM-DD" key (plus "02-29" on Feb 28 / Mar 1 of
  non-leap years), shared by all birthday campaigns of the run;
* inactivity: one Query of ``by-last-active`` for the day ``days`` before;
* holiday: the planner only decides which countries have a greeted holiday on the date and
  sends one task per (country, shard) to the plan queue; plan workers Query ``by-country``
  for their shard in parallel, so no single Lambda reads a whole country.

Order-triggered occasions (replenishment, surveys) are planned from the Orders stream with
the same :func:`plan_occurrence`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from lifecycle.campaigns.model import (
    BirthdayOccasion,
    Campaign,
    HolidayOccasion,
    InactivityOccasion,
    ReplenishmentOccasion,
    SurveyOccasion,
)
from lifecycle.campaigns.repository import active_campaigns, advance_cursor, load_campaign
from lifecycle.core.localtime import local_send_instant, parse_hhmm, to_utc
from lifecycle.core.observability import logger
from lifecycle.core.settings import Settings
from lifecycle.occasions import Occurrence, birthday, holiday, inactivity
from lifecycle.occasions import orders as order_occasions
from lifecycle.rules import audience
from lifecycle.rules.consent import consent_block
from lifecycle.rules.offers import coupon_code, valid_until
from lifecycle.rules.records import is_valid_timezone
from lifecycle.rules.segments import audience_view
from lifecycle.store import ledger
from lifecycle.store.customers import (
    customers_in_country_shard,
    customers_last_active_on,
    customers_with_birthday,
    get_customer,
)

NOT_IN_AUDIENCE = "not_in_audience"
MISSED_SEND_WINDOW = "missed_send_window"
MAX_CATCH_UP_DAYS = 31


@dataclass(frozen=True)
class PlanSettings:
    shards: int
    ttl_days: int
    ahead_days: int
    max_send_delay: timedelta
    country_shards: int = 16


@dataclass
class PlanReport:
    """What a planner run did (returned by the handler, logged, used by the local runner)."""

    dates: dict[str, list[str]] = field(default_factory=dict)  # campaign -> local dates
    created: Counter[str] = field(default_factory=Counter)  # status/reason -> count
    existing: int = 0
    customers_read: int = 0
    tasks: int = 0

    def merge(self, other: PlanReport) -> None:
        self.created.update(other.created)
        self.existing += other.existing
        self.customers_read += other.customers_read
        self.tasks += other.tasks

    def as_dict(self) -> dict[str, Any]:
        return {
            "dates": self.dates,
            "created": dict(self.created),
            "existing": self.existing,
            "customers_read": self.customers_read,
            "tasks": self.tasks,
        }


def dates_to_plan(cursor: str | None, now: datetime, ahead_days: int) -> list[date]:
    today = now.date()
    last = today + timedelta(days=ahead_days)
    first = today if cursor is None else date.fromisoformat(cursor) + timedelta(days=1)
    first = max(first, today - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def customer_timezone(customer: dict[str, Any], campaign: Campaign) -> str:
    zone = customer.get("timezone")
    return zone if zone and is_valid_timezone(zone) else campaign.default_timezone


def plan_occurrence(
    campaign: Campaign,
    customer: dict[str, Any],
    occurrence: Occurrence,
    now: datetime,
    key: bytes,
    *,
    first_planning: bool,
    max_send_delay: timedelta,
) -> list[ledger.PlannedDelivery]:
    """Ledger items (one per channel) for one occurrence, with a skip reason where excluded.

    Empty when, on a campaign's first planning, the send time has already passed.
    """
    tz = customer_timezone(customer, campaign)
    local = local_send_instant(occurrence.local_date, parse_hhmm(campaign.send_at_local), tz)
    deliver_at = to_utc(local)
    late = deliver_at + max_send_delay < now
    if late and first_planning:
        return []
    in_audience = audience.evaluate(campaign.audience, audience_view(customer, now))
    planned = []
    for channel in campaign.channels:
        skip: str | None = None
        if late:
            skip = MISSED_SEND_WINDOW
        elif not in_audience:
            skip = NOT_IN_AUDIENCE
        else:
            skip = consent_block(customer, channel)
        code = until = None
        if campaign.offer and skip is None:
            # One code per occurrence, shared by its channels.
            code_id = ledger.delivery_id(
                campaign.campaign_id, customer["customer_id"], occurrence.key, "offer"
            )
            code = coupon_code(campaign.offer.code_prefix, code_id, key)
            until = valid_until(occurrence.local_date, campaign.offer.valid_days).isoformat()
        planned.append(
            ledger.PlannedDelivery(
                campaign_id=campaign.campaign_id,
                customer_id=customer["customer_id"],
                occurrence=occurrence.key,
                occasion=campaign.occasion.type,
                channel=channel,
                deliver_at=deliver_at,
                local_send_time=local,
                timezone=tz,
                context=occurrence.context,
                coupon_code=code,
                offer_valid_until=until,
                skip_reason=skip,
            )
        )
    return planned


@dataclass
class _Writer:
    """Plans occurrences into the ledger for one run and counts what it wrote."""

    now: datetime
    key: bytes
    settings: PlanSettings
    report: PlanReport

    def plan(
        self,
        campaign: Campaign,
        customer: dict[str, Any],
        occurrence: Occurrence,
        *,
        first_planning: bool,
    ) -> None:
        planned = plan_occurrence(
            campaign,
            customer,
            occurrence,
            self.now,
            self.key,
            first_planning=first_planning,
            max_send_delay=self.settings.max_send_delay,
        )
        for item in planned:
            if ledger.create(item, self.now, self.settings.shards, self.settings.ttl_days):
                self.report.created[item.skip_reason or ledger.QUEUED] += 1
            else:
                self.report.existing += 1


def holiday_hits(spec: HolidayOccasion, day: date, country: str) -> list[holiday.HolidayHit]:
    return holiday.holidays_on(
        day,
        country,
        spec.holidays,
        [c.model_dump() for c in spec.custom],
        [entry.model_dump() for entry in spec.lunar],
    )


def holiday_occurrence(hit: holiday.HolidayHit) -> Occurrence:
    return Occurrence(
        key=hit.date.isoformat(),
        local_date=hit.date,
        context={
            "type": "holiday",
            "date": hit.date.isoformat(),
            "name": hit.name,
            "country": hit.country,
            "source": hit.source,
        },
    )


Reader = Callable[[str, str], list[dict[str, Any]]]
INDEX_READERS: dict[str, Callable[[str], Iterable[dict[str, Any]]]] = {
    "by-birthday": customers_with_birthday,
    "by-last-active": customers_last_active_on,
    "by-country": customers_in_country_shard,
}


def read_index(index: str, value: str) -> list[dict[str, Any]]:
    """Customers under one key of one customer index (a Query, never a Scan)."""
    return list(INDEX_READERS[index](value))


def indexed_candidates(
    spec: BirthdayOccasion | InactivityOccasion, day: date, read: Reader
) -> Iterator[tuple[dict[str, Any], Occurrence]]:
    """Customers with a birthday or inactivity occurrence on local ``day``."""
    if isinstance(spec, BirthdayOccasion):
        for month_day in birthday.month_days_for(day, spec.feb29):
            for customer in read("by-birthday", month_day):
                occurrence = birthday.occurrence(customer["birthday"], day, spec.feb29)
                if occurrence:
                    yield customer, occurrence
        return
    anchor = inactivity.anchor_day(day, spec.days).isoformat()
    for customer in read("by-last-active", anchor):
        occurrence = inactivity.occurrence(customer, day, spec.days)
        if occurrence:
            yield customer, occurrence


def holiday_shard_candidates(
    spec: HolidayOccasion, day: date, country: str, shard: int, read: Reader
) -> Iterator[tuple[dict[str, Any], Occurrence]]:
    """Customers of one country shard greeted on ``day`` (nothing read without a holiday)."""
    hits = holiday_hits(spec, day, country)
    if not hits:
        return
    occurrence = holiday_occurrence(hits[0])  # several on one day: one greeting, the first
    for customer in read("by-country", f"{country}#{shard}"):
        if customer.get("country") == country:
            yield customer, occurrence


def plan_dated(
    now: datetime,
    key: bytes,
    settings: PlanSettings,
    *,
    send_tasks: Callable[[list[dict[str, Any]]], None] | None = None,
    campaigns: list[tuple[Campaign, str | None]] | None = None,
) -> PlanReport:
    """Plan every active date-driven campaign and advance the cursors.

    ``send_tasks`` receives holiday fan-out tasks (the plan queue); without it they are
    planned inline (small deployments, tests).
    """
    report = PlanReport()
    writer = _Writer(now, key, settings, report)
    cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def read(index: str, value: str) -> list[dict[str, Any]]:
        """One Query per index key and run, shared by all campaigns of the run."""
        if (index, value) not in cache:
            cache[index, value] = read_index(index, value)
            report.customers_read += len(cache[index, value])
        return cache[index, value]

    if campaigns is None:
        campaigns = [
            entry
            for kind in ("birthday", "holiday", "inactivity")
            for entry in active_campaigns(kind)
        ]
    for campaign, cursor in campaigns:
        dates = dates_to_plan(cursor, now, settings.ahead_days)
        report.dates[campaign.campaign_id] = [d.isoformat() for d in dates]
        first = cursor is None
        spec = campaign.occasion
        for local_date in dates:
            if isinstance(spec, BirthdayOccasion | InactivityOccasion):
                for customer, occurrence in indexed_candidates(spec, local_date, read):
                    writer.plan(campaign, customer, occurrence, first_planning=first)
            elif isinstance(spec, HolidayOccasion):
                tasks = [
                    {
                        "campaign_id": campaign.campaign_id,
                        "country": country,
                        "date": local_date.isoformat(),
                        "shard": shard,
                        "first_planning": first,
                    }
                    for country in spec.countries
                    if holiday_hits(spec, local_date, country)
                    for shard in range(settings.country_shards)
                ]
                report.tasks += len(tasks)
                if send_tasks is not None:
                    if tasks:
                        send_tasks(tasks)
                else:
                    for task in tasks:
                        report.merge(plan_holiday_task(task, now, key, settings, campaign))
        if dates and not advance_cursor(campaign.campaign_id, dates[-1], cursor):
            logger.warning("planning cursor moved concurrently", campaign_id=campaign.campaign_id)
    return report


def plan_holiday_task(
    task: dict[str, Any],
    now: datetime,
    key: bytes,
    settings: PlanSettings,
    campaign: Campaign | None = None,
) -> PlanReport:
    """Plan one (campaign, country, shard, date) holiday task; safe to run twice."""
    report = PlanReport()
    writer = _Writer(now, key, settings, report)
    campaign = campaign or load_campaign(str(task["campaign_id"]))
    if campaign is None or campaign.status != "active":
        return report
    spec = campaign.occasion
    if not isinstance(spec, HolidayOccasion):
        return report

    def read(index: str, value: str) -> list[dict[str, Any]]:
        customers = read_index(index, value)
        report.customers_read += len(customers)
        return customers

    day = date.fromisoformat(str(task["date"]))
    for customer, occurrence in holiday_shard_candidates(
        spec, day, str(task["country"]), int(task["shard"]), read
    ):
        writer.plan(campaign, customer, occurrence, first_planning=bool(task.get("first_planning")))
    return report


def parse_task(body: str) -> dict[str, Any]:
    """Validate a plan-queue message body."""
    task = json.loads(body)
    if not isinstance(task, dict):
        raise ValueError("plan task must be an object")
    for name in ("campaign_id", "country", "date", "shard"):
        if name not in task:
            raise ValueError(f"plan task lacks {name}")
    date.fromisoformat(str(task["date"]))
    return task


def plan_order_change(
    old: order_occasions.Order | None,
    new: order_occasions.Order | None,
    now: datetime,
    key: bytes,
    settings: PlanSettings,
    *,
    campaigns: list[Campaign] | None = None,
) -> PlanReport:
    """Orders stream: an order that became ``delivered`` starts replenishment and surveys."""
    report = PlanReport()
    writer = _Writer(now, key, settings, report)
    if new is None or not order_occasions.became_delivered(old, new):
        return report
    if campaigns is None:
        campaigns = [
            c
            for kind in ("replenishment", "post_purchase_survey")
            for c, _ in active_campaigns(kind)
        ]
    if not campaigns:
        return report
    customer = get_customer(new.customer_id)
    report.customers_read += 1
    if customer is None:
        logger.warning("order for unknown customer", order_id=new.order_id)
        return report
    for campaign in campaigns:
        tz = customer_timezone(customer, campaign)
        spec = campaign.occasion
        occurrence: Occurrence | None = None
        if isinstance(spec, ReplenishmentOccasion):
            occurrence = order_occasions.replenishment(new, tz, spec.days_after_purchase, spec.skus)
        elif isinstance(spec, SurveyOccasion):
            occurrence = order_occasions.survey(new, tz, spec.delay_days, spec.kind)
        if occurrence is None:
            continue
        writer.plan(campaign, customer, occurrence, first_planning=False)
    return report


def plan_settings(settings: Settings) -> PlanSettings:
    return PlanSettings(
        shards=settings.dispatch_shards,
        ttl_days=settings.ledger_ttl_days,
        ahead_days=settings.plan_ahead_days,
        max_send_delay=timedelta(minutes=settings.max_send_delay_minutes),
        country_shards=settings.country_shards,
    )


def task_sender(sqs: Any, queue_url: str) -> Callable[[list[dict[str, Any]]], None]:
    """Send holiday fan-out tasks to the plan queue in batches of 10 (raises on failure)."""

    def send(tasks: list[dict[str, Any]]) -> None:
        for start in range(0, len(tasks), 10):
            batch = tasks[start : start + 10]
            response = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps(task, sort_keys=True)}
                    for i, task in enumerate(batch)
                ],
            )
            if response.get("Failed"):
                raise RuntimeError(f"plan queue rejected {len(response['Failed'])} tasks")

    return send
