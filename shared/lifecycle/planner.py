"""Planner: turn occasions into ledger items, one per (campaign, customer, occurrence).

Birthday planning works on *local dates*. A run at UTC instant ``now`` plans, for each active
birthday campaign, every local date after the campaign's cursor (``planned_through``) up to
``today + plan_ahead_days`` (UTC calendar). A local date D is sent between D 00:00 at UTC+14
(D-1 10:00 UTC) and D 23:59 at UTC-12 (D+1 11:59 UTC), so planning D+1 at D 00:00 UTC is always
in time. The first run of a new campaign starts at today. Dates skipped because the planner was
down are planned late: occurrences whose send time is more than ``max_send_delay`` in the past
are recorded as ``skipped(missed_send_window)`` so the ledger still answers "why not".

Reads: one index Query per birthday key ("MM-DD") and run, shared by all campaigns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from lifecycle import audience
from lifecycle.campaign_store import active_campaigns, advance_cursor
from lifecycle.campaigns import Campaign, offer_context
from lifecycle.customers import customers_with_birthday
from lifecycle.delivery import ledger
from lifecycle.localtime import local_send_instant, parse_hhmm, to_utc
from lifecycle.observability import logger
from lifecycle.occasions import birthday
from lifecycle.offers import coupon_code, valid_until
from lifecycle.policy.consent import consent_block
from lifecycle.records import is_valid_timezone

NOT_IN_AUDIENCE = "not_in_audience"
MISSED_SEND_WINDOW = "missed_send_window"
MAX_CATCH_UP_DAYS = 31


@dataclass
class PlanReport:
    """What a planner run did (returned by the handler, logged, used by the local runner)."""

    dates: dict[str, list[str]] = field(default_factory=dict)  # campaign -> local dates
    created: Counter[str] = field(default_factory=Counter)  # status/reason -> count
    existing: int = 0
    customers_read: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dates": self.dates,
            "created": dict(self.created),
            "existing": self.existing,
            "customers_read": self.customers_read,
        }


def dates_to_plan(cursor: str | None, now: datetime, ahead_days: int) -> list[date]:
    today = now.date()
    last = today + timedelta(days=ahead_days)
    first = today if cursor is None else date.fromisoformat(cursor) + timedelta(days=1)
    first = max(first, today - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def plan_birthday_delivery(
    campaign: Campaign,
    customer: dict[str, Any],
    local_date: date,
    now: datetime,
    key: bytes,
    *,
    first_planning: bool,
    max_send_delay: timedelta,
) -> ledger.PlannedDelivery | None:
    """Decide what the ledger says for one customer and campaign on ``local_date``.

    Returns None when there is no occurrence (birthday not on that date) or, on a campaign's
    first planning, when the send time has already passed (before the campaign existed).
    """
    assert campaign.occasion.type == "birthday"
    occurrence = birthday.occurrence(customer["birthday"], local_date, campaign.occasion.feb29)
    if occurrence is None:
        return None
    tz = customer.get("timezone") or campaign.default_timezone
    if not is_valid_timezone(tz):
        tz = campaign.default_timezone
    local = local_send_instant(local_date, parse_hhmm(campaign.send_at_local), tz)
    deliver_at = to_utc(local)
    skip: str | None = None
    if deliver_at + max_send_delay < now:
        if first_planning:
            return None
        skip = MISSED_SEND_WINDOW
    channel = campaign.channels[0]
    if skip is None and not audience.evaluate(campaign.audience, customer):
        skip = NOT_IN_AUDIENCE
    if skip is None:
        skip = consent_block(customer, channel)
    item_id = ledger.delivery_id(campaign.campaign_id, customer["customer_id"], occurrence.key)
    code = until = None
    if campaign.offer and skip is None:
        code = coupon_code(campaign.offer.code_prefix, item_id, key)
        until = valid_until(local_date, campaign.offer.valid_days).isoformat()
    return ledger.PlannedDelivery(
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


def offer_for(campaign: Campaign, code: str, until: str) -> dict[str, Any] | None:
    if campaign.offer is None:
        return None
    return offer_context(campaign.offer, code, date.fromisoformat(until))


def plan_birthdays(
    now: datetime,
    key: bytes,
    *,
    shards: int,
    ttl_days: int,
    ahead_days: int,
    max_send_delay: timedelta,
    campaigns: list[tuple[Campaign, str | None]] | None = None,
    fetch: Callable[[str], Iterable[dict[str, Any]]] = customers_with_birthday,
) -> PlanReport:
    """Plan every active birthday campaign up to ``today + ahead_days`` and advance cursors."""
    report = PlanReport()
    cache: dict[str, list[dict[str, Any]]] = {}

    def customers_for(month_day: str) -> list[dict[str, Any]]:
        if month_day not in cache:
            cache[month_day] = list(fetch(month_day))
            report.customers_read += len(cache[month_day])
        return cache[month_day]

    for campaign, cursor in campaigns if campaigns is not None else active_campaigns("birthday"):
        assert campaign.occasion.type == "birthday"
        dates = dates_to_plan(cursor, now, ahead_days)
        report.dates[campaign.campaign_id] = [d.isoformat() for d in dates]
        for local_date in dates:
            for month_day in birthday.month_days_for(local_date, campaign.occasion.feb29):
                for customer in customers_for(month_day):
                    planned = plan_birthday_delivery(
                        campaign,
                        customer,
                        local_date,
                        now,
                        key,
                        first_planning=cursor is None,
                        max_send_delay=max_send_delay,
                    )
                    if planned is None:
                        continue
                    if ledger.create(planned, now, shards, ttl_days):
                        report.created[planned.skip_reason or ledger.QUEUED] += 1
                    else:
                        report.existing += 1
        if dates and not advance_cursor(campaign.campaign_id, dates[-1], cursor):
            logger.warning("planning cursor moved concurrently", campaign_id=campaign.campaign_id)
    return report
