"""Planner: turn occasions into ledger items, one per (campaign, customer, occurrence, channel).

Date-triggered occasions are planned on *local dates*. A run at UTC instant ``now`` plans,
for each active campaign, every local date after the campaign's cursor (``planned_through``)
up to ``today + plan_ahead_days``. A local date D is sent between D-1 10:00 UTC (UTC+14) and
D+1 11:59 UTC (UTC-12), so planning D+1 at D 00:00 UTC is always in time. The first run of a
new (or re-activated) campaign starts at today and ignores occurrences whose time has passed;
later catch-up runs record those as ``skipped(missed_send_window)``.

The planner knows no occasion by name: it asks the registered occasion of each campaign for
its partitions of a day and the candidates of each partition (an index Query, never a Scan).
Occasions that fan out (holidays: one partition per country shard) are planned by plan
workers from the plan queue, in parallel. Order-triggered occasions are planned from the
Orders stream (:func:`plan_order_change`) with the same :func:`plan_occurrence`.

The dispatcher walks the ledger with a cursor per shard and never looks behind it, so an item
planned so late that its send time may be behind the cursor already (due within
:data:`LATE_WINDOW` of the run's ``now``, the longest a planning Lambda runs) is put on the
send queue by the planner itself, delayed to its send time (the sender's conditional write
keeps it exactly once if the dispatcher hands it over too).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from lifecycle.campaigns.model import Campaign
from lifecycle.campaigns.repository import active_campaigns, advance_cursor, load_campaign
from lifecycle.core.aws import client
from lifecycle.core.clock import parse_utc, utc_iso
from lifecycle.core.localtime import local_send_instant, parse_hhmm, to_utc
from lifecycle.core.observability import logger
from lifecycle.core.settings import Settings
from lifecycle.core.tokens import Keys
from lifecycle.occasions.base import Occurrence, Reader
from lifecycle.occasions.orders import became_delivered
from lifecycle.occasions.registry import occasion_for, types
from lifecycle.pipeline.dispatcher import MAX_DELAY_SECONDS, SendCapacity, over_capacity
from lifecycle.rules import audience
from lifecycle.rules.consent import consent_block
from lifecycle.rules.holdout import HOLDOUT, in_holdout
from lifecycle.rules.offers import coupon_code, valid_until
from lifecycle.rules.orders import Order
from lifecycle.rules.records import is_valid_timezone, parse_instant
from lifecycle.rules.segments import audience_view
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer, read_index

NOT_IN_AUDIENCE = "not_in_audience"
MISSED_SEND_WINDOW = "missed_send_window"
MAX_CATCH_UP_DAYS = 31
LATE_WINDOW = timedelta(minutes=15)  # a planning Lambda's longest run; SQS's longest delay


@dataclass(frozen=True)
class PlanSettings:
    shards: int
    ttl_days: int
    ahead_days: int
    max_send_delay: timedelta
    country_shards: int = 16
    send_rate: int = 14  # SES's maximum send rate: what dispatch can carry (capacity check)
    dispatch_interval_seconds: int = 300
    send_queue_url: str | None = None  # where items planned late go directly (module doc)


@dataclass
class PlanReport:
    """What a planner run did (returned by the handler, logged, used by the local runner)."""

    dates: dict[str, list[str]] = field(default_factory=dict)  # campaign -> local dates
    created: Counter[str] = field(default_factory=Counter)  # status/reason -> count
    existing: int = 0
    customers_read: int = 0
    tasks: int = 0
    due: Counter[str] = field(default_factory=Counter)  # deliver_at -> queued deliveries
    enqueued_late: int = 0  # put on the send queue by the planner (module doc)
    capacity: dict[str, Any] = field(default_factory=dict)  # SendCapacity of ``due``

    def merge(self, other: PlanReport) -> None:
        self.created.update(other.created)
        self.existing += other.existing
        self.customers_read += other.customers_read
        self.tasks += other.tasks
        self.due.update(other.due)
        self.enqueued_late += other.enqueued_late

    def check_capacity(self, settings: PlanSettings) -> SendCapacity:
        """What the send rate makes of the deliveries this run queued (``capacity``)."""
        checked = over_capacity(
            ((parse_utc(at), n) for at, n in self.due.items()),
            rate=settings.send_rate,
            interval_seconds=settings.dispatch_interval_seconds,
            window=settings.max_send_delay,
        )
        self.capacity = checked.as_dict()
        return checked

    def as_dict(self) -> dict[str, Any]:
        return {
            "dates": self.dates,
            "created": dict(self.created),
            "existing": self.existing,
            "customers_read": self.customers_read,
            "tasks": self.tasks,
            "enqueued_late": self.enqueued_late,
            "capacity": self.capacity,
        }


def dates_to_plan(
    cursor: str | None, now: datetime, ahead_days: int, activated_at: datetime | None = None
) -> list[date]:
    """Local dates to plan: after the cursor (or from the activation day) up to ahead_days."""
    today = now.date()
    last = today + timedelta(days=ahead_days)
    if cursor is not None:
        first = date.fromisoformat(cursor) + timedelta(days=1)
    elif activated_at is not None:
        first = activated_at.date()
    else:
        first = today
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
    key: Keys,
    *,
    first_planning: bool,
    max_send_delay: timedelta,
    ignore_before: datetime | None = None,
) -> list[ledger.PlannedDelivery]:
    """Ledger items (one per channel) for one occurrence, with a skip reason where excluded.

    Empty when the send time came before the campaign was activated (``ignore_before``) or,
    on a campaign's first planning without a known activation, has already passed. Otherwise
    an occurrence whose send window has closed is recorded as ``missed_send_window``.
    """
    tz = customer_timezone(customer, campaign)
    local = local_send_instant(occurrence.local_date, parse_hhmm(campaign.send_at_local), tz)
    deliver_at = to_utc(local)
    if ignore_before is not None and deliver_at < ignore_before:
        return []
    late = deliver_at + max_send_delay < now
    if late and first_planning:
        return []
    in_audience = audience.evaluate(campaign.audience, audience_view(customer, now))
    # Only eligible customers (in the audience, with consent) enter the experiment.
    held_out = (
        HOLDOUT
        if in_holdout(campaign.campaign_id, customer["customer_id"], campaign.holdout_percent)
        else None
    )
    planned = []
    for channel in campaign.channels:
        skip: str | None = None
        if late:
            skip = MISSED_SEND_WINDOW
        elif not in_audience:
            skip = NOT_IN_AUDIENCE
        else:
            skip = (
                consent_block(customer, channel, campaign.topic, marketing=campaign.is_marketing)
                or held_out
            )
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
    key: Keys
    settings: PlanSettings
    report: PlanReport

    def plan(
        self,
        campaign: Campaign,
        customer: dict[str, Any],
        occurrence: Occurrence,
        *,
        first_planning: bool,
        ignore_before: datetime | None = None,
    ) -> None:
        planned = plan_occurrence(
            campaign,
            customer,
            occurrence,
            self.now,
            self.key,
            first_planning=first_planning,
            max_send_delay=self.settings.max_send_delay,
            ignore_before=ignore_before,
        )
        for item in planned:
            if ledger.create(item, self.now, self.settings.shards, self.settings.ttl_days):
                self.report.created[item.skip_reason or ledger.QUEUED] += 1
                if item.skip_reason is None:
                    self.report.due[utc_iso(item.deliver_at)] += 1
            else:
                self.report.existing += 1
            # Also when it existed: a run that failed after the put is planned again.
            if item.skip_reason is None and item.deliver_at <= self.now + LATE_WINDOW:
                self._enqueue(item)

    def _enqueue(self, item: ledger.PlannedDelivery) -> None:
        if not self.settings.send_queue_url:
            return
        wait = (item.deliver_at - self.now).total_seconds()
        client("sqs").send_message(
            QueueUrl=self.settings.send_queue_url,
            MessageBody=json.dumps({"delivery_id": item.delivery_id}),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(wait))),
        )
        self.report.enqueued_late += 1


def candidates(
    campaign: Campaign, day: date, partition: str, read: Reader
) -> Iterator[tuple[dict[str, Any], Occurrence]]:
    """Customers with an occurrence of ``campaign``'s occasion on local ``day``."""
    return occasion_for(campaign.occasion).candidates(campaign.occasion, day, partition, read)


def plan_dated(
    now: datetime,
    key: Keys,
    settings: PlanSettings,
    *,
    send_tasks: Callable[[list[dict[str, Any]]], None] | None = None,
    campaigns: Sequence[tuple[Campaign, str | None] | tuple[Campaign, str | None, str | None]]
    | None = None,
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
        campaigns = [entry for kind in types("date") for entry in active_campaigns(kind)]
    failed: list[str] = []
    for entry in campaigns:
        campaign, cursor = entry[0], entry[1]
        activated = parse_utc(entry[2]) if len(entry) > 2 and entry[2] else None
        dates = dates_to_plan(cursor, now, settings.ahead_days, activated)
        report.dates[campaign.campaign_id] = [d.isoformat() for d in dates]
        # Without a cursor or a known activation (campaigns saved before activations were
        # recorded), occurrences already past are ignored rather than reported as missed.
        first = cursor is None and activated is None
        for local_date in dates:
            try:
                _plan_date(
                    campaign,
                    local_date,
                    now,
                    key,
                    settings,
                    writer,
                    read,
                    report,
                    send_tasks=send_tasks,
                    first=first,
                    ignore_before=activated,
                )
            except Exception:
                # Keep what is planned (the cursor stands at the last complete date), go on
                # with the other campaigns, and fail the run at the end so it is retried.
                logger.exception(
                    "planning failed", campaign_id=campaign.campaign_id, date=str(local_date)
                )
                failed.append(campaign.campaign_id)
                break
            # The cursor moves date by date: a retry resumes after the last complete date.
            if not advance_cursor(campaign.campaign_id, local_date, cursor):
                logger.warning(
                    "planning cursor moved concurrently", campaign_id=campaign.campaign_id
                )
                break
            cursor = local_date.isoformat()
    report.check_capacity(settings)
    if failed:
        raise PlanningIncompleteError(failed)
    return report


class PlanningIncompleteError(RuntimeError):
    """Some campaigns could not be planned completely; the run must be retried."""

    def __init__(self, campaign_ids: list[str]) -> None:
        super().__init__(f"planning incomplete for {', '.join(campaign_ids)}")
        self.campaign_ids = campaign_ids


def _plan_date(
    campaign: Campaign,
    local_date: date,
    now: datetime,
    key: Keys,
    settings: PlanSettings,
    writer: _Writer,
    read: Reader,
    report: PlanReport,
    *,
    send_tasks: Callable[[list[dict[str, Any]]], None] | None,
    first: bool,
    ignore_before: datetime | None,
) -> None:
    """Plan one campaign's occurrences on one local date (inline, or as fan-out tasks)."""
    occasion = occasion_for(campaign.occasion)
    partitions = occasion.partitions(campaign.occasion, local_date, settings.country_shards)
    if not occasion.fans_out():
        for partition in partitions:
            for customer, found in candidates(campaign, local_date, partition, read):
                writer.plan(
                    campaign, customer, found, first_planning=first, ignore_before=ignore_before
                )
        return
    tasks = [
        {
            "campaign_id": campaign.campaign_id,
            "date": local_date.isoformat(),
            "partition": partition,
            "first_planning": first,
            **({"ignore_before": utc_iso(ignore_before)} if ignore_before else {}),
        }
        for partition in partitions
    ]
    report.tasks += len(tasks)
    if send_tasks is not None:
        if tasks:
            send_tasks(tasks)
        return
    for task in tasks:
        report.merge(plan_task(task, now, key, settings, campaign))


def plan_task(
    task: dict[str, Any],
    now: datetime,
    key: Keys,
    settings: PlanSettings,
    campaign: Campaign | None = None,
) -> PlanReport:
    """Plan one (campaign, date, partition) fan-out task; safe to run twice."""
    report = PlanReport()
    writer = _Writer(now, key, settings, report)
    campaign = campaign or load_campaign(str(task["campaign_id"]))
    if campaign is None or campaign.status != "active":
        return report

    def read(index: str, value: str) -> list[dict[str, Any]]:
        customers = read_index(index, value)
        report.customers_read += len(customers)
        return customers

    day = date.fromisoformat(str(task["date"]))
    for customer, found in candidates(campaign, day, str(task["partition"]), read):
        writer.plan(
            campaign,
            customer,
            found,
            first_planning=bool(task.get("first_planning")),
            ignore_before=parse_utc(task["ignore_before"]) if task.get("ignore_before") else None,
        )
    report.check_capacity(settings)  # this task's share of the day only
    return report


def parse_task(body: str) -> dict[str, Any]:
    """Validate a plan-queue message body (raises ValueError naming the problem)."""
    task = json.loads(body)
    if not isinstance(task, dict):
        raise ValueError("plan task must be an object")
    for name in ("campaign_id", "date", "partition"):
        if not isinstance(task.get(name), str):
            raise ValueError(f"plan task lacks {name} (a string)")
    date.fromisoformat(task["date"])
    return task


def plan_order_change(
    old: Order | None,
    new: Order | None,
    now: datetime,
    key: Keys,
    settings: PlanSettings,
    *,
    campaigns: list[Campaign] | None = None,
) -> PlanReport:
    """Orders stream: an order that became ``delivered`` starts order-triggered occasions."""
    report = PlanReport()
    writer = _Writer(now, key, settings, report)
    if new is None or not became_delivered(old, new):
        return report
    # A delivery time in the future (or before 1900) is a bug at the source: fail the
    # record (the stream retries, then its DLQ keeps it) rather than plan for that time.
    if new.delivered_at is not None:
        parse_instant(new.delivered_at, now)
    if campaigns is None:
        campaigns = [entry[0] for kind in types("order") for entry in active_campaigns(kind)]
    if not campaigns:
        return report
    customer = get_customer(new.customer_id)
    report.customers_read += 1
    if customer is None:
        logger.warning("order for unknown customer", order_id=new.order_id)
        return report
    for campaign in campaigns:
        tz = customer_timezone(customer, campaign)
        found = occasion_for(campaign.occasion).from_order(campaign.occasion, new, tz)
        if found is not None:
            writer.plan(campaign, customer, found, first_planning=False)
    return report


def plan_settings(settings: Settings) -> PlanSettings:
    return PlanSettings(
        shards=settings.dispatch_shards,
        ttl_days=settings.ledger_ttl_days,
        ahead_days=settings.plan_ahead_days,
        max_send_delay=timedelta(minutes=settings.max_send_delay_minutes),
        country_shards=settings.country_shards,
        send_rate=settings.max_send_rate,
        dispatch_interval_seconds=settings.dispatch_interval_seconds,
        send_queue_url=settings.send_queue_url,
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
