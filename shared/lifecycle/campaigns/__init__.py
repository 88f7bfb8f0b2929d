"""Campaigns: the campaign document model, its validation and its repository."""
