"""The campaign lifecycle's paths: what an import walks through to reach a file's status."""

from __future__ import annotations

import pytest

from lifecycle.campaigns.repository import TRANSITIONS, status_path

STATUSES = sorted(TRANSITIONS)


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        ("draft", "draft", []),
        ("draft", "active", ["active"]),
        ("draft", "paused", ["active", "paused"]),
        ("draft", "archived", ["archived"]),
        ("active", "paused", ["paused"]),
        ("active", "archived", ["archived"]),
        ("paused", "active", ["active"]),
        ("paused", "archived", ["archived"]),
        ("active", "draft", None),
        ("paused", "draft", None),
        ("archived", "active", None),
        ("archived", "draft", None),
        ("archived", "paused", None),
        ("archived", "archived", []),
        ("draft", "deleted", None),
        ("unknown", "active", None),
    ],
)
def test_given_two_statuses_when_path_asked_then_shortest_allowed_steps(current, target, path):
    assert status_path(current, target) == path


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_given_any_path_when_walked_then_every_step_is_an_allowed_transition(current, target):
    status = current
    for step in status_path(current, target) or []:
        assert step in TRANSITIONS[status]
        status = step
    if status_path(current, target) is not None:
        assert status == target
