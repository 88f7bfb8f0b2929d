"""The runner's console summary reads as a marketer would want it (emulator/report.py)."""

from __future__ import annotations

from emulator.report import QUEUED_MEANS, campaign_line, counts_text, survey_line


def test_given_ledger_counts_when_summarized_then_states_come_first_and_reasons_grouped():
    counts = {
        "queued": 19,
        "sent": 55,
        "skipped:no_address": 3,
        "skipped:no_consent": 11,
        "failed:outcome_unknown": 1,
    }
    assert campaign_line(counts) == (
        "sent 55; queued 19; failed 1 (outcome unknown 1); skipped 14 (no consent 11, no address 3)"
    )


def test_given_queued_when_explained_then_it_says_it_is_not_lost():
    assert "send time had not come" in QUEUED_MEANS


def test_given_a_survey_without_answers_when_summarized_then_no_none_is_shown():
    line = survey_line("csat-gold", {"sent": 4, "responses": 0, "nps": None, "csat": None})
    assert line == "Survey csat-gold: 4 sent, 0 answered; no answers yet, so no score"
    assert "None" not in line


def test_given_nps_and_csat_answers_when_summarized_then_each_score_is_named():
    nps = {"sent": 63, "responses": 48, "nps": 20.8, "csat": None}
    nps.update(promoters=19, passives=20, detractors=9)
    assert survey_line("nps-2027", nps) == (
        "Survey nps-2027: 63 sent, 48 answered; NPS +20.8 (19 promoters, 20 passives, 9 detractors)"
    )
    csat = {"sent": 5, "responses": 2, "nps": None, "csat": 4.5}
    assert survey_line("csat", csat).endswith("; CSAT 4.5 of 5")


def test_given_reason_counts_when_written_then_words_not_a_dict():
    assert counts_text({"holdout": 1, "no_consent": 3}) == "no consent 3, holdout 1"
    assert counts_text({}) == "none"
