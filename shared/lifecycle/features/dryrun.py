"""Dry run, preview, estimate and test send: what a campaign would do, without doing it.

* :func:`dry_run` plans date-driven campaigns (birthday, holiday, inactivity) over a period
  exactly like the planner would (same index queries, same audience, consent and occasion
  rules, same rendering at the planned send time) and writes nothing: who would get what and
  when (local and UTC), and for every customer an occasion matched but who would not get it,
  the reason code. Order-triggered campaigns depend on future orders and are not predicted.
* :func:`preview` renders a campaign for one customer with sample occasion data.
* :func:`estimate` counts who the audience and consent rules let through today (a Scan).
* :func:`test_send` sends one rendered message to a test address, marked ``test`` in the
  ledger (excluded from statistics).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lifecycle.campaigns.model import (
    BirthdayOccasion,
    Campaign,
    HolidayOccasion,
    InactivityOccasion,
    sample_context,
)
from lifecycle.core.clock import utc_iso
from lifecycle.core.tokens import sign_unsubscribe
from lifecycle.messages.channels import sms as sms_channel
from lifecycle.messages.channels.email import OutgoingEmail, send_email
from lifecycle.occasions import Occurrence
from lifecycle.pipeline.planner import (
    holiday_shard_candidates,
    indexed_candidates,
    plan_occurrence,
    read_index,
)
from lifecycle.pipeline.sender import SendDependencies, compose_email, compose_sms, occasion_checks
from lifecycle.rules import audience
from lifecycle.rules.consent import consent_block
from lifecycle.rules.segments import audience_view
from lifecycle.rules.templates import render_email, render_sms
from lifecycle.store import ledger
from lifecycle.store.customers import (
    get_customer,
    to_dict,
)
from lifecycle.store.models import CustomerModel, DeliveryModel, HistoryEntry


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
    """The planner's own candidate queries, read directly (no plan queue, no cache)."""
    spec = campaign.occasion
    if isinstance(spec, HolidayOccasion):
        return [
            candidate
            for country in spec.countries
            for shard in range(country_shards)
            for candidate in holiday_shard_candidates(spec, day, country, shard, read_index)
        ]
    if isinstance(spec, BirthdayOccasion | InactivityOccasion):
        return list(indexed_candidates(spec, day, read_index))
    return []


def _transient_item(planned: ledger.PlannedDelivery) -> DeliveryModel:
    """A ledger item that is never saved, so the sender's composition can be reused."""
    return DeliveryModel(
        delivery_id=planned.delivery_id,
        campaign_id=planned.campaign_id,
        customer_id=planned.customer_id,
        occurrence=planned.occurrence,
        occasion=planned.occasion,
        channel=planned.channel,
        status=ledger.QUEUED,
        deliver_at=utc_iso(planned.deliver_at),
        local_send_time=planned.local_send_time.isoformat(),
        timezone=planned.timezone,
        coupon_code=planned.coupon_code,
        offer_valid_until=planned.offer_valid_until,
        context=planned.context,
        created_at=utc_iso(planned.deliver_at),
        updated_at=utc_iso(planned.deliver_at),
        history=[],
    )


def _message(
    item: DeliveryModel,
    campaign: Campaign,
    customer: dict[str, Any],
    when: datetime,
    deps: SendDependencies,
    extra: dict[str, Any],
) -> PlannedMessage:
    local = item.local_send_time
    if item.channel == "sms":
        sms = compose_sms(item, campaign, customer, when, deps, extra)
        return PlannedMessage(
            item.customer_id,
            item.campaign_id,
            item.occasion,
            "sms",
            customer.get("phone"),
            None,
            sms.text,
            item.deliver_at,
            local,
        )
    mail = compose_email(item, campaign, customer, when, deps, extra)
    return PlannedMessage(
        item.customer_id,
        item.campaign_id,
        item.occasion,
        "email",
        mail.to,
        mail.subject,
        mail.text,
        item.deliver_at,
        local,
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
        if campaign.occasion.type not in ("birthday", "holiday", "inactivity"):
            continue
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
                                planned.customer_id, campaign.campaign_id, planned.skip_reason
                            )
                        )
                        continue
                    item = _transient_item(planned)
                    extra, blocked = occasion_checks(
                        item, campaign, customer, planned.deliver_at, deps
                    )
                    if blocked:
                        excluded.append(
                            Exclusion(planned.customer_id, campaign.campaign_id, blocked)
                        )
                        continue
                    plans.append(
                        _message(item, campaign, customer, planned.deliver_at, deps, extra)
                    )
            day += timedelta(days=1)
    plans.sort(key=lambda p: (p.sent_at, p.campaign_id, p.customer_id, p.channel))
    excluded.sort(key=lambda e: (e.campaign_id, e.customer_id, e.reason))
    return plans, excluded


def preview(
    campaign: Campaign,
    customer: dict[str, Any],
    channel: str,
    key: bytes,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """Render ``campaign`` for ``customer`` with sample occasion data (nothing stored)."""
    context = sample_context(campaign)
    context.update(
        first_name=customer.get("first_name") or "",
        last_name=customer.get("last_name") or "",
        customer={
            "customer_id": customer["customer_id"],
            "locale": customer.get("locale") or "",
            "country": customer.get("country") or "",
            "timezone": customer.get("timezone") or campaign.default_timezone,
        },
        unsubscribe_url=f"{base_url}/u/"
        + sign_unsubscribe(
            key,
            customer_id=customer["customer_id"],
            channel=channel,
            campaign_id=campaign.campaign_id,
            now=now,
            ttl_days=1,
        ),
    )
    if channel == "sms":
        sms = render_sms(campaign.sms_content(), customer.get("locale"), context)
        return {
            "channel": "sms",
            "locale": sms.locale,
            "text": sms.text,
            "encoding": sms.encoding,
            "segments": sms.segments,
        }
    mail = render_email(campaign.email_content(), customer.get("locale"), context)
    return {
        "channel": "email",
        "locale": mail.locale,
        "subject": mail.subject,
        "text": mail.text,
        "html": mail.html,
    }


def estimate(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Customers the audience and consent rules let through today, per channel (a Scan)."""
    total = matched = 0
    reachable: Counter[str] = Counter()
    for model in CustomerModel.scan():
        total += 1
        customer = to_dict(model)
        if not audience.evaluate(campaign.audience, audience_view(customer, now)):
            continue
        matched += 1
        for channel in campaign.channels:
            if consent_block(customer, channel) is None:
                reachable[channel] += 1
    return {"customers": total, "in_audience": matched, "reachable": dict(reachable)}


def test_send(
    campaign: Campaign,
    channel: str,
    to: str,
    customer_id: str | None,
    deps: SendDependencies,
    now: datetime,
) -> dict[str, Any]:
    """Send one rendered message to a test address and record it as a test delivery."""
    customer = get_customer(customer_id) if customer_id else None
    sample = customer or {"customer_id": "test", "first_name": "Test", "locale": None}
    rendered = preview(campaign, sample, channel, deps.key, deps.settings.public_base_url, now)
    delivery = f"{campaign.campaign_id}#test#{utc_iso(now)}#{channel}"
    if channel == "sms":
        message_id = sms_channel.send_sms(deps.sns, to, rendered["text"])
    else:
        message_id = send_email(
            deps.sesv2,
            OutgoingEmail(
                sender=deps.settings.sender_email,
                to=to,
                to_name=None,
                subject=f"[TEST] {rendered['subject']}",
                text=rendered["text"],
                html=rendered["html"],
                local_date=now,
                unsubscribe_url=f"{deps.settings.public_base_url}/u/test",
                delivery_id=delivery,
                campaign_id=campaign.campaign_id,
                customer_id=sample["customer_id"],
                occasion=campaign.occasion.type,
                locale=rendered["locale"],
            ),
            deps.settings.ses_configuration_set,
        )
    DeliveryModel(
        delivery_id=delivery,
        campaign_id=campaign.campaign_id,
        customer_id=str(sample["customer_id"]),
        occurrence=f"test-{utc_iso(now)}",
        occasion=campaign.occasion.type,
        channel=channel,
        status=ledger.SENT,
        deliver_at=utc_iso(now),
        local_send_time=now.isoformat(),
        timezone="UTC",
        created_at=utc_iso(now),
        updated_at=utc_iso(now),
        sent_at=utc_iso(now),
        provider_message_id=message_id,
        test=True,
        history=[HistoryEntry(at=utc_iso(now), status=ledger.SENT, reason="test")],
    ).save()
    return {"delivery_id": delivery, "provider_message_id": message_id, **rendered}


def as_dicts(rows: list[PlannedMessage] | list[Exclusion]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
