"""Holdout assignment and lift statistics (lifecycle.rules.holdout)."""

from __future__ import annotations

import pytest

from lifecycle.rules.holdout import holdout_fraction, in_holdout, lift, wilson_interval


def test_given_same_campaign_and_customer_when_asked_twice_then_same_answer():
    assert holdout_fraction("bday", "c-1") == holdout_fraction("bday", "c-1")
    assert in_holdout("bday", "c-1", 20) == in_holdout("bday", "c-1", 20)


def test_given_zero_percent_when_asked_then_nobody_is_held_out():
    assert not any(in_holdout("bday", f"c-{n}", 0) for n in range(2000))


@pytest.mark.parametrize("percent", [5, 10, 20, 50, 12.5])
def test_given_a_percentage_when_10000_customers_drawn_then_share_matches(percent):
    held = sum(in_holdout("spring", f"c-{n:05d}", percent) for n in range(10_000))
    # 4 standard deviations of a binomial share: flaky never, wrong hashing caught.
    sd = (percent / 100 * (1 - percent / 100) / 10_000) ** 0.5
    assert abs(held / 10_000 - percent / 100) < 4 * sd


def test_given_two_campaigns_when_drawn_then_groups_are_independent():
    ids = [f"c-{n:05d}" for n in range(10_000)]
    first = {c for c in ids if in_holdout("a", c, 50)}
    second = {c for c in ids if in_holdout("b", c, 50)}
    both = len(first & second) / len(ids)
    assert abs(both - 0.25) < 0.02  # not the same half every time


def test_given_separator_when_ids_concatenate_alike_then_draws_differ():
    # "ab"+"c" and "a"+"bc" must not be the same draw.
    assert holdout_fraction("ab", "c") != holdout_fraction("a", "bc")


def test_given_growing_percentage_when_drawn_then_the_holdout_only_grows():
    ids = [f"c-{n}" for n in range(3000)]
    ten = {c for c in ids if in_holdout("x", c, 10)}
    twenty = {c for c in ids if in_holdout("x", c, 20)}
    assert ten <= twenty


@pytest.mark.parametrize(
    ("successes", "total", "expected"),
    [
        (0, 10, (0.0, 0.2775)),
        (10, 10, (0.7225, 1.0)),
        (81, 263, (0.2553, 0.3662)),  # Newcombe (1998), table I example
    ],
)
def test_given_counts_when_wilson_interval_then_published_values(successes, total, expected):
    low, high = wilson_interval(successes, total)
    assert low == pytest.approx(expected[0], abs=5e-4)
    assert high == pytest.approx(expected[1], abs=5e-4)


def test_given_nothing_observed_when_wilson_interval_then_everything_possible():
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998) table II, method 10 (hybrid score).
        ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
        ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
        ((0, 10, 0, 20), (0.0, -0.1611, 0.2775)),
    ],
)
def test_given_published_examples_when_lift_computed_then_newcombe_interval(counts, expected):
    result = lift(*counts)
    assert result is not None
    assert (result.difference, result.low, result.high) == pytest.approx(expected, abs=5e-4)


def test_given_holdout_never_converted_when_lift_then_no_relative_lift():
    result = lift(5, 100, 0, 20)
    assert result is not None
    assert result.relative is None
    assert result.low < 0.05 < result.high


def test_given_relative_lift_when_computed_then_difference_over_holdout_rate():
    result = lift(30, 100, 20, 100)
    assert result is not None
    assert result.relative == pytest.approx(0.5)


@pytest.mark.parametrize("counts", [(1, 0, 1, 10), (1, 10, 0, 0), (0, 0, 0, 0)])
def test_given_an_empty_group_when_lift_then_none(counts):
    assert lift(*counts) is None
