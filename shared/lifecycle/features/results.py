"""A campaign's results over time, its survey answers in detail, and the RFM grid.

What the console's Results and Segments pages show, read from the stores without scanning
the ledger:

* :func:`campaign_timeline`: per UTC day of the planned send time (``deliver_at``), the
  ledger items by outcome (sent, delivered, bounced, complained, skipped and failed by
  reason, pending), the last seven days' totals and the next planned send (Queries on the
  ledger's ``by-campaign`` index with a range on ``deliver_at``). The counting rules are
  those of :func:`lifecycle.features.insights.campaign_stats`: ``sent`` is every message
  the provider accepted, ``delivered`` includes the complained ones.
* :func:`survey_results`: per answer kind (NPS, CSAT), the score distribution over the whole
  scale, the score per ISO week of the first answer (trend), and the detractors' comments,
  newest first.
* :func:`rfm_grid`: customers by recency x frequency score (5 x 5), the named segments'
  sizes, and how many customers have no score (a Scan of id and ``rfm`` only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lifecycle.core.clock import utc_iso
from lifecycle.rules.nps import SCALES, csat, is_detractor, nps
from lifecycle.rules.segments import SEGMENTS
from lifecycle.store import ledger
from lifecycle.store.customers import stored_rfm
from lifecycle.store.responses import Response, campaign_responses

MAX_TIMELINE_DAYS = 400
MAX_COMMENTS = 200
PENDING = frozenset({ledger.QUEUED, ledger.SENDING})


def _empty_day(day: date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "planned": 0,
        "sent": 0,
        "delivered": 0,
        "bounced": 0,
        "complained": 0,
        "pending": 0,
        "skipped": 0,
        "failed": 0,
        "skipped_by_reason": {},
        "failed_by_reason": {},
    }


def _count(row: dict[str, Any], status: str, reason: str | None) -> None:
    row["planned"] += 1
    if status in ledger.ACCEPTED_STATUSES:
        row["sent"] += 1
        if status in (ledger.DELIVERED, ledger.COMPLAINED):
            row["delivered"] += 1
        if status in (ledger.BOUNCED, ledger.COMPLAINED):
            row[status] += 1
    elif status in PENDING:
        row["pending"] += 1
    elif status in (ledger.SKIPPED, ledger.FAILED):
        row[status] += 1
        by_reason = row[f"{status}_by_reason"]
        by_reason[reason or "unknown"] = by_reason.get(reason or "unknown", 0) + 1


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def campaign_timeline(campaign_id: str, days: int, now: datetime) -> dict[str, Any]:
    """The last ``days`` UTC days up to today, the last 7 days' totals, the next send."""
    if not 1 <= days <= MAX_TIMELINE_DAYS:
        raise ValueError(f"days must be 1-{MAX_TIMELINE_DAYS}")
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    rows = {first + timedelta(days=n): _empty_day(first + timedelta(days=n)) for n in range(days)}
    start, end = utc_iso(_midnight(first)), utc_iso(_midnight(today + timedelta(days=1)))
    for item in ledger.by_campaign_between(campaign_id, start, end):
        if item.test:
            continue
        _count(rows[date.fromisoformat(item.deliver_at[:10])], item.status, item.reason)
    series = [rows[day] for day in sorted(rows)]
    week = series[-7:]
    totals = {
        name: sum(row[name] for row in week)
        for name in ("sent", "delivered", "bounced", "complained", "skipped", "failed")
    }
    return {
        "campaign_id": campaign_id,
        "days": series,
        "last_7_days": totals,
        "next_send": next_send(campaign_id, now),
    }


def next_send(campaign_id: str, now: datetime) -> str | None:
    """The planned send time of the campaign's next message still to send, if any."""
    for item in ledger.by_campaign_between(campaign_id, utc_iso(now), "9999-12-31T23:59:59Z"):
        if item.status == ledger.QUEUED and not item.test:
            return str(item.deliver_at)
    return None


def _week(answered_at: str | None) -> str | None:
    if not answered_at:
        return None
    day = date.fromisoformat(answered_at[:10])
    return (day - timedelta(days=day.weekday())).isoformat()


def _score(kind: str, scores: list[int]) -> float | None:
    return nps(scores) if kind == "nps" else csat(scores)


def _kind_results(kind: str, answers: list[Response]) -> dict[str, Any]:
    scores = [answer.score for answer in answers]
    by_week: dict[str, list[int]] = defaultdict(list)
    for answer in answers:
        week = _week(answer.first_answered_at or answer.answered_at)
        if week is not None:
            by_week[week].append(answer.score)
    counts = Counter(scores)
    detractors = sorted(
        (a for a in answers if is_detractor(kind, a.score) and a.comment),
        key=lambda a: (a.answered_at or "", a.survey_id),
        reverse=True,
    )
    return {
        "responses": len(answers),
        "score": _score(kind, scores),
        "distribution": {str(value): counts.get(value, 0) for value in SCALES[kind]},
        "trend": [
            {"week": week, "responses": len(values), "score": _score(kind, values)}
            for week, values in sorted(by_week.items())
        ],
        "detractor_comments": [
            {
                "answered_at": a.answered_at,
                "score": a.score,
                "comment": a.comment,
                "customer_id": a.customer_id,
            }
            for a in detractors[:MAX_COMMENTS]
        ],
    }


def survey_results(campaign_id: str) -> dict[str, Any]:
    """Per answer kind of the campaign: distribution, weekly trend, detractors' comments."""
    by_kind: dict[str, list[Response]] = defaultdict(list)
    for answer in campaign_responses(campaign_id):
        if answer.kind in SCALES:
            by_kind[answer.kind].append(answer)
    return {
        "campaign_id": campaign_id,
        "kinds": {kind: _kind_results(kind, answers) for kind, answers in sorted(by_kind.items())},
    }


def rfm_grid(stored: Iterable[tuple[str, dict[str, Any] | None]] | None = None) -> dict[str, Any]:
    """Customers per (recency, frequency) score, per named segment, and without a score."""
    grid = [[0] * 5 for _ in range(5)]  # grid[r - 1][f - 1]
    segments = dict.fromkeys(SEGMENTS, 0)
    unscored = 0
    for _customer_id, rfm in stored if stored is not None else stored_rfm():
        r, f = (rfm or {}).get("r"), (rfm or {}).get("f")
        if not (type(r) is int and type(f) is int and 1 <= r <= 5 and 1 <= f <= 5):
            unscored += 1
            continue
        grid[r - 1][f - 1] += 1
        segment = (rfm or {}).get("segment")
        if segment in segments:
            segments[segment] += 1
    return {
        "recency_by_frequency": grid,
        "segments": segments,
        "scored": sum(map(sum, grid)),
        "unscored": unscored,
    }
