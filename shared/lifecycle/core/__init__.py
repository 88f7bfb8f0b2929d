"""Core: clock, settings, AWS clients, secrets, observability, signed tokens, local time.

The bottom layer: imports nothing else of the package.
"""
