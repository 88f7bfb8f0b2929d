"""Survey aggregates on moto: NPS and CSAT of one campaign, by lifecycle.rules.nps."""

from __future__ import annotations

from typing import Any

from lifecycle.features.surveys import survey_stats
from lifecycle.store.models import SurveyResponseModel


def _answer(campaign: str, customer: str, kind: str, score: int) -> None:
    SurveyResponseModel(
        survey_id=f"{campaign}#{customer}#o-1#email",
        campaign_id=campaign,
        customer_id=customer,
        kind=kind,
        score=score,
        answered_at="2027-03-01T10:00:00Z",
        first_answered_at="2027-03-01T10:00:00Z",
    ).save()


def test_given_mixed_answers_when_stats_read_then_nps_and_csat_from_the_shared_rules(aws: Any):
    for n, score in enumerate([10, 9, 9, 8, 7, 6, 0, 3]):
        _answer("nps", f"c-{n}", "nps", score)
    for n, score in enumerate([5, 4, 4]):
        _answer("csat", f"c-{n}", "csat", score)
    _answer("other", "c-9", "nps", 10)  # another campaign: not counted
    assert survey_stats("nps") == {
        "responses": 8,
        "nps": 0.0,
        "csat": None,
        "promoters": 3,
        "passives": 2,
        "detractors": 3,
    }
    assert survey_stats("csat") == {"responses": 3, "nps": None, "csat": 4.33}
    assert survey_stats("none") == {"responses": 0, "nps": None, "csat": None}
