"""Lifecycle messaging: the Lambda layer package shared by every function."""

from __future__ import annotations

__version__ = "0.1.0"
