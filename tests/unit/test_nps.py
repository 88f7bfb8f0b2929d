"""NPS groups and score, CSAT mean, detractor answers (lifecycle.rules.nps)."""

from __future__ import annotations

import pytest

from lifecycle.rules.nps import NpsCounts, csat, is_detractor, nps, nps_counts, nps_group


@pytest.mark.parametrize(
    ("score", "group"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter")],
)
def test_given_boundary_scores_when_grouped_then_6_7_and_8_9_split_groups(score, group):
    assert nps_group(score) == group


@pytest.mark.parametrize(
    ("scores", "counts", "expected"),
    [
        ([10, 9, 9, 8, 7, 6, 0, 3], NpsCounts(3, 2, 3), 0.0),
        ([10, 10, 9, 9, 9, 8, 7, 7, 6, 2], NpsCounts(5, 3, 2), 30.0),
        ([9, 9, 0], NpsCounts(2, 0, 1), 33.3),  # 33.33... rounded to one decimal
        ([0, 6, 7], NpsCounts(0, 1, 2), -66.7),
        ([8, 7, 8], NpsCounts(0, 3, 0), 0.0),  # passives only
        ([9, 10], NpsCounts(2, 0, 0), 100.0),
        ([6, 0], NpsCounts(0, 0, 2), -100.0),
    ],
)
def test_given_mixed_answers_when_scored_then_promoters_minus_detractors(scores, counts, expected):
    assert nps_counts(scores) == counts
    assert nps_counts(scores).total == len(scores)
    assert nps(scores) == expected


def test_given_no_answers_when_scored_then_none():
    assert nps([]) is None
    assert nps_counts([]) == NpsCounts(0, 0, 0)
    assert csat([]) is None


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([1, 2, 3, 4, 5], 3.0),
        ([5, 4, 4], 4.33),  # mean 4.333... rounded to two decimals
        ([3, 4], 3.5),
        ([1], 1.0),
    ],
)
def test_given_csat_answers_when_scored_then_mean(scores, expected):
    assert csat(scores) == expected


@pytest.mark.parametrize(
    ("kind", "score", "detractor"),
    [
        ("nps", 0, True),
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 10, False),
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("csat", 4, False),
        ("csat", 5, False),
    ],
)
def test_given_answer_when_checked_then_detractor_only_below_threshold(kind, score, detractor):
    assert is_detractor(kind, score) is detractor
