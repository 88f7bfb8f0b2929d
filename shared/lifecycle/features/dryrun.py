"""Dry run, preview and estimate: what a campaign would do, without doing it.

* :func:`dry_run` plans date-triggered campaigns over a period exactly like the planner would
  (same candidate queries, audience, consent and occasion checks, same composition at the
  planned send time) and writes nothing: who would get what and when (local and UTC), and
  for every customer an occasion matched but who would not get it, the reason code.
  Order-triggered occasions depend on future orders and are not predicted; occasion writes
  made at send time (``reserve``) are not made. The messaging policy is applied as the
  sender applies it: quiet hours (held or ``quiet_hours``), ``frequency_cap`` counted from
  the customers' budgets as stored, ``outranked`` among the campaigns of the run.
* :func:`preview` renders a campaign for one customer with sample occasion data.
* :func:`estimate` counts who the audience and consent rules let through today (a Scan).

Test sends, which really send, live in :mod:`lifecycle.features.test_send`.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lifecycle.campaigns.model import Campaign
from lifecycle.campaigns.repository import stored_policy
from lifecycle.core.clock import utc_iso
from lifecycle.core.settings import Settings
from lifecycle.core.tokens import Keys
from lifecycle.messages.channels.base import Message
from lifecycle.occasions.base import Check, Occurrence
from lifecycle.occasions.registry import occasion_for
from lifecycle.pipeline.compose import compose, render_sample
from lifecycle.pipeline.planner import candidates, plan_occurrence, read_index
from lifecycle.pipeline.policy import day_bounds
from lifecycle.pipeline.sender import QUIET_HOURS, SendDependencies, occasion_check
from lifecycle.rules import audience
from lifecycle.rules.consent import consent_block
from lifecycle.rules.holdout import in_holdout
from lifecycle.rules.policy import Contender, Policy, cap_verdict, quiet_verdict
from lifecycle.rules.segments import audience_view
from lifecycle.store import ledger
from lifecycle.store.customers import scan_customers
from lifecycle.store.policy import get_budget


@dataclass(frozen=True)
class PlannedMessage:
    customer_id: str
    campaign_id: str
    occasion: str
    channel: str
    to: str | None
    subject: str | None
    text: str
    sent_at: str
    local_time: str


@dataclass(frozen=True)
class Exclusion:
    customer_id: str
    campaign_id: str
    reason: str
    sent_at: str | None = None  # when it would have been sent (UTC), as in PlannedMessage


def _candidates(
    campaign: Campaign, day: date, country_shards: int
) -> list[tuple[dict[str, Any], Occurrence]]:
    """The planner's own candidate queries for every partition (no plan queue, no cache)."""
    occasion = occasion_for(campaign.occasion)
    return [
        candidate
        for partition in occasion.partitions(campaign.occasion, day, country_shards)
        for candidate in candidates(campaign, day, partition, read_index)
    ]


def _message(item: ledger.Delivery, message: Message, at: datetime | None = None) -> PlannedMessage:
    local = item.local_send_time if at is None else at.astimezone(ZoneInfo(item.timezone))
    return PlannedMessage(
        item.customer_id,
        item.campaign_id,
        item.occasion,
        item.channel,
        message.to or None,
        message.rendered.subject,
        message.rendered.text,
        item.deliver_at if at is None else utc_iso(at),
        local if isinstance(local, str) else local.isoformat(),
    )


@dataclass
class _Due:
    """A message the planner would queue, waiting for its send time in the dry run."""

    campaign: Campaign
    customer: dict[str, Any]
    planned: ledger.PlannedDelivery
    item: ledger.Delivery
    checked: Check
    state: str = "queued"  # queued -> sent | skipped

    @property
    def contender(self) -> Contender:
        return Contender(
            ledger.occurrence_id(self.item.delivery_id),
            self.campaign.campaign_id,
            self.item.occasion,
        )


def dry_run(
    campaigns: list[Campaign],
    start: datetime,
    end: datetime,
    deps: SendDependencies,
    *,
    country_shards: int = 16,
) -> tuple[list[PlannedMessage], list[Exclusion]]:
    """Messages date-driven ``campaigns`` would send in ``[start, end)``, and exclusions.

    The messaging policy is applied as the sender applies it (:func:`_send_in_order`).
    """
    max_delay = timedelta(minutes=deps.settings.max_send_delay_minutes)
    excluded: list[Exclusion] = []
    due: list[_Due] = []
    for campaign in campaigns:
        if occasion_for(campaign.occasion).trigger != "date":
            continue  # order-triggered: depends on future orders
        day = start.date()
        while day <= end.date():
            for customer, occurrence in _candidates(campaign, day, country_shards):
                for planned in plan_occurrence(
                    campaign,
                    customer,
                    occurrence,
                    start,
                    deps.key,
                    first_planning=True,
                    max_send_delay=max_delay,
                ):
                    if planned.deliver_at >= end:
                        continue
                    if planned.skip_reason:
                        excluded.append(
                            Exclusion(
                                planned.customer_id,
                                campaign.campaign_id,
                                planned.skip_reason,
                                utc_iso(planned.deliver_at),
                            )
                        )
                        continue
                    item = ledger.transient(planned)
                    checked = occasion_check(item, campaign, customer, planned.deliver_at, deps)
                    due.append(_Due(campaign, customer, planned, item, checked))
            day += timedelta(days=1)
    plans = _send_in_order(due, stored_policy(), max_delay, deps, excluded)
    plans.sort(key=lambda p: (p.sent_at, p.campaign_id, p.customer_id, p.channel))
    excluded.sort(key=lambda e: (e.campaign_id, e.customer_id, e.reason))
    return plans, excluded


def _send_in_order(
    due: list[_Due],
    policy: Policy | None,
    max_delay: timedelta,
    deps: SendDependencies,
    excluded: list[Exclusion],
) -> list[PlannedMessage]:
    """Each queued message at its send time, in time order, as the sender decides it: quiet
    hours (held until they end, or skipped), the occasion's check, then the caps, counting
    from what the customer's budget holds today and ranking among the messages still queued
    or sent that local day."""
    plans: list[PlannedMessage] = []
    budgets: dict[str, dict[str, list[str]]] = {}
    queue = [(d.planned.deliver_at, index, d) for index, d in enumerate(due)]
    heapq.heapify(queue)

    def skip(entry: _Due, reason: str) -> None:
        entry.state = "skipped"
        excluded.append(
            Exclusion(
                entry.planned.customer_id,
                entry.campaign.campaign_id,
                reason,
                utc_iso(entry.planned.deliver_at),
            )
        )

    while queue:
        at, index, entry = heapq.heappop(queue)
        planned = entry.planned
        quiet = quiet_verdict(
            at, planned.timezone, planned.channel, policy, planned.deliver_at + max_delay
        )
        if quiet.hold_until is not None:
            heapq.heappush(queue, (quiet.hold_until.astimezone(UTC), index, entry))
            continue
        if quiet.skip:
            skip(entry, QUIET_HOURS)
            continue
        if entry.checked.reason:
            skip(entry, entry.checked.reason)
            continue
        if policy is not None and policy.caps and entry.campaign.is_marketing:
            day = planned.local_send_time.date()
            first, last = day_bounds(day, planned.timezone)
            rivals = [
                other.contender
                for other in due
                if other.planned.customer_id == planned.customer_id
                and other.state != "skipped"
                and other.campaign.is_marketing
                and first <= other.planned.deliver_at < last
            ]
            if planned.customer_id not in budgets:
                budgets[planned.customer_id] = get_budget(planned.customer_id).counted
            counted = budgets[planned.customer_id]
            verdict = cap_verdict(policy, entry.contender, day, counted, rivals)
            if verdict.reason:
                skip(entry, verdict.reason)
                continue
            if verdict.reserve:
                counted.setdefault(day.isoformat(), []).append(entry.contender.occurrence_id)
        entry.state = "sent"
        message = compose(
            entry.item,
            entry.campaign,
            entry.customer,
            at,
            deps.key,
            deps.settings,
            entry.checked.variables,
        )
        plans.append(_message(entry.item, message, None if at == planned.deliver_at else at))
    return plans


def preview(
    campaign: Campaign,
    customer: dict[str, Any],
    channel: str,
    key: Keys,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Render ``campaign`` for ``customer`` with sample occasion data (nothing stored)."""
    return render_sample(campaign, customer, channel, key, settings, now).preview()


def estimate(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Customers the audience and consent rules let through today, per channel (a Scan)."""
    total = matched = 0
    reachable: Counter[str] = Counter()
    held_out: Counter[str] = Counter()
    for customer in scan_customers():
        total += 1
        if not audience.evaluate(campaign.audience, audience_view(customer, now)):
            continue
        matched += 1
        holdout = in_holdout(
            campaign.campaign_id, customer["customer_id"], campaign.holdout_percent
        )
        for channel in campaign.channels:
            blocked = consent_block(
                customer, channel, campaign.topic, marketing=campaign.is_marketing
            )
            if blocked is None:
                (held_out if holdout else reachable)[channel] += 1
    return {
        "customers": total,
        "in_audience": matched,
        "reachable": dict(reachable),
        "holdout": dict(held_out),
    }


def as_dicts(rows: list[PlannedMessage] | list[Exclusion]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
