"""Answers from the ledger: campaign statistics and "why did / didn't this customer get X"."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lifecycle.campaigns.repository import get_stored
from lifecycle.core.clock import get_clock
from lifecycle.features.conversions import campaign_conversions
from lifecycle.features.surveys import survey_section
from lifecycle.occasions.registry import occasion_for
from lifecycle.rules import audience
from lifecycle.rules.consent import consent_block
from lifecycle.rules.holdout import HOLDOUT, in_holdout
from lifecycle.rules.segments import audience_view
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer
from lifecycle.store.suppressions import feedback_counts


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def campaign_stats(campaign_id: str) -> dict[str, Any]:
    """Planned, sent, skipped by reason, failed by reason, and what SES reported about the
    sent messages: delivered, bounced (by type), complained and their rates (a Query on
    ``by-campaign``), plus the last automatic pause.

    ``sent`` counts every message SES accepted (``sent``, ``delivered``, ``bounced``,
    ``complained``); ``delivered`` includes the complained ones (a complaint proves delivery).
    Rates: delivery and bounce per sent message, complaint per delivered message.
    """
    statuses: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    bounced: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    tests = 0
    for item in ledger.by_campaign(campaign_id):
        if item.test:
            tests += 1
            continue
        statuses[item.status] += 1
        if item.status in ledger.ACCEPTED_STATUSES:
            channels[item.channel] += 1
        if item.status == ledger.BOUNCED:
            bounced[item.reason or "unknown"] += 1
        elif item.status == ledger.SKIPPED:
            skipped[item.reason or "unknown"] += 1
        elif item.status == ledger.FAILED:
            failed[item.reason or "unknown"] += 1
    sent = sum(statuses.get(status, 0) for status in ledger.ACCEPTED_STATUSES)
    delivered = statuses.get(ledger.DELIVERED, 0) + statuses.get(ledger.COMPLAINED, 0)
    complained = statuses.get(ledger.COMPLAINED, 0)
    pause = feedback_counts(campaign_id)
    result: dict[str, Any] = {
        "campaign_id": campaign_id,
        "planned": sum(statuses.values()),
        "sent": sent,
        "pending": statuses.get(ledger.QUEUED, 0) + statuses.get(ledger.SENDING, 0),
        "skipped": dict(sorted(skipped.items())),
        "failed": dict(sorted(failed.items())),
        "sent_by_channel": dict(sorted(channels.items())),
        "test_sends": tests,
        "delivered": delivered,
        "bounced": sum(bounced.values()),
        "bounced_by_type": dict(sorted(bounced.items())),
        "complained": complained,
        "delivery_rate": _rate(delivered, sent),
        "bounce_rate": _rate(sum(bounced.values()), sent),
        "complaint_rate": _rate(complained, delivered),
        "auto_pause": (
            {"at": pause.auto_paused_at, "reason": pause.auto_pause_reason}
            if pause.auto_paused_at
            else None
        ),
    }
    stored = get_stored(campaign_id)
    survey = survey_section(stored.campaign) if stored is not None else None
    if survey is not None:
        result["survey"] = survey
    if stored is not None:
        result["conversions"] = campaign_conversions(
            campaign_id, stored.campaign.attribution_days, get_clock().now()
        )
    return result


def customer_history(customer_id: str, campaign_id: str | None = None) -> dict[str, Any]:
    """Every ledger entry of a customer with its status history; if a campaign is named and
    nothing was planned for it, the reasons it would be excluded right now."""
    deliveries = []
    for item in ledger.by_customer(customer_id):
        if campaign_id and item.campaign_id != campaign_id:
            continue
        deliveries.append(
            {
                "delivery_id": item.delivery_id,
                "campaign_id": item.campaign_id,
                "occasion": item.occasion,
                "occurrence": item.occurrence,
                "channel": item.channel,
                "status": item.status,
                "reason": item.reason,
                "deliver_at": item.deliver_at,
                "local_send_time": item.local_send_time,
                "sent_at": item.sent_at,
                "test": bool(item.test),
                "history": [
                    {"at": h.at, "status": h.status, "reason": h.reason} for h in item.history or []
                ],
            }
        )
    result: dict[str, Any] = {"customer_id": customer_id, "deliveries": deliveries}
    if campaign_id and not deliveries:
        result["not_planned_because"] = explain_absence(customer_id, campaign_id)
    return result


def explain_absence(customer_id: str, campaign_id: str) -> list[str]:
    """Why a campaign has planned nothing for a customer (evaluated now)."""
    stored = get_stored(campaign_id)
    if stored is None:
        return ["campaign_not_found"]
    customer = get_customer(customer_id)
    if customer is None:
        return ["customer_not_found"]
    campaign = stored.campaign
    reasons = []
    if campaign.status != "active":
        reasons.append(f"campaign_{campaign.status}")
    reasons.extend(occasion_for(campaign.occasion).explain(campaign.occasion, customer))
    if not audience.evaluate(campaign.audience, audience_view(customer, get_clock().now())):
        reasons.append("not_in_audience")
    for channel in campaign.channels:
        blocked = consent_block(customer, channel, campaign.topic, marketing=campaign.is_marketing)
        if blocked:
            reasons.append(f"{blocked}:{channel}")
    if in_holdout(campaign.campaign_id, customer_id, campaign.holdout_percent):
        reasons.append(HOLDOUT)
    return reasons or ["no_occurrence_yet"]
