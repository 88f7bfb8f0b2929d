"""Audience rule language: validation and evaluation."""

from __future__ import annotations

import pytest

from lifecycle.rules.audience import AudienceRuleError, evaluate, validate_rule

ANA = {
    "customer_id": "c-1",
    "country": "ES",
    "locale": "es-ES",
    "created_at": "2024-05-01T10:00:00Z",
    "attributes": {"tier": "gold", "orders": 7},
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (None, True),
        ({"attr": "country", "eq": "ES"}, True),
        ({"attr": "country", "in": ["US", "DE"]}, False),
        ({"attr": "attributes.tier", "eq": "gold"}, True),
        ({"attr": "attributes.orders", "gte": 5}, True),
        ({"attr": "attributes.orders", "lte": 5}, False),
        ({"attr": "attributes.orders", "gte": "5"}, False),
        ({"attr": "phone", "exists": False}, True),
        ({"attr": "phone", "exists": True}, False),
        ({"attr": "created_at", "before": "2025-01-01"}, True),
        ({"attr": "created_at", "after": "2025-01-01"}, False),
        ({"attr": "missing", "eq": None}, False),
        (
            {
                "all": [
                    {"attr": "country", "eq": "ES"},
                    {"not": {"attr": "attributes.tier", "eq": "bronze"}},
                ]
            },
            True,
        ),
        ({"any": [{"attr": "country", "eq": "US"}, {"attr": "locale", "eq": "es-ES"}]}, True),
        ({"not": {"attr": "country", "in": ["ES"]}}, False),
    ],
)
def test_given_rule_when_evaluated_then_expected(rule, expected):
    if rule is not None:
        validate_rule(rule)
    assert evaluate(rule, ANA) is expected


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ([], "audience"),
        ({"all": []}, "audience.all"),
        ({"all": {"attr": "x", "eq": 1}}, "audience.all"),
        ({"attr": "country"}, "audience"),
        ({"attr": "country", "like": "E%"}, "audience"),
        ({"attr": "country", "eq": "ES", "in": ["ES"]}, "audience"),
        ({"attr": "country", "in": "ES"}, "audience.in"),
        ({"attr": "phone", "exists": "yes"}, "audience.exists"),
        ({"attr": "created_at", "before": "soon"}, "audience.before"),
        ({"all": [{"attr": "x", "eq": 1}], "any": []}, "audience"),
        ({"not": {"attr": 3, "eq": 1}}, "audience.not"),
        ({"all": [{"attr": "x", "eq": 1}, {"bogus": 1}]}, "audience.all[1]"),
    ],
)
def test_given_malformed_rule_when_validated_then_path_points_at_problem(rule, path):
    with pytest.raises(AudienceRuleError) as caught:
        validate_rule(rule)
    assert caught.value.path == path
