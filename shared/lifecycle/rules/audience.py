"""Audience rules: ``all`` / ``any`` / ``not`` over attribute comparisons.

A rule is JSON::

    {"all": [{"attr": "country", "in": ["ES", "US"]},
             {"not": {"attr": "attributes.tier", "eq": "bronze"}}]}

Leaf operators: ``eq``, ``in``, ``gte``, ``lte``, ``exists`` (bool), ``before``, ``after``
(ISO dates or instants, compared as dates when the value is a date). ``attr`` is a customer
field or ``attributes.<key>``. A missing attribute never satisfies a comparison (only
``exists: false``). The same evaluator runs at plan time, in dry runs and in estimates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

LEAF_OPERATORS = ("eq", "in", "gte", "lte", "exists", "before", "after")
MAX_DEPTH = 8

Rule = Mapping[str, Any]


class AudienceRuleError(ValueError):
    """A rule is malformed; ``path`` says where (``audience.all[1].in``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def validate_rule(rule: object, path: str = "audience", depth: int = 0) -> None:
    """Raise :class:`AudienceRuleError` for the first problem in ``rule``."""
    if depth > MAX_DEPTH:
        raise AudienceRuleError(path, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(rule, Mapping):
        raise AudienceRuleError(path, "must be an object")
    combinators = [key for key in ("all", "any", "not") if key in rule]
    if combinators:
        if len(rule) != 1:
            raise AudienceRuleError(path, "a combinator must be the only key of its object")
        key = combinators[0]
        if key == "not":
            validate_rule(rule["not"], f"{path}.not", depth + 1)
            return
        children = rule[key]
        if not isinstance(children, list) or not children:
            raise AudienceRuleError(f"{path}.{key}", "must be a non-empty list of rules")
        for index, child in enumerate(children):
            validate_rule(child, f"{path}.{key}[{index}]", depth + 1)
        return
    attr = rule.get("attr")
    if not isinstance(attr, str) or not attr:
        raise AudienceRuleError(path, "needs 'attr' (or one of all/any/not)")
    operators = [key for key in rule if key != "attr"]
    if len(operators) != 1 or operators[0] not in LEAF_OPERATORS:
        raise AudienceRuleError(path, f"needs exactly one operator of {', '.join(LEAF_OPERATORS)}")
    operator = operators[0]
    value = rule[operator]
    if operator == "in" and (not isinstance(value, list) or not value):
        raise AudienceRuleError(f"{path}.in", "must be a non-empty list")
    if operator == "exists" and not isinstance(value, bool):
        raise AudienceRuleError(f"{path}.exists", "must be true or false")
    if operator in ("gte", "lte") and not isinstance(value, int | float | str):
        raise AudienceRuleError(f"{path}.{operator}", "must be a number or a string")
    if operator in ("before", "after"):
        try:
            _as_date(value)
        except (TypeError, ValueError):
            raise AudienceRuleError(f"{path}.{operator}", "must be an ISO date") from None


def lookup(customer: Mapping[str, Any], attr: str) -> Any:
    """Value of ``attr`` (``country``, ``attributes.tier``, ``consent.email``) or None."""
    value: Any = customer
    for part in attr.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError("not a date")
    text = value.replace("Z", "+00:00")
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)


def _compare(left: Any, right: Any, operator: str) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left >= right if operator == "gte" else left <= right
    if isinstance(left, str) and isinstance(right, str):
        return left >= right if operator == "gte" else left <= right
    return False


def evaluate(rule: Rule | None, customer: Mapping[str, Any]) -> bool:
    """True when ``customer`` (a plain dict) belongs to the audience ``rule``."""
    if rule is None:
        return True
    if "all" in rule:
        return all(evaluate(child, customer) for child in rule["all"])
    if "any" in rule:
        return any(evaluate(child, customer) for child in rule["any"])
    if "not" in rule:
        return not evaluate(rule["not"], customer)
    value = lookup(customer, rule["attr"])
    if "exists" in rule:
        return (value is not None) == rule["exists"]
    if value is None:
        return False
    if "eq" in rule:
        return bool(value == rule["eq"])
    if "in" in rule:
        return value in rule["in"]
    if "gte" in rule:
        return _compare(value, rule["gte"], "gte")
    if "lte" in rule:
        return _compare(value, rule["lte"], "lte")
    try:
        left = _as_date(value)
    except (TypeError, ValueError):
        return False
    if "before" in rule:
        return left < _as_date(rule["before"])
    return left > _as_date(rule["after"])
