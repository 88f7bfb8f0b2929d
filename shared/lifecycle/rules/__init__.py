"""Rules: pure domain rules.

Customer records, audience, consent, offers, templates, segments, survey scores. No I/O.
"""
