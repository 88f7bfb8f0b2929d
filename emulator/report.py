"""Build ``report.json`` and write the output files of a run.

Owns what the report says: messages per channel, ledger items per campaign and status (with
skip reasons), SES feedback per campaign (delivered, bounced, complained), survey figures,
the inputs accepted and rejected, the planner's read figures
(:class:`PlannerFigures`, which the simulation fills from the planner's results) and the
invocation counts. Also writes ``messages.jsonl``, ``report.json`` and ``lambda.log``.
Apart from :func:`survey_report` (which asks the survey feature, so needs the moto back-end),
everything here works on plain values.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from emulator.config import SimulationConfig


@dataclass
class PlannerFigures:
    """Customer items the planner read and ledger items it created, over all its runs."""

    reads: int = 0
    created: int = 0
    queued: int = 0
    # Send-rate check of each run (lifecycle.pipeline.dispatcher.over_capacity): deliveries
    # the rate cannot send inside the window, summed, and the busiest dispatch interval.
    over_capacity: int = 0
    busiest_due: int = 0
    busiest_interval: str | None = None
    per_interval: int | None = None

    def count(self, result: dict[str, Any]) -> None:
        """Add one planner run (the handler's result)."""
        self.reads += result["customers_read"]
        self.created += sum(result["created"].values())
        self.queued += result["created"].get("queued", 0)
        capacity = result.get("capacity") or {}
        self.over_capacity += capacity.get("over_capacity", 0)
        self.per_interval = capacity.get("per_dispatch_interval", self.per_interval)
        if capacity.get("busiest_interval_due", 0) > self.busiest_due:
            self.busiest_due = capacity["busiest_interval_due"]
            self.busiest_interval = capacity.get("busiest_interval")

    def report(self) -> dict[str, Any]:
        return {
            "customers_read": self.reads,
            "ledger_items_created": self.created,
            "queued_for_sending": self.queued,
            "items_read_per_ledger_item": round(self.reads / self.created, 3)
            if self.created
            else None,
            "items_read_per_planned_message": round(self.reads / self.queued, 3)
            if self.queued
            else None,
            # Known when planned: what the send rate (MAX_SEND_RATE x dispatch interval)
            # cannot carry inside the send window; the sender would skip these as
            # send_window_missed.
            "send_rate": {
                "per_dispatch_interval": self.per_interval,
                "busiest_interval": self.busiest_interval,
                "busiest_interval_due": self.busiest_due,
                "over_capacity": self.over_capacity,
            },
        }


def by_campaign(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Ledger items per campaign and status; skips and failures keyed ``status:reason``."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        status = item["status"]["S"]
        reason = item.get("reason", {}).get("S")
        key = f"{status}:{reason}" if reason and status != "sent" else status
        counts[item["campaign_id"]["S"]][key] += 1
    return {campaign: dict(sorted(c.items())) for campaign, c in sorted(counts.items())}


# Ledger states of e-mail the provider accepted (SES feedback moves ``sent`` forward).
ACCEPTED = frozenset({"sent", "delivered", "bounced", "complained"})


def feedback_report(ledger: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per campaign with e-mail SES accepted: delivered, bounced and complained, read from the
    ledger states SES's events left (a complaint follows a delivery, so ``complained``
    items count as delivered too). Test sends are left out."""
    counts: dict[str, dict[str, int]] = {}
    for item in ledger:
        if item.get("channel", {}).get("S") != "email" or item.get("test", {}).get("BOOL"):
            continue
        status = item["status"]["S"]
        if status not in ACCEPTED:
            continue
        row = counts.setdefault(
            item["campaign_id"]["S"], {"delivered": 0, "bounced": 0, "complained": 0}
        )
        if status in ("delivered", "complained"):
            row["delivered"] += 1
        if status in ("bounced", "complained"):
            row[status] += 1
    return dict(sorted(counts.items()))


CONVERSION_FIELDS = (
    "recipients",
    "holdout",
    "recipient_conversions",
    "holdout_conversions",
    "lift",
    "lift_ci95",
    "open_windows",
)


def conversions_report(ledger: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Per campaign that sent or held back a message: the conversions feature's figures at
    the end of the period (recipients, holdout, their conversions, the lift and its 95%
    interval, occurrences whose attribution window is still open)."""
    from lifecycle.campaigns.repository import get_stored
    from lifecycle.features.conversions import campaign_conversions
    from lifecycle.store.models import DeliveryModel

    campaigns = sorted(
        {
            item["campaign_id"]["S"]
            for item in ledger
            if not item.get("test", {}).get("BOOL")
            and (item["status"]["S"] in ACCEPTED or item.get("reason", {}).get("S") == "holdout")
        }
    )
    # The ledger was read already: the feature gets each campaign's items instead of reading
    # them again through the send-time index (which holds every campaign's items).
    items: dict[str, list[DeliveryModel]] = defaultdict(list)
    for item in ledger:
        if item["campaign_id"]["S"] in campaigns:
            items[item["campaign_id"]["S"]].append(DeliveryModel.from_raw_data(item))
    report: dict[str, Any] = {}
    for campaign_id in campaigns:
        stored = get_stored(campaign_id)
        days = stored.campaign.attribution_days if stored is not None else 7
        figures = campaign_conversions(campaign_id, days, now, items[campaign_id])
        report[campaign_id] = {name: figures[name] for name in CONVERSION_FIELDS}
    return report


def survey_report(ledger: list[dict[str, Any]]) -> dict[str, Any]:
    """Per survey campaign: customers sent a survey, and the survey feature's figures."""
    from lifecycle.features.surveys import survey_stats

    sent: dict[str, set[str]] = defaultdict(set)
    campaigns = set()
    for item in ledger:
        if item["occasion"]["S"] != "post_purchase_survey":
            continue
        campaign = item["campaign_id"]["S"]
        campaigns.add(campaign)
        if item["status"]["S"] in ACCEPTED:
            sent[campaign].add(item["delivery_id"]["S"].rsplit("#", 1)[0])
    report = {}
    for campaign in sorted(campaigns):
        stats = survey_stats(campaign)
        report[campaign] = {"sent": len(sent[campaign]), **stats}
    return report


def build_report(
    config: SimulationConfig,
    *,
    messages: list[dict[str, Any]],
    campaigns: dict[str, dict[str, int]],
    surveys: dict[str, Any],
    imports: dict[str, Any],
    rejected: list[dict[str, Any]],
    responses_accepted: int,
    outside_period: int,
    planner: PlannerFigures,
    invocations: Counter[str],
    integrity: dict[str, Any] | None = None,
    redelivery: dict[str, Any] | None = None,
    chaos: dict[str, Any] | None = None,
    feedback: dict[str, dict[str, int]] | None = None,
    cost: dict[str, Any] | None = None,
    conversions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of a run.

    ``rejected`` holds the rejections beyond the importer's own (input lines, answers that
    could not be given); ``imports`` is the importer's result per file prefix; ``integrity``
    (:func:`emulator.integrity.integrity`), ``redelivery`` (what AWS's retries had to do)
    and ``chaos`` (the faults injected; only with ``--chaos``) are added as given, as is
    ``feedback`` (:func:`feedback_report`: what SES's events made of the e-mail) and
    ``conversions`` (:func:`conversions_report`) and
    ``cost`` (:meth:`emulator.cost.CostMeter.report`: what the run's handlers consumed, per
    message and per function, and its price).
    """
    report: dict[str, Any] = {
        "period": {
            "start": config.start.isoformat(),
            "days": config.days,
            "end": (config.start + timedelta(days=config.days)).isoformat(),
            "redeliver": config.redeliver,
            "chaos": config.chaos.text() if config.chaos is not None else None,
        },
        "messages": len(messages),
        "by_channel": dict(sorted(Counter(m["channel"] for m in messages).items())),
        "by_campaign": campaigns,
        "surveys": surveys,
        "feedback": feedback if feedback is not None else {},
        "conversions": conversions if conversions is not None else {},
        "inputs": {
            "survey_answers_accepted": responses_accepted,
            "timeline_events_outside_period": outside_period,
        },
        "imported": {
            "customers": imports["customers"]["imported"],
            "campaigns": imports["campaigns"]["imported"],
        },
        "rejected": imports["campaigns"]["rejected"] + imports["customers"]["rejected"] + rejected,
        "warnings": imports["campaigns"]["warnings"] + imports["customers"]["warnings"],
        "planner": planner.report(),
        "invocations": dict(sorted(invocations.items())),
    }
    if integrity is not None:
        report["integrity"] = integrity
    if redelivery is not None:
        report["redelivery"] = redelivery
    if chaos is not None:
        report["chaos"] = chaos
    if cost is not None:
        report["cost"] = cost
    return report


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def write_outputs(
    out: Path, messages: list[dict[str, Any]], report: dict[str, Any], log_text: str
) -> None:
    """``messages.jsonl``, ``report.json`` and ``lambda.log`` in ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "messages.jsonl", messages)
    (out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "lambda.log").write_text(log_text, encoding="utf-8")


# -- the console summary's words ---------------------------------------------------------------
# Ledger states in the order a marketer reads them; any other state follows, then skips and
# failures with their reasons.
_STATE_ORDER = ("sent", "delivered", "bounced", "complained", "queued", "sending")
QUEUED_MEANS = (
    "queued = planned, but its send time had not come when the period ended (it would go out later)"
)


def _reason(code: str) -> str:
    return code.replace("_", " ")


def _counted(counts: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{_reason(key)} {value}" for key, value in counts)


def campaign_line(counts: dict[str, int]) -> str:
    """One campaign's ledger items in words: ``sent 153; skipped 27 (no consent 23, ...)``."""
    plain: dict[str, int] = {}
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for key, value in counts.items():
        state, _, reason = key.partition(":")
        if reason:
            reasons[state][reason] += value
        else:
            plain[state] = plain.get(state, 0) + value
    order = [s for s in _STATE_ORDER if s in plain] + sorted(set(plain) - set(_STATE_ORDER))
    parts = [f"{state} {plain[state]}" for state in order]
    for state in sorted(reasons):
        total = sum(reasons[state].values())
        parts.append(f"{state} {total} ({_counted(reasons[state].most_common())})")
    return "; ".join(parts)


def survey_line(campaign: str, survey: dict[str, Any]) -> str:
    """A survey campaign in words: sent, answered, and the score its answers give."""
    text = f"Survey {campaign}: {survey['sent']} sent, {survey['responses']} answered"
    if survey.get("nps") is not None:
        text += (
            f"; NPS {survey['nps']:+g} ({survey.get('promoters', 0)} promoters, "
            f"{survey.get('passives', 0)} passives, {survey.get('detractors', 0)} detractors)"
        )
    if survey.get("csat") is not None:
        text += f"; CSAT {survey['csat']:g} of 5"
    if not survey["responses"]:
        text += "; no answers yet, so no score"
    return text


def counts_text(counts: dict[str, int]) -> str:
    """``{"no_consent": 3, "holdout": 1}`` as ``no consent 3, holdout 1`` (``none`` if empty)."""
    return _counted(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
