"""The runner's one error for bad input: a missing or unusable input file or option."""

from __future__ import annotations


class InputError(ValueError):
    """An input file is missing or unusable: the runner stops with this message."""
