"""Delivery channels (providers)."""
