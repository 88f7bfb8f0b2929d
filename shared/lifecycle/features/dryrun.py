"""Dry run, preview and estimate: what a campaign would do, without doing it.

* :func:`dry_run` plans date-triggered campaigns over a period exactly like the planner would
  (same candidate queries, audience, consent and occasion checks, same composition at the
  planned send time) and writes nothing: who would get what and when (local and UTC), and
  for every customer an occasion matched but who would not get it, the reason code.
  Order-triggered occasions depend on future orders and are not predicted; occasion writes
  made at send time (``reserve``) are not made.
* :func:`preview` renders a campaign for one customer with sample occasion data.
* :func:`estimate` counts who the audience and consent rules let through today (a Scan).

Test sends, which really send, live in :mod:`lifecycle.features.test_send`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lifecycle.campaigns.model import Campaign
from lifecycle.core.settings import Settings
from lifecycle.core.tokens import Keys
from lifecycle.messages.channels.base import Message
from lifecycle.occasions.base import Occurrence
from lifecycle.occasions.registry import occasion_for
from lifecycle.pipeline.compose import compose, render_sample
from lifecycle.pipeline.planner import candidates, plan_occurrence, read_index
from lifecycle.pipeline.sender import SendDependencies, occasion_check
from lifecycle.rules import audience
from lifecycle.rules.consent import consent_block
from lifecycle.rules.holdout import in_holdout
from lifecycle.rules.segments import audience_view
from lifecycle.store import ledger
from lifecycle.store.customers import scan_customers


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


def _message(item: ledger.Delivery, message: Message) -> PlannedMessage:
    return PlannedMessage(
        item.customer_id,
        item.campaign_id,
        item.occasion,
        item.channel,
        message.to or None,
        message.rendered.subject,
        message.rendered.text,
        item.deliver_at,
        item.local_send_time,
    )


def dry_run(
    campaigns: list[Campaign],
    start: datetime,
    end: datetime,
    deps: SendDependencies,
    *,
    country_shards: int = 16,
) -> tuple[list[PlannedMessage], list[Exclusion]]:
    """Messages date-driven ``campaigns`` would send in ``[start, end)``, and exclusions."""
    max_delay = timedelta(minutes=deps.settings.max_send_delay_minutes)
    plans: list[PlannedMessage] = []
    excluded: list[Exclusion] = []
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
                    reason = planned.skip_reason
                    item = ledger.transient(planned)
                    checked = None
                    if reason is None:
                        checked = occasion_check(item, campaign, customer, planned.deliver_at, deps)
                        reason = checked.reason
                    if reason or checked is None:
                        excluded.append(
                            Exclusion(planned.customer_id, campaign.campaign_id, reason or "")
                        )
                        continue
                    message = compose(
                        item,
                        campaign,
                        customer,
                        planned.deliver_at,
                        deps.key,
                        deps.settings,
                        checked.variables,
                    )
                    plans.append(_message(item, message))
            day += timedelta(days=1)
    plans.sort(key=lambda p: (p.sent_at, p.campaign_id, p.customer_id, p.channel))
    excluded.sort(key=lambda e: (e.campaign_id, e.customer_id, e.reason))
    return plans, excluded


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
