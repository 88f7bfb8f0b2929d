"""The registry of occasions: one line per occasion module.

Planner, sender, dry run, previews, validation and insights look occasions up here and never
name a concrete occasion type. To add an occasion, write one module that implements
:class:`lifecycle.occasions.base.Occasion` (read ``birthday.py`` for a short example) and
add its ``OCCASION`` below.
"""

from __future__ import annotations

from lifecycle.occasions import birthday, date, holiday, inactivity, replenishment, survey
from lifecycle.occasions.base import Occasion, OccasionSpec, Trigger

OCCASIONS: dict[str, Occasion] = {
    module.OCCASION.type: module.OCCASION
    for module in (birthday, holiday, inactivity, date, replenishment, survey)
}


class UnknownOccasionError(KeyError):
    """No occasion of that type is registered."""


def occasion_for(spec_or_type: OccasionSpec | str) -> Occasion:
    """The occasion plug-in of a campaign's ``occasion`` (or of a type name)."""
    name = spec_or_type if isinstance(spec_or_type, str) else spec_or_type.type
    try:
        return OCCASIONS[name]
    except KeyError:
        raise UnknownOccasionError(name) from None


def types(trigger: Trigger | None = None) -> tuple[str, ...]:
    """Registered occasion types (optionally only those with ``trigger``), in order."""
    return tuple(name for name, o in OCCASIONS.items() if trigger in (None, o.trigger))


def spec_models() -> tuple[type[OccasionSpec], ...]:
    return tuple(o.spec_model for o in OCCASIONS.values())
