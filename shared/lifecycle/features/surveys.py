"""Post-purchase surveys: the page, the answer endpoint, aggregates and detractor events.

* GET ``/s/{token}`` shows a form that works without JavaScript (a row of radio buttons and a
  comment box); it changes nothing. Pages speak the customer's language, else the browser's
  (``Accept-Language``), else English, from the catalogs of :mod:`lifecycle.pages`.
* POST ``/s/{token}`` stores one response per survey (the survey id is in the signed token):
  a resubmission updates the answer, never adds a second one. A score outside 0-10 (NPS) or
  1-5 (CSAT) is refused with 400.
* A detractor answer (NPS 0-6, CSAT 1-2) emits ``survey.detractor`` on EventBridge once per
  survey, for service recovery.
* NPS = % promoters (9-10) - % detractors (0-6); CSAT = mean score. Scales, thresholds and
  the maths live in :mod:`lifecycle.rules.nps`.
* The link of an erased customer answers 410 (GET and POST) and stores nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from lifecycle.campaigns.model import Campaign
from lifecycle.core import jsonsafe
from lifecycle.core.clock import utc_iso
from lifecycle.core.observability import logger
from lifecycle.core.tokens import Keys, TokenError, verify
from lifecycle.occasions.survey import OCCASION as SURVEY
from lifecycle.pages import Page, PageLocale, link_error, negotiate, render_page
from lifecycle.rules.nps import SCALES, csat, is_detractor, nps_counts, nps_group
from lifecycle.rules.records import CUSTOMER_ID_RE, is_erased, lone_surrogate
from lifecycle.store.customers import get_customer, store_nps_group
from lifecycle.store.responses import campaign_scores, get_response, save_response

SURVEY_OCCASION = SURVEY.type

SCORE_RE = re.compile(r"[0-9]{1,2}")
MAX_COMMENT = 2000


@dataclass(frozen=True)
class SurveyClaim:
    survey_id: str
    campaign_id: str
    customer_id: str
    kind: str
    order_id: str | None


def _claim(key: Keys, token: str, now: datetime) -> SurveyClaim:
    body = verify(key, "survey", token, now)
    try:
        survey = str(body["s"])
        campaign, customer, order = survey.split("#", 2)
        claim = SurveyClaim(survey, campaign, customer, str(body["q"]), order)
    except (KeyError, ValueError):
        raise TokenError("malformed", "token payload is malformed") from None
    if not CUSTOMER_ID_RE.match(claim.customer_id):
        raise TokenError("malformed", "token names no valid customer")
    if claim.kind not in SCALES:
        raise TokenError("malformed", "unknown survey kind")
    return claim


def _locale(customer: dict[str, Any] | None, accept_language: str | None) -> PageLocale:
    """The customer's language, else the browser's, else English (a deleted customer: browser)."""
    locale = (customer or {}).get("locale")
    return negotiate(str(locale) if locale else None, accept_language)


def _error(exc: TokenError, accept_language: str | None) -> Page:
    return link_error("survey", exc.kind, negotiate(None, accept_language))


def _erased(accept_language: str | None) -> Page:
    """The survey of an erased customer: closed for good (nothing of theirs is shown)."""
    return link_error("survey", "erased", negotiate(None, accept_language))


def _form(
    token: str,
    claim: SurveyClaim,
    locale: PageLocale,
    previous: int | None,
    comment: str,
    *,
    status: int = 200,
    error: str | None = None,
) -> Page:
    return render_page(
        "survey.html",
        locale,
        status=status,
        action=token,
        kind=claim.kind,
        scores=list(SCALES[claim.kind]),
        previous=previous,
        comment=comment,
        error=error,
        max_comment=MAX_COMMENT,
    )


def _typed_comment(body: str) -> str:
    """The comment of a refused answer, shown again so the customer does not lose it."""
    text = body.strip()
    if text.startswith("{"):
        return ""
    fields = parse_qs(text[: 4 * MAX_COMMENT], keep_blank_values=True)
    comment = fields["comment"][0] if fields.get("comment") else ""
    return comment.encode("utf-8", "replace").decode("utf-8")[:MAX_COMMENT]


def survey_page(token: str, key: Keys, now: datetime, accept_language: str | None = None) -> Page:
    """GET: the form in the customer's language (the earlier answer selected); changes nothing."""
    try:
        claim = _claim(key, token, now)
    except TokenError as exc:
        return _error(exc, accept_language)
    customer = get_customer(claim.customer_id)
    if is_erased(customer):
        return _erased(accept_language)
    previous = get_response(claim.survey_id)
    return _form(
        token,
        claim,
        _locale(customer, accept_language),
        previous.score if previous else None,
        previous.comment or "" if previous else "",
    )


def parse_answer(body: str, kind: str) -> tuple[int, str | None]:
    """Score and comment from a form (or JSON) body; ValueError names the problem."""
    text = body.strip()
    if text.startswith("{"):
        data = jsonsafe.loads(text)  # JSONDecodeError (a ValueError) names depth, NaN, ...
        if not isinstance(data, dict):
            raise ValueError("body must be an object")
        raw_score, comment = data.get("score"), data.get("comment")
    else:
        fields = parse_qs(text, keep_blank_values=True)
        raw_score = fields["score"][0] if fields.get("score") else None
        comment = fields["comment"][0] if fields.get("comment") else None
    # ASCII digits only: int() would also take "1_0" and other scripts' digits.
    text_score = str(raw_score).strip()
    if isinstance(raw_score, bool) or not SCORE_RE.fullmatch(text_score):
        raise ValueError("score must be a whole number")
    score = int(text_score)
    if isinstance(raw_score, bool) or score not in SCALES[kind]:
        scale = SCALES[kind]
        raise ValueError(f"score must be between {scale.start} and {scale.stop - 1}")
    if comment is not None and not isinstance(comment, str):
        raise ValueError("comment must be text")
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    if comment is not None and lone_surrogate(comment) is not None:
        # A lone surrogate (JSON "\ud800") cannot be stored: keep the rest of the comment.
        comment = comment.encode("utf-8", "replace").decode("utf-8")
    return score, comment


def submit_answer(
    token: str,
    body: str,
    key: Keys,
    now: datetime,
    events: Any | None,
    accept_language: str | None = None,
) -> Page:
    """POST: store the answer (400 with the form again when the score is not on the scale)."""
    try:
        claim = _claim(key, token, now)
    except TokenError as exc:
        return _error(exc, accept_language)
    customer = get_customer(claim.customer_id)
    if is_erased(customer):
        logger.info("survey answer of an erased customer refused", survey_id=claim.survey_id)
        return _erased(accept_language)
    locale = _locale(customer, accept_language)
    try:
        score, comment = parse_answer(body, claim.kind)
    except ValueError as exc:
        logger.info(
            "survey answer refused", extra={"survey_id": claim.survey_id, "error": str(exc)}
        )
        return _form(token, claim, locale, None, _typed_comment(body), status=400, error="score")
    previous = get_response(claim.survey_id)
    revision = save_response(
        survey_id=claim.survey_id,
        campaign_id=claim.campaign_id,
        customer_id=claim.customer_id,
        order_id=claim.order_id,
        kind=claim.kind,
        score=score,
        comment=comment,
        now=now,
        previous=previous,
    )
    if claim.kind == "nps":
        store_nps_group(claim.customer_id, nps_group(score))
    was_detractor = previous is not None and is_detractor(claim.kind, previous.score)
    if is_detractor(claim.kind, score) and not was_detractor and events is not None:
        events.put_events(
            Entries=[
                {
                    "Source": "lifecycle.messaging",
                    "DetailType": "survey.detractor",
                    "Detail": json.dumps(
                        {
                            "survey_id": claim.survey_id,
                            "campaign_id": claim.campaign_id,
                            "customer_id": claim.customer_id,
                            "order_id": claim.order_id,
                            "kind": claim.kind,
                            "score": score,
                            "answered_at": utc_iso(now),
                        }
                    ),
                }
            ]
        )
    logger.info(
        "survey answered",
        extra={
            "survey_id": claim.survey_id,
            "revision": revision,
        },
    )
    return render_page("survey_thanks.html", locale)


def survey_stats(campaign_id: str) -> dict[str, Any]:
    """Responses, NPS (-100..100) and CSAT mean for one campaign (a Query, no scan)."""
    scores: dict[str, list[int]] = {"nps": [], "csat": []}
    for kind, score in campaign_scores(campaign_id):
        scores.setdefault(kind, []).append(score)
    nps_scores, csat_scores = scores["nps"], scores["csat"]
    result: dict[str, Any] = {
        "responses": len(nps_scores) + len(csat_scores),
        "nps": None,
        "csat": csat(csat_scores),
    }
    if nps_scores:
        counts = nps_counts(nps_scores)
        result["nps"] = counts.nps
        result.update(
            promoters=counts.promoters,
            passives=counts.passives,
            detractors=counts.detractors,
        )
    return result


def survey_section(campaign: Campaign) -> dict[str, Any] | None:
    """Survey figures for a campaign's statistics; None when the campaign sends no survey."""
    if campaign.occasion.type != SURVEY_OCCASION:
        return None
    return survey_stats(campaign.campaign_id)
