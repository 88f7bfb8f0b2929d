"""Occasions: who has an occurrence on a given local date, and what it means at send time.

Each occasion is one module implementing :class:`lifecycle.occasions.base.Occasion`,
registered once in :mod:`lifecycle.occasions.registry`.
"""
