"""The sender's policy step: quiet hours before the claim, the caps after every other check.

* :func:`quiet_hours` runs on the ``queued`` item before it is claimed: a message that would
  leave inside its channel's quiet hours (a late retry, a DST jump, a policy changed after
  planning) is held until they end when its send window (``deliver_at`` + the maximum send
  delay) allows it (:class:`HoldError`: the queue delivers it again then, the item stays
  ``queued``), else skipped ``quiet_hours``.
* :func:`caps` runs last, just before the provider call, for marketing messages under a
  policy with a daily limit or a frequency cap: it lists the marketing messages planned for
  the customer's local day (the ledger's ``by-customer`` index), decides with
  :func:`lifecycle.rules.policy.cap_verdict` and counts the message in the customer's budget
  with a write conditional on the budget's version (a lost race reads again and decides
  again). :func:`uncount` gives the slot back when the provider refused the message.

The local day is that of the planned send (``deliver_at`` in the item's timezone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from lifecycle.campaigns.model import Campaign
from lifecycle.campaigns.repository import load_campaign
from lifecycle.core.clock import parse_utc
from lifecycle.core.localtime import local_send_instant
from lifecycle.rules.policy import Contender, cap_verdict, quiet_verdict
from lifecycle.store import ledger
from lifecycle.store import policy as store
from lifecycle.store.ledger import Delivery

BUDGET_ATTEMPTS = 5
# Ledger states of a message that may still go out, or went out (it holds its rank).
LIVE_STATUSES = frozenset({ledger.QUEUED, ledger.SENDING, *ledger.ACCEPTED_STATUSES})
MAX_HOLD_SECONDS = 43_200  # SQS visibility timeout limit (12 hours)


class HoldError(RuntimeError):
    """Inside quiet hours that end within the send window: deliver again after ``seconds``."""

    def __init__(self, delivery_id: str, seconds: int) -> None:
        super().__init__(f"{delivery_id} held {seconds} s for quiet hours")
        self.seconds = seconds


class BudgetContentionError(RuntimeError):
    """The customer's budget kept changing under us: retry the message later."""


def quiet_hours(item: Delivery, now: datetime, max_send_delay: timedelta) -> bool:
    """True when the message must be skipped ``quiet_hours``; :class:`HoldError` to hold it."""
    closes = parse_utc(item.deliver_at) + max_send_delay
    verdict = quiet_verdict(now, item.timezone, item.channel, store.current_policy(now), closes)
    if verdict.hold_until is not None:
        seconds = math.ceil((verdict.hold_until - now).total_seconds())
        raise HoldError(item.delivery_id, max(1, min(seconds, MAX_HOLD_SECONDS)))
    return verdict.skip


def local_day(item: Delivery) -> date:
    return parse_utc(item.deliver_at).astimezone(ZoneInfo(item.timezone)).date()


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants where the local ``day`` starts and the next one starts."""
    midnight = datetime.min.time()
    return (
        local_send_instant(day, midnight, timezone),
        local_send_instant(day + timedelta(days=1), midnight, timezone),
    )


def contender(item: Delivery) -> Contender:
    return Contender(ledger.occurrence_id(item.delivery_id), item.campaign_id, item.occasion)


def planned_contenders(item: Delivery, day: date) -> list[Contender]:
    """Marketing messages of active campaigns planned for the customer's local ``day`` that
    may still go out or went out (skipped and failed ones rank nowhere)."""
    start, end = day_bounds(day, item.timezone)
    campaigns: dict[str, Campaign | None] = {}
    found = []
    for other in store.planned_between(item.customer_id, start, end):
        if other.test or (other.status not in LIVE_STATUSES and not _maybe_sent(other)):
            continue
        if other.campaign_id not in campaigns:
            campaigns[other.campaign_id] = load_campaign(other.campaign_id)
        campaign = campaigns[other.campaign_id]
        if campaign is None or not campaign.is_marketing:
            continue
        if other.status == ledger.QUEUED and campaign.status != "active":
            continue  # it will be skipped campaign_inactive
        found.append(contender(other))
    return found


def _maybe_sent(item: Delivery) -> bool:
    return item.status == ledger.FAILED and item.reason == ledger.OUTCOME_UNKNOWN


@dataclass(frozen=True)
class CapOutcome:
    reason: str | None = None  # outranked | frequency_cap
    winner: str | None = None  # the campaign that took the slot (outranked)


def caps(item: Delivery, campaign: Campaign, now: datetime) -> CapOutcome:
    """Count the marketing message in the customer's budget, or say why it may not go."""
    if not campaign.is_marketing:
        return CapOutcome()
    policy = store.current_policy(now)
    if policy is None or not policy.caps:
        return CapOutcome()
    day = local_day(item)
    me = contender(item)
    planned = planned_contenders(item, day)
    for _ in range(BUDGET_ATTEMPTS):
        budget = store.get_budget(item.customer_id)
        verdict = cap_verdict(policy, me, day, budget.counted, planned)
        if verdict.reason is not None:
            return CapOutcome(verdict.reason, verdict.winner)
        if not verdict.reserve or store.count_in(budget, day, me.occurrence_id, now):
            return CapOutcome()
    raise BudgetContentionError(item.delivery_id)


def uncount(item: Delivery, campaign: Campaign | None, now: datetime) -> None:
    """Give the slot back: the provider certainly did not accept the message."""
    if campaign is None or not campaign.is_marketing:
        return
    policy = store.current_policy(now)
    if policy is None or not policy.caps:
        return
    store.count_out(item.customer_id, local_day(item), ledger.occurrence_id(item.delivery_id), now)
