"""The corpus itself: enough cases at every entry point, and the figures to quote.

The table (cases per entry point and per outcome kind) is printed at the end of the run
(``bad-input corpus`` section) and recorded as the ``corpus_figures`` property.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.corpus.corpus import FIGURES, KINDS, cases_by_entry_point, figures

MIN_TOTAL = 150
MIN_PER_ENTRY_POINT = 10


def test_corpus_has_enough_cases_at_every_entry_point(
    request: pytest.FixtureRequest, record_property: Any
) -> None:
    corpus = cases_by_entry_point()
    table = figures(corpus)
    record_property("corpus_figures", table)
    request.config.stash[FIGURES] = table
    print(table)

    assert len(corpus) >= 10, sorted(corpus)
    small = {name: len(cases) for name, cases in corpus.items() if len(cases) < MIN_PER_ENTRY_POINT}
    assert not small, small
    assert sum(len(cases) for cases in corpus.values()) >= MIN_TOTAL


def test_every_case_has_a_unique_id_and_a_known_outcome() -> None:
    for name, cases in cases_by_entry_point().items():
        names = [case.id for case in cases]
        assert len(names) == len(set(names)), name
        for case in cases:
            assert case.expect.kind in KINDS, case.id
            assert case.id.replace("-", "").isalnum() and case.id == case.id.lower(), case.id
