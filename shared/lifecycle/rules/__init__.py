"""Rules: pure domain rules.

Customer records, audience, consent, offers, templates, segments. No I/O.
"""
