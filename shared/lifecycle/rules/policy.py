"""The account's messaging policy: the document and every decision it makes (pure, no I/O).

The document (``GET/PUT /policy``, the runner's ``--policy``)::

    {"quiet_hours": {"email": {"from": "21:00", "to": "08:00"},
                     "sms": {"from": "20:00", "to": "09:00"}},
     "daily_limit": 1,
     "frequency_cap": {"max_messages": 3, "per_days": 7},
     "priority": ["post_purchase_survey", "birthday", "date", "holiday", "replenishment",
                  "inactivity"]}

Rules (reason codes ``quiet_hours``, ``outranked``, ``frequency_cap``):

* **Quiet hours** apply to every message (marketing and service), in the customer's local
  time, per channel: ``from`` is quiet, ``to`` is not (21:00-08:00: 07:59 is quiet, 08:00 is
  not); ``from`` after ``to`` crosses midnight. Without a policy, or when the policy names no
  SMS window, SMS keeps to 08:00-21:00 local (:data:`DEFAULT_SMS_QUIET`); e-mail has none.
* **Caps** count marketing messages only (``category: marketing``), on all channels; one
  campaign occurrence sent on e-mail and SMS counts once. A message is counted from the
  moment the sender reserves it (the reservation is released if the provider refuses it).
* **daily_limit** is checked first: of the marketing messages planned for one customer on one
  local day, the ``daily_limit`` highest in ``priority`` (occasion types; unlisted types rank
  after every listed one), then by campaign id, are sent; the others are skipped
  ``outranked`` naming the campaign that beat them. A message already counted that day is
  never taken back: a message planned later in the day (an order-triggered survey) that
  finds the day's slots taken is skipped ``outranked`` naming a campaign that holds a slot,
  even if it ranks higher.
* **frequency_cap**: the slots ``max_messages`` leaves free in the rolling window (the
  customer's local day of sending and the ``per_days - 1`` local days before it) go to that
  day's planned marketing messages in the same order; a message that gets none is skipped
  ``frequency_cap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from lifecycle.core.localtime import local_send_instant, parse_hhmm

QUIET_HOURS = "quiet_hours"
OUTRANKED = "outranked"
FREQUENCY_CAP = "frequency_cap"
REASONS = (QUIET_HOURS, OUTRANKED, FREQUENCY_CAP)

MAX_DAILY_LIMIT = 24
MAX_CAP_MESSAGES = 100
MAX_CAP_DAYS = 90

PolicyChannel = Literal["email", "sms"]


@dataclass(frozen=True)
class PolicyFieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class PolicyError(ValueError):
    """A policy document is invalid; ``errors`` lists every problem by field."""

    def __init__(self, errors: list[PolicyFieldError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietWindow(_Strict):
    """Local hours in which nothing is sent on a channel: ``[from, to)``."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietWindow:
        if self.start == self.end:
            raise ValueError("'from' and 'to' are equal (an empty or a whole-day window)")
        return self

    @property
    def begins(self) -> time:
        return parse_hhmm(self.start)

    @property
    def ends(self) -> time:
        return parse_hhmm(self.end)

    def contains(self, moment: time) -> bool:
        """True when the wall time ``moment`` is quiet (``from`` included, ``to`` not)."""
        moment = moment.replace(second=0, microsecond=0, tzinfo=None)
        if self.begins < self.ends:
            return self.begins <= moment < self.ends
        return moment >= self.begins or moment < self.ends

    def document(self) -> dict[str, str]:
        return {"from": self.start, "to": self.end}


DEFAULT_SMS_QUIET = QuietWindow.model_validate({"from": "21:00", "to": "08:00"})


class FrequencyCap(_Strict):
    max_messages: StrictInt = Field(ge=1, le=MAX_CAP_MESSAGES)
    per_days: StrictInt = Field(ge=1, le=MAX_CAP_DAYS)


class Policy(_Strict):
    """The account's messaging policy: quiet hours per channel (customer's local time), the
    daily limit and rolling frequency cap of marketing messages, and the occasion types in
    priority order (the daily limit keeps the highest)."""

    quiet_hours: dict[PolicyChannel, QuietWindow] = Field(default_factory=dict)
    daily_limit: StrictInt | None = Field(default=None, ge=1, le=MAX_DAILY_LIMIT)
    frequency_cap: FrequencyCap | None = None
    priority: list[str] = Field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The JSON document as stored and answered (``from``/``to`` spelled as sent)."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def caps(self) -> bool:
        """True when marketing messages are counted (a daily limit or a frequency cap)."""
        return self.daily_limit is not None or self.frequency_cap is not None


def _field(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "policy"


def parse_policy(raw: object, occasion_types: Iterable[str] | None) -> Policy:
    """Validate a policy document; :class:`PolicyError` lists every problem by field.

    ``occasion_types`` are the registered occasions (``priority`` may list only those, once);
    None skips that check (a stored document, validated when it was written).
    """
    if not isinstance(raw, Mapping):
        raise PolicyError([PolicyFieldError("policy", "must be a JSON object")])
    errors: list[PolicyFieldError] = []
    try:
        policy = Policy.model_validate(dict(raw))
    except ValidationError as exc:
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field"
            loc = list(err["loc"])
            if loc and loc[-1] == "[key]":
                loc, message = loc[:-1], "unknown channel; known: email, sms"
            if err["type"] != "extra_forbidden":  # the aliases, not the attribute names
                loc = [
                    {"start": "from", "end": "to"}.get(p, p) if isinstance(p, str) else p
                    for p in loc
                ]
            errors.append(PolicyFieldError(_field(loc), message))
        raise PolicyError(errors) from None
    known = None if occasion_types is None else tuple(occasion_types)
    seen: set[str] = set()
    for index, name in enumerate(policy.priority):
        if known is not None and name not in known:
            errors.append(
                PolicyFieldError(
                    f"priority[{index}]",
                    f"unknown occasion type {name!r}; known: {', '.join(known)}",
                )
            )
        elif name in seen:
            errors.append(PolicyFieldError(f"priority[{index}]", f"lists {name!r} twice"))
        seen.add(name)
    if errors:
        raise PolicyError(errors)
    return policy


# ---------------------------------------------------------------- quiet hours


def quiet_window(policy: Policy | None, channel: str) -> QuietWindow | None:
    """The quiet hours of ``channel``: the policy's, else the SMS default, else none."""
    if policy is not None and channel in policy.quiet_hours:
        return policy.quiet_hours[channel]
    return DEFAULT_SMS_QUIET if channel == "sms" else None


def quiet_channels(send_at: time, channels: Iterable[str], policy: Policy | None) -> list[str]:
    """The channels among ``channels`` whose quiet hours contain the wall time ``send_at``."""
    found = []
    for channel in channels:
        window = quiet_window(policy, channel)
        if window is not None and window.contains(send_at):
            found.append(channel)
    return found


def is_quiet(instant: datetime, timezone: str, channel: str, policy: Policy | None) -> bool:
    """True when ``instant`` falls in ``channel``'s quiet hours in the customer's ``timezone``."""
    window = quiet_window(policy, channel)
    return window is not None and window.contains(instant.astimezone(ZoneInfo(timezone)).time())


def quiet_ends(instant: datetime, timezone: str, window: QuietWindow) -> datetime:
    """The first instant after ``instant`` at which ``window`` is over (its ``to``, local).

    DST-correct: a ``to`` skipped by a spring-forward jump is moved forward by the jump.
    """
    local = instant.astimezone(ZoneInfo(timezone))
    day = local.date()
    for offset in range(3):
        candidate = local_send_instant(day + timedelta(days=offset), window.ends, timezone)
        if candidate > local:
            return candidate
    raise AssertionError("a wall time recurs within three days")  # pragma: no cover


@dataclass(frozen=True)
class QuietVerdict:
    """At send time: ``hold_until`` (send then), ``skip`` (``quiet_hours``) or neither."""

    hold_until: datetime | None = None
    skip: bool = False


def quiet_verdict(
    now: datetime,
    timezone: str,
    channel: str,
    policy: Policy | None,
    window_closes: datetime,
) -> QuietVerdict:
    """What to do with a message that would leave at ``now``.

    Outside quiet hours: send. Inside: hold it until they end if that is before
    ``window_closes`` (its send window: ``deliver_at`` + the maximum send delay), else skip.
    """
    window = quiet_window(policy, channel)
    if window is None or not window.contains(now.astimezone(ZoneInfo(timezone)).time()):
        return QuietVerdict()
    ends = quiet_ends(now, timezone, window)
    if ends <= window_closes:
        return QuietVerdict(hold_until=ends)
    return QuietVerdict(skip=True)


# ---------------------------------------------------------------- caps


@dataclass(frozen=True)
class Contender:
    """A marketing message planned for the customer's local day (one per occurrence)."""

    occurrence_id: str  # campaign#customer#occurrence: one slot whatever the channels
    campaign_id: str
    occasion: str


def rank(contender: Contender, priority: Sequence[str]) -> tuple[int, str, str]:
    """Sort key: higher in ``priority`` first (unlisted last), then campaign id."""
    place = priority.index(contender.occasion) if contender.occasion in priority else len(priority)
    return (place, contender.campaign_id, contender.occurrence_id)


@dataclass(frozen=True)
class CapVerdict:
    """``reason`` None: send and count it (``reserve``: not counted yet). Else skip with it;
    ``winner`` names the campaign that took the slot (``outranked``)."""

    reason: str | None = None
    winner: str | None = None
    reserve: bool = False


def window_days(day: date, per_days: int) -> list[date]:
    """The local days of a rolling window of ``per_days`` ending with ``day``."""
    return [day - timedelta(days=back) for back in range(per_days)]


def campaign_of(occurrence_id: str) -> str:
    return occurrence_id.split("#", 1)[0]


def cap_verdict(
    policy: Policy,
    me: Contender,
    day: date,
    counted: Mapping[str, Sequence[str]],
    planned: Iterable[Contender],
) -> CapVerdict:
    """Whether the marketing message ``me`` due on the customer's local ``day`` may go.

    ``counted``: local day (ISO) -> occurrence ids already counted (reserved or sent), in the
    order they were counted. ``planned``: every marketing message planned for the customer on
    ``day`` that may still go out (queued, being sent, or sent), ``me`` included or not.

    The free slots (what the frequency cap leaves in its window, what the daily limit leaves
    today) go to the day's planned messages in :func:`rank` order, so the outcome does not
    depend on which sender comes first.
    """
    today = list(counted.get(day.isoformat(), ()))
    if me.occurrence_id in today:
        return CapVerdict()  # counted already (a retry or the occurrence's other channel)
    rivals = {c.occurrence_id: c for c in planned if c.occurrence_id not in today}
    rivals[me.occurrence_id] = me
    ranked = sorted(rivals.values(), key=lambda c: rank(c, policy.priority))
    place = ranked.index(me)
    limit = policy.daily_limit
    if limit is not None:
        room = limit - len(today)
        if room <= 0:
            return CapVerdict(reason=OUTRANKED, winner=campaign_of(today[0]))
        if place >= room:
            return CapVerdict(reason=OUTRANKED, winner=ranked[0].campaign_id)
    cap = policy.frequency_cap
    if cap is not None:
        used = sum(len(counted.get(d.isoformat(), ())) for d in window_days(day, cap.per_days))
        if place >= cap.max_messages - used:
            return CapVerdict(reason=FREQUENCY_CAP)
    return CapVerdict(reserve=True)


def prune(counted: Mapping[str, Sequence[str]], day: date, keep_days: int) -> dict[str, list[str]]:
    """The counted days still inside any window (``keep_days`` back from ``day``)."""
    oldest = (day - timedelta(days=keep_days)).isoformat()
    return {d: list(ids) for d, ids in counted.items() if d > oldest}


KEEP_DAYS = MAX_CAP_DAYS + 2
