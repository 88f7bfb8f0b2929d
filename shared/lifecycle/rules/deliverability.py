"""Deliverability rules: what a bounce or a complaint means, and when a campaign must stop.

No I/O. The feedback feature (:mod:`lifecycle.features.feedback`) applies these rules to the
events SES publishes.

* **Addresses** are compared normalized (display name dropped, trimmed, lower case) and
  stored only as the SHA-256 of that form (:func:`address_key`).
* **Bounces**: a ``Permanent`` bounce suppresses the address at once. ``Transient`` and
  ``Undetermined`` bounces (mailbox full, message too large, an unclassified answer) are
  counted per address; :data:`TRANSIENT_BOUNCE_LIMIT` of them within
  :data:`TRANSIENT_BOUNCE_WINDOW_DAYS` days (by the bounces' own timestamps) suppress it.
  SES only reports a soft bounce after it gave up retrying for hours, so three of them in a
  month is a dead or abandoned mailbox.
* **Complaints** suppress the address at once, except a ``not-spam`` feedback report (the
  recipient said the message is *not* spam).
* **Campaign pause**: complaints / delivered above the configured rate, counted once at
  least the configured number of deliveries was reached (counting from the last automatic
  pause).
"""

from __future__ import annotations

import hashlib
from email.utils import parseaddr

BOUNCE = "bounce"
COMPLAINT = "complaint"
CAUSES = (BOUNCE, COMPLAINT)

PERMANENT = "Permanent"
TRANSIENT = "Transient"
UNDETERMINED = "Undetermined"
TRANSIENT_BOUNCE_LIMIT = 3
TRANSIENT_BOUNCE_WINDOW_DAYS = 30
NOT_SPAM = "not-spam"


def normalize_address(address: str) -> str | None:
    """``"Ana <Ana@Example.com> "`` -> ``"ana@example.com"``; None if it is no address."""
    _, addr = parseaddr(address.strip())
    addr = addr.strip().lower()
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() for c in addr):
        return None
    return addr


def address_key(address: str) -> str | None:
    """The key of an address in the suppression list: SHA-256 of the normalized address."""
    normalized = normalize_address(address)
    if normalized is None:
        return None
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def bounce_suppresses_at_once(bounce_type: str) -> bool:
    """A permanent bounce suppresses at once; transient and undetermined ones are counted."""
    return bounce_type == PERMANENT


def transient_bounces_suppress(count_in_window: int) -> bool:
    return count_in_window >= TRANSIENT_BOUNCE_LIMIT


def complaint_counts(feedback_type: str | None) -> bool:
    """Every complaint counts except a ``not-spam`` report."""
    return (feedback_type or "").lower() != NOT_SPAM


def stronger_cause(current: str | None, new: str) -> str:
    """A complaint outranks a bounce as the reason an address is suppressed."""
    return COMPLAINT if COMPLAINT in (current, new) else BOUNCE


def complaint_rate(delivered: int, complained: int) -> float | None:
    return complained / delivered if delivered > 0 else None


def complaint_pause_due(delivered: int, complained: int, max_rate: float, min_volume: int) -> bool:
    """Pause when more than ``max_rate`` of at least ``min_volume`` deliveries complained."""
    rate = complaint_rate(delivered, complained)
    return delivered >= min_volume and rate is not None and rate > max_rate
