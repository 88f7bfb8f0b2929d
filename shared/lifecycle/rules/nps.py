"""Survey scales and scores, defined once: NPS groups, NPS, CSAT, detractor answers.

* NPS answers are whole numbers 0-10: ``promoter`` 9-10, ``passive`` 7-8, ``detractor`` 0-6.
  NPS = % promoters - % detractors, from -100 to 100, rounded to one decimal.
* CSAT answers are whole numbers 1-5; 1-2 is a detractor answer. CSAT = the mean score,
  rounded to two decimals.

No answers, no score: the aggregates are ``None`` for an empty list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NPS_SCALE = range(0, 11)
CSAT_SCALE = range(1, 6)
PROMOTER_MIN = 9  # NPS 9-10
PASSIVE_MIN = 7  # NPS 7-8; below is a detractor
CSAT_DETRACTOR_MAX = 2  # CSAT 1-2

SCALES: dict[str, range] = {"nps": NPS_SCALE, "csat": CSAT_SCALE}
DETRACTOR: dict[str, range] = {
    "nps": range(NPS_SCALE.start, PASSIVE_MIN),
    "csat": range(CSAT_SCALE.start, CSAT_DETRACTOR_MAX + 1),
}


def nps_group(score: int) -> str:
    """``promoter``, ``passive`` or ``detractor`` for one NPS answer."""
    if score >= PROMOTER_MIN:
        return "promoter"
    if score >= PASSIVE_MIN:
        return "passive"
    return "detractor"


def is_detractor(kind: str, score: int) -> bool:
    """True for an answer that calls for service recovery (NPS 0-6, CSAT 1-2)."""
    return score in DETRACTOR[kind]


@dataclass(frozen=True)
class NpsCounts:
    promoters: int
    passives: int
    detractors: int

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """% promoters - % detractors (one decimal); ``None`` without answers."""
        if not self.total:
            return None
        return round(100 * (self.promoters - self.detractors) / self.total, 1)


def nps_counts(scores: Iterable[int]) -> NpsCounts:
    groups = [nps_group(score) for score in scores]
    return NpsCounts(
        promoters=groups.count("promoter"),
        passives=groups.count("passive"),
        detractors=groups.count("detractor"),
    )


def nps(scores: Iterable[int]) -> float | None:
    """NPS of a list of answers; ``None`` when there is none."""
    return nps_counts(scores).nps


def csat(scores: Iterable[int]) -> float | None:
    """Mean CSAT answer (two decimals); ``None`` when there is none."""
    values = list(scores)
    if not values:
        return None
    return round(sum(values) / len(values), 2)
