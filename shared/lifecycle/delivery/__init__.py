"""The delivery ledger (outbox): exactly once per (campaign, customer, occurrence)."""
