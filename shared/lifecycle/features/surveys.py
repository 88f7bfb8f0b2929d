"""Post-purchase surveys: the page, the answer endpoint, aggregates and detractor events.

* GET ``/s/{token}`` shows a localized form that works without JavaScript (radio buttons and
  a comment box); it changes nothing.
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
from html import escape
from typing import Any
from urllib.parse import parse_qs

from lifecycle.campaigns.model import Campaign
from lifecycle.core import jsonsafe
from lifecycle.core.clock import utc_iso
from lifecycle.core.observability import logger
from lifecycle.core.tokens import Keys, TokenError, verify
from lifecycle.features.unsubscribe import ERASED_STATUS, STATUS_FOR_TOKEN_ERROR, Page
from lifecycle.occasions.survey import OCCASION as SURVEY
from lifecycle.rules.nps import SCALES, csat, is_detractor, nps_counts, nps_group
from lifecycle.rules.records import CUSTOMER_ID_RE, is_erased, lone_surrogate
from lifecycle.store.customers import get_customer, store_nps_group
from lifecycle.store.responses import campaign_scores, get_response, save_response

SURVEY_OCCASION = SURVEY.type

SCORE_RE = re.compile(r"[0-9]{1,2}")
MAX_COMMENT = 2000

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "How did we do?",
        "nps": "How likely are you to recommend us to a friend?",
        "csat": "How satisfied are you with your order?",
        "comment": "Anything to add?",
        "send": "Send",
        "thanks": "Thank you for your answer!",
        "low": "Not at all",
        "high": "Very",
        "bad_score": "Please choose a score.",
        "invalid": "This survey link is not valid.",
        "expired": "This survey has closed.",
    },
    "de": {
        "title": "Wie waren wir?",
        "nps": "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?",
        "csat": "Wie zufrieden sind Sie mit Ihrer Bestellung?",
        "comment": "Möchten Sie noch etwas sagen?",
        "send": "Senden",
        "thanks": "Vielen Dank für Ihre Antwort!",
        "low": "Gar nicht",
        "high": "Sehr",
        "bad_score": "Bitte wählen Sie eine Bewertung.",
        "invalid": "Dieser Umfragelink ist ungültig.",
        "expired": "Diese Umfrage ist beendet.",
    },
    "es": {
        "title": "¿Qué tal lo hicimos?",
        "nps": "¿Qué probabilidad hay de que nos recomiendes?",
        "csat": "¿Qué tan satisfecho estás con tu pedido?",
        "comment": "¿Algo que añadir?",
        "send": "Enviar",
        "thanks": "¡Gracias por tu respuesta!",
        "low": "Nada",
        "high": "Mucho",
        "bad_score": "Elige una puntuación.",
        "invalid": "Este enlace no es válido.",
        "expired": "Esta encuesta ha terminado.",
    },
    "zh": {
        "title": "您对我们的服务满意吗？",
        "nps": "您有多大可能向朋友推荐我们？",
        "csat": "您对本次订单的满意度如何？",
        "comment": "还有其他意见吗？",
        "send": "提交",
        "thanks": "感谢您的反馈！",
        "low": "完全不会",
        "high": "非常愿意",
        "bad_score": "请选择一个分数。",
        "invalid": "此问卷链接无效。",
        "expired": "此问卷已结束。",
    },
    "ja": {
        "title": "ご満足いただけましたか？",
        "nps": "友人に当店を勧める可能性はどのくらいですか？",
        "csat": "ご注文にどの程度満足されましたか？",
        "comment": "ご意見があればお聞かせください。",
        "send": "送信",
        "thanks": "ご回答ありがとうございました！",
        "low": "全くない",
        "high": "非常に高い",
        "bad_score": "点数を選んでください。",
        "invalid": "このアンケートのリンクは無効です。",
        "expired": "このアンケートは終了しました。",
    },
}


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


def _customer_locale(customer: dict[str, Any] | None) -> str | None:
    """The page speaks the customer's language (a deleted customer gets English)."""
    locale = (customer or {}).get("locale")
    return str(locale) if locale else None


def _texts(locale: str | None) -> dict[str, str]:
    language = (locale or "en").split("-")[0].lower()
    return TEXT.get(language, TEXT["en"])


def _page(status: int, title: str, body: str, locale: str | None) -> Page:
    lang = escape(locale or "en")
    return Page(
        status,
        (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title></head>"
            '<body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em">'
            f"<h1>{escape(title)}</h1>\n{body}\n</body></html>"
        ),
    )


def _error(exc: TokenError) -> Page:
    texts = _texts(None)
    message = texts["expired"] if exc.kind == "expired" else texts["invalid"]
    return _page(
        STATUS_FOR_TOKEN_ERROR[exc.kind], texts["title"], f"<p>{escape(message)}</p>", None
    )


def _erased() -> Page:
    """The survey of an erased customer: closed for good (nothing of theirs is shown)."""
    texts = _texts(None)
    return _page(ERASED_STATUS, texts["title"], f"<p>{escape(texts['expired'])}</p>", None)


def _form(
    token: str,
    claim: SurveyClaim,
    texts: dict[str, str],
    previous: int | None,
    comment: str,
    error: str | None = None,
) -> str:
    options = []
    for score in SCALES[claim.kind]:
        checked = " checked" if previous == score else ""
        options.append(
            f'<label style="display:inline-block;margin:0 .3em;text-align:center">'
            f'<input type="radio" name="score" value="{score}"{checked} required>'
            f"<br>{score}</label>"
        )
    problem = f'<p role="alert" style="color:#b00">{escape(error)}</p>' if error else ""
    return (
        f'{problem}<form method="post" action="{escape(token)}">'
        f"<fieldset><legend>{escape(texts[claim.kind])}</legend>"
        f"<div>{''.join(options)}</div>"
        f'<div style="display:flex;justify-content:space-between;font-size:small">'
        f"<span>{escape(texts['low'])}</span><span>{escape(texts['high'])}</span></div>"
        f"</fieldset><p><label>{escape(texts['comment'])}<br>"
        f'<textarea name="comment" rows="4" cols="40" maxlength="{MAX_COMMENT}">'
        f"{escape(comment)}</textarea></label></p>"
        f'<p><button type="submit">{escape(texts["send"])}</button></p></form>'
    )


def survey_page(token: str, key: Keys, now: datetime) -> Page:
    try:
        claim = _claim(key, token, now)
    except TokenError as exc:
        return _error(exc)
    customer = get_customer(claim.customer_id)
    if is_erased(customer):
        return _erased()
    locale = _customer_locale(customer)
    texts = _texts(locale)
    previous = get_response(claim.survey_id)
    return _page(
        200,
        texts["title"],
        _form(
            token,
            claim,
            texts,
            previous.score if previous else None,
            previous.comment or "" if previous else "",
        ),
        locale,
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


def submit_answer(token: str, body: str, key: Keys, now: datetime, events: Any | None) -> Page:
    try:
        claim = _claim(key, token, now)
    except TokenError as exc:
        return _error(exc)
    customer = get_customer(claim.customer_id)
    if is_erased(customer):
        logger.info("survey answer of an erased customer refused", survey_id=claim.survey_id)
        return _erased()
    locale = _customer_locale(customer)
    texts = _texts(locale)
    try:
        score, comment = parse_answer(body, claim.kind)
    except ValueError as exc:
        logger.info(
            "survey answer refused", extra={"survey_id": claim.survey_id, "error": str(exc)}
        )
        return _page(
            400,
            texts["title"],
            _form(token, claim, texts, None, "", f"{texts['bad_score']} ({exc})"),
            locale,
        )
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
    return _page(200, texts["thanks"], f"<p>{escape(texts['thanks'])}</p>", locale)


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
