"""The bad-input corpus: what a case is, the outcomes it can expect, and the entry points.

Every entry point's module (``test_<entry point>.py``) holds ``ENTRY_POINT`` (its name) and
``CASES``: a list of :class:`Case`, each ``(id, input, expect)``. The input's shape belongs to
the entry point (a line of a file, a request, an event); ``expect`` is one of the outcomes
below and says precisely what the system must answer. A case whose outcome the product does
not give yet stays in the corpus with the outcome it must give: the test fails until the
product is fixed (no xfail).

``test_corpus_size.py`` counts the cases per entry point and per outcome kind.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import ModuleType
from typing import Any, ClassVar

import pytest

# The module of each entry point, in the order the figures are reported.
MODULES = (
    "tests.corpus.test_customers_file",
    "tests.corpus.test_campaigns_file",
    "tests.corpus.test_runner_inputs",
    "tests.corpus.test_marketer_api",
    "tests.corpus.test_survey_handler",
    "tests.corpus.test_unsubscribe_handler",
    "tests.corpus.test_usage_handler",
    "tests.corpus.test_orders_stream",
    "tests.corpus.test_queue_workers",
)


# ---------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Rejected:
    """One line (record) of a file is rejected, the others are kept.

    ``line`` is the line the record starts on; the reason starts with ``reason`` (or with
    one of several prefixes when the field the product names is a matter of choice, e.g.
    ``("record: ", "first_name: ")`` for an over-long line).
    """

    line: int
    reason: str | tuple[str, ...]
    kind: ClassVar[str] = "rejected"


@dataclass(frozen=True)
class FileRefused:
    """The whole file cannot be read: no record imported, an error that starts with ``message``."""

    message: str
    kind: ClassVar[str] = "file-refused"


@dataclass(frozen=True)
class Accepted:
    """Taken as valid; ``values`` are what must be stored or answered after normalization
    (the keys' meaning belongs to the entry point)."""

    values: dict[str, Any] = dataclass_field(default_factory=dict)
    kind: ClassVar[str] = "accepted"


@dataclass(frozen=True)
class Refused:
    """An HTTP answer 4xx: ``status`` (or one of several), and for the marketer API the
    problem code ``error`` (``{"error", "message"}``) or the first invalid ``field``
    (``{"errors": [{field, message}]}``). Nothing is changed."""

    status: int | tuple[int, ...]
    error: str | None = None
    field: str | None = None
    kind: ClassVar[str] = "refused-4xx"


@dataclass(frozen=True)
class Dropped:
    """An event the handler refuses as malformed and drops (no retry): ``error`` prefix."""

    error: str
    kind: ClassVar[str] = "dropped-invalid"


@dataclass(frozen=True)
class BatchFailure:
    """The record is reported in ``batchItemFailures`` (retried, then dead-lettered); the
    other records of the batch succeed."""

    kind: ClassVar[str] = "batch-failure"


@dataclass(frozen=True)
class Ignored:
    """Handled without error and without effect (``status`` when the handler reports one):
    nothing stored, planned or sent for it."""

    status: str | None = None
    kind: ClassVar[str] = "ignored"


Outcome = Rejected | FileRefused | Accepted | Refused | Dropped | BatchFailure | Ignored


@dataclass(frozen=True)
class Case:
    """One corpus entry: ``id`` (used in test ids and in generated record ids, so
    ``[a-z0-9-]``), the entry point's ``input`` and the ``expect``\\ ed outcome."""

    id: str
    input: Any
    expect: Outcome


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def prefix_ok(text: str, prefix: str | tuple[str, ...]) -> bool:
    return text.startswith(prefix)


def entry_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in MODULES]


def cases_by_entry_point() -> dict[str, list[Case]]:
    """Every entry point's cases: a module's ``ENTRY_POINT`` and ``CASES``, or its
    ``ENTRY_POINTS`` (entry point -> the name of the module's list of cases)."""
    found: dict[str, list[Case]] = {}
    for module in entry_modules():
        named = getattr(module, "ENTRY_POINTS", None)
        if named is None:
            found[module.ENTRY_POINT] = list(module.CASES)
        else:
            for entry_point, attribute in named.items():
                found[entry_point] = list(getattr(module, attribute))
    return found


# Where ``test_corpus_size`` leaves the table for the terminal summary (tests/corpus/conftest.py).
FIGURES = pytest.StashKey[str]()

KINDS = (
    "rejected",
    "file-refused",
    "refused-4xx",
    "dropped-invalid",
    "batch-failure",
    "ignored",
    "accepted",
)


def figures(corpus: dict[str, list[Case]]) -> str:
    """The cases per entry point and outcome kind, as a text table."""
    width = max(len(name) for name in corpus) + 2
    header = (
        "entry point".ljust(width) + "".join(f"{k:>{len(k) + 2}}" for k in KINDS) + f"{'total':>8}"
    )
    rows = [header, "-" * len(header)]
    totals = dict.fromkeys(KINDS, 0)
    for name, cases in corpus.items():
        counts = {kind: sum(1 for case in cases if case.expect.kind == kind) for kind in KINDS}
        for kind in KINDS:
            totals[kind] += counts[kind]
        rows.append(
            name.ljust(width)
            + "".join(f"{counts[k]:>{len(k) + 2}}" for k in KINDS)
            + f"{len(cases):>8}"
        )
    rows.append("-" * len(header))
    rows.append(
        "all".ljust(width)
        + "".join(f"{totals[k]:>{len(k) + 2}}" for k in KINDS)
        + f"{sum(totals.values()):>8}"
    )
    return "\n".join(rows)
