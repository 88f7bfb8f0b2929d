"""Customer data access (PynamoDB). Logic receives plain dicts from here."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from lifecycle.core.clock import utc_iso
from lifecycle.rules.consent import ConsentState, changes
from lifecycle.rules.records import ERASED_AT, CustomerRecord, is_valid_timezone
from lifecycle.store import consent as trail
from lifecycle.store.dates import customer_ids_with_date, save_dates
from lifecycle.store.errors import condition_failed
from lifecycle.store.models import ConsentEventModel, CustomerModel, connection_of


class CustomerErasedError(RuntimeError):
    """The customer was erased: an import must not bring their data back."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} was erased")
        self.customer_id = customer_id


# A tombstone's attributes are exactly {"erased_at": ...} (write_tombstone), stored as JSON
# text: this condition recognizes one without reading the item first, so an erasure that
# lands between an import's read and write cannot be undone. Imports cannot set
# attributes.erased_at (lifecycle.rules.records), so no other customer's attributes start so.
# A plain Path: the JSON attribute would JSON-encode the prefix itself.
NOT_ERASED = CustomerModel.attributes.does_not_exist() | ~Path(
    CustomerModel.attributes.attr_name
).startswith(f'{{"{ERASED_AT}"')


def country_shard_key(customer_id: str, country: str, shards: int) -> str:
    """Key of the ``by-country`` index: the country split into ``shards`` partitions."""
    return f"{country}#{zlib.crc32(customer_id.encode()) % shards}"


def last_active_day_key(last_active_at: datetime, timezone: str | None) -> str:
    """Key of the ``by-last-active`` index: the local date of the last activity.

    The customer's timezone, or UTC when they have none (the inactivity rule is defined on
    this date, so planning can query exactly one index key per local date).
    """
    zone = ZoneInfo(timezone) if timezone and is_valid_timezone(timezone) else ZoneInfo("UTC")
    return last_active_at.astimezone(zone).date().isoformat()


def to_dict(model: CustomerModel) -> dict[str, Any]:
    return {
        "customer_id": model.customer_id,
        "email": model.email,
        "phone": model.phone,
        "first_name": model.first_name,
        "last_name": model.last_name,
        "locale": model.locale,
        "timezone": model.timezone,
        "country": model.country,
        "birthday": model.birthday,
        "dates": dict(model.dates.as_dict()) if model.dates else {},
        "consent": {
            "email": bool(model.consent.email) if model.consent else False,
            "sms": bool(model.consent.sms) if model.consent else False,
        },
        "unsubscribed": dict(model.unsubscribed.as_dict()) if model.unsubscribed else {},
        "suppressed": dict(model.suppressed.as_dict()) if model.suppressed else {},
        "topics_off": _topics_off(model),
        "created_at": model.created_at,
        "last_active_at": model.last_active_at,
        "last_survey_at": model.last_survey_at,
        "rfm": model.rfm,
        "nps_group": model.nps_group,
        "attributes": model.attributes or {},
    }


def _topics_off(model: CustomerModel) -> dict[str, list[str]]:
    if not model.topics_off:
        return {}
    return {str(k): sorted(str(t) for t in v) for k, v in model.topics_off.as_dict().items() if v}


def customers_by_ids(customer_ids: list[str]) -> list[dict[str, Any]]:
    """The customers with these ids that exist (BatchGetItem, 100 keys a request)."""
    return [to_dict(model) for model in CustomerModel.batch_get(customer_ids)]


def customers_with_date(key: str) -> list[dict[str, Any]]:
    """Customers under one key of the named-dates index: ``name|MM-DD|on|YYYY-MM-DD`` or
    ``name|MM-DD|before|YYYY-MM-DD`` (the date occasion builds these keys)."""
    name, month_day, mode, bound = key.split("|")
    ids = list(
        customer_ids_with_date(
            name,
            month_day,
            on=bound if mode == "on" else None,
            before=bound if mode == "before" else None,
        )
    )
    return sorted(customers_by_ids(ids), key=lambda c: str(c["customer_id"])) if ids else []


def write_tombstone(customer_id: str, now: datetime, channels: Iterable[str]) -> bool:
    """Replace a customer by a tombstone: id, erase time, no consent, every channel
    unsubscribed (so a later import of the same id sends nothing). True if it existed."""
    stamp = utc_iso(now)
    found = CustomerModel.count(customer_id) > 0
    CustomerModel(
        customer_id=customer_id,
        consent={"email": False, "sms": False},
        unsubscribed=dict.fromkeys(channels, stamp),
        attributes={ERASED_AT: stamp},
        updated_at=stamp,
    ).save()
    return found


def email_key(email: str) -> str:
    """The by-email index key: the address lower-cased (lookups ignore case)."""
    return email.strip().lower()


def customer_ids_by_email(email: str, limit: int = 20) -> list[str]:
    """Ids of the customers with this e-mail address, any case (a Query on ``by-email``)."""
    return [
        model.customer_id for model in CustomerModel.by_email.query(email_key(email), limit=limit)
    ]


def scan_customers() -> Iterator[dict[str, Any]]:
    """Every customer (a Scan: only for estimates over small and medium tables)."""
    for model in CustomerModel.scan():
        yield to_dict(model)


def get_customer(customer_id: str) -> dict[str, Any] | None:
    try:
        return to_dict(CustomerModel.get(customer_id, consistent_read=True))
    except DoesNotExist:
        return None


BATCH_GET_KEYS = 100  # BatchGetItem's limit per request


def _behind_keys(ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The customers behind index keys, in the index's order (ascending ``customer_id``).

    The customer indexes project keys only (lifecycle.store.models): one BatchGetItem per
    100 ids fetches the items, eventually consistent like the index Query itself.
    """
    batch: list[str] = []
    for customer_id in ids:
        batch.append(customer_id)
        if len(batch) == BATCH_GET_KEYS:
            yield from sorted(customers_by_ids(batch), key=lambda c: str(c["customer_id"]))
            batch = []
    if batch:
        yield from sorted(customers_by_ids(batch), key=lambda c: str(c["customer_id"]))


def customers_with_birthday(month_day: str) -> Iterator[dict[str, Any]]:
    """Customers whose birthday index key is ``month_day`` ("MM-DD"); a Query, never a Scan."""
    return _behind_keys(m.customer_id for m in CustomerModel.by_birthday.query(month_day))


def record_unsubscribe(
    customer_id: str, channel: str, now: datetime, via: str = trail.SMS_STOP
) -> bool:
    """Withdraw consent for ``channel`` (unsubscribe from everything on it), remember when
    and record the change (``via``: the SMS provider's opt-out list unless said otherwise);
    False if the customer is unknown.

    Idempotent: a second call keeps the first unsubscribe time and records nothing.
    """
    try:
        model = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return False
    unsubscribed = dict(model.unsubscribed.as_dict()) if model.unsubscribed else {}
    already = channel in unsubscribed and not getattr(model.consent, channel, False)
    unsubscribed.setdefault(channel, utc_iso(now))
    try:
        model.update(
            actions=[
                CustomerModel.consent[channel].set(False),
                CustomerModel.unsubscribed.set(unsubscribed),
                CustomerModel.updated_at.set(utc_iso(now)),
            ],
            condition=CustomerModel.customer_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False  # deleted since it was read
        raise
    if not already:
        change = [{"channel": channel, "action": "unsubscribed"}]
        trail.put_event(trail.new_event(customer_id, now, via, change))
    return True


class ConsentConflictError(RuntimeError):
    """The customer's consent changed while a change was being saved, more than once."""


@dataclass(frozen=True)
class ConsentSaved:
    """A saved consent change: the state before and after, and its record (None when the
    change changed nothing, which is then not recorded)."""

    before: ConsentState
    after: ConsentState
    event: trail.ConsentEvent | None


SAVE_ATTEMPTS = 3


def save_consent(
    customer_id: str,
    change: Callable[[ConsentState], ConsentState],
    via: str,
    now: datetime,
    *,
    campaign_id: str | None = None,
    undoes: str | None = None,
) -> ConsentSaved | None:
    """Apply ``change`` to the customer's consent state and record it, in one transaction.

    The write holds only if the item is unchanged since it was read (its ``updated_at``)
    and is not a tombstone: a concurrent change is read again and ``change`` applied to it
    (up to :data:`SAVE_ATTEMPTS` times, then :class:`ConsentConflictError`). None when the
    customer is unknown or erased: nothing is stored.
    """
    for _ in range(SAVE_ATTEMPTS):
        try:
            model = CustomerModel.get(customer_id, consistent_read=True)
        except DoesNotExist:
            return None
        if (model.attributes or {}).get(ERASED_AT):
            return None
        before = ConsentState.of(to_dict(model))
        after = change(before)
        what = changes(before, after)
        if not what:
            return ConsentSaved(before, after, None)
        event = trail.new_event(
            customer_id,
            now,
            via,
            what,
            before=before.snapshot(),
            after=after.snapshot(),
            campaign_id=campaign_id,
            undoes=undoes,
        )
        if _write_consent(model, after, event, now):
            return ConsentSaved(before, after, event)
    raise ConsentConflictError(f"consent of {customer_id} kept changing")


def _write_consent(
    model: CustomerModel, state: ConsentState, event: trail.ConsentEvent, now: datetime
) -> bool:
    snapshot = state.snapshot()
    topics = snapshot["topics_off"]
    actions: list[Action] = [
        CustomerModel.consent.set(
            {"email": bool(state.consent.get("email")), "sms": bool(state.consent.get("sms"))}
        ),
        CustomerModel.unsubscribed.set(snapshot["unsubscribed"])
        if snapshot["unsubscribed"]
        else CustomerModel.unsubscribed.remove(),
        CustomerModel.topics_off.set(topics) if topics else CustomerModel.topics_off.remove(),
        CustomerModel.updated_at.set(utc_iso(now)),
    ]
    unchanged: Condition = (
        CustomerModel.updated_at.does_not_exist()
        if model.updated_at is None
        else CustomerModel.updated_at == model.updated_at
    )
    try:
        with TransactWrite(connection=connection_of(CustomerModel)) as write:
            write.update(
                CustomerModel(customer_id=model.customer_id),
                actions=actions,
                condition=CustomerModel.customer_id.exists() & NOT_ERASED & unchanged,
            )
            write.save(trail.to_model(event), condition=ConsentEventModel.event_id.does_not_exist())
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and getattr(reasons[0], "code", None) == "ConditionalCheckFailed":
            return False  # changed (or erased) since it was read: read it again
        raise
    return True


def flag_suppressed(
    customer_id: str, channel: str, address: str, reason: str, now: datetime
) -> bool:
    """Mark the customer's ``channel`` address (its suppression key) as suppressed for
    ``reason``; False if the customer is unknown. Idempotent: the first time is kept while
    the reason stays the same."""
    model = CustomerModel(customer_id=customer_id)
    try:
        current = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return False
    flags = dict(current.suppressed.as_dict()) if current.suppressed else {}
    previous = flags.get(channel) or {}
    if previous.get("address") == address and previous.get("reason") == reason:
        return True
    flags[channel] = {"address": address, "reason": reason, "at": utc_iso(now)}
    try:
        model.update(
            actions=[
                CustomerModel.suppressed.set(flags),
                CustomerModel.updated_at.set(utc_iso(now)),
            ],
            condition=CustomerModel.customer_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False  # deleted since it was read
        raise
    # A complaint (or a bounce) stops every message to the address: a consent change.
    via = trail.COMPLAINT if reason == trail.COMPLAINT else trail.BOUNCE
    change = [{"channel": channel, "action": f"suppressed_{reason}"}]
    trail.put_event(trail.new_event(customer_id, now, via, change))
    return True


def customers_in_country_shard(key: str) -> Iterator[dict[str, Any]]:
    """Customers under one ``by-country`` key ("DE#7"): holiday planning, one shard a task."""
    return _behind_keys(m.customer_id for m in CustomerModel.by_country.query(key))


def customers_last_active_on(day: str) -> Iterator[dict[str, Any]]:
    """Customers whose last activity was on local ``day`` (inactivity planning)."""
    return _behind_keys(m.customer_id for m in CustomerModel.by_last_active.query(day))


def record_activity(customer_id: str, at: datetime) -> str:
    """Move ``last_active_at`` forward to ``at`` (never backwards).

    Returns ``"updated"``, ``"stale"`` (an equal or later activity is already recorded) or
    ``"unknown_customer"``. Safe under duplicate and out-of-order events.
    """
    try:
        model = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return "unknown_customer"
    instant = utc_iso(at)
    if model.last_active_at and model.last_active_at >= instant:
        return "stale"
    try:
        model.update(
            actions=[
                CustomerModel.last_active_at.set(instant),
                CustomerModel.last_active_day.set(last_active_day_key(at, model.timezone)),
            ],
            condition=CustomerModel.customer_id.exists()
            & (
                CustomerModel.last_active_at.does_not_exist()
                | (CustomerModel.last_active_at < instant)
            ),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return "stale"  # a later activity won the race
        raise
    return "updated"


def store_rfm(customer_id: str, rfm: dict[str, Any]) -> bool:
    """Write RFM scores on an existing customer (never creates one)."""
    try:
        CustomerModel(customer_id=customer_id).update(
            actions=[CustomerModel.rfm.set(rfm)],
            condition=CustomerModel.customer_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False  # no such customer
        raise
    return True


def stored_rfm(segment: int = 0, segments: int = 1) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(customer id, stored RFM document or None) of every customer, page by page.

    A Scan (one segment of a parallel scan) that returns only the id and ``rfm``: the RFM
    job compares with it and writes only what changed. Tombstones are left out.
    """
    for model in CustomerModel.scan(
        segment=segment if segments > 1 else None,
        total_segments=segments if segments > 1 else None,
        attributes_to_get=["customer_id", "rfm", "attributes"],
    ):
        if model.attributes and ERASED_AT in model.attributes:
            continue
        yield model.customer_id, model.rfm


def clear_rfm(customer_id: str) -> bool:
    """Remove the RFM document (every order left the window); False if no such customer."""
    try:
        CustomerModel(customer_id=customer_id).update(
            actions=[CustomerModel.rfm.remove()],
            condition=CustomerModel.customer_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def store_nps_group(customer_id: str, group: str) -> None:
    try:
        CustomerModel(customer_id=customer_id).update(
            actions=[CustomerModel.nps_group.set(group)],
            condition=CustomerModel.customer_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return  # no such customer
        raise


def claim_survey_slot(customer_id: str, now: datetime, throttle_days: int, survey: str) -> bool:
    """Record a survey send unless another one went out in the last ``throttle_days``.

    Atomic (conditional update); idempotent for the same ``survey`` so a retried send of that
    survey is not throttled by itself. Only a failed condition means "throttled": any other
    DynamoDB error (throttling, timeout) propagates so the send is retried.
    """
    limit = utc_iso(now - timedelta(days=throttle_days))
    try:
        CustomerModel(customer_id=customer_id).update(
            actions=[
                CustomerModel.last_survey_at.set(utc_iso(now)),
                CustomerModel.last_survey_id.set(survey),
            ],
            condition=CustomerModel.customer_id.exists()
            & (
                CustomerModel.last_survey_at.does_not_exist()
                | (CustomerModel.last_survey_at <= limit)
                | (CustomerModel.last_survey_id == survey)
            ),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False  # throttled, or no such customer
        raise
    return True


# Every reader of a customer index, with what its callers need: the planner's occasions
# (lifecycle.occasions: birthday reads ``birthday``, inactivity ``last_active_at`` and
# ``timezone``, holiday ``country``, date ``dates``) and then plan_occurrence (timezone,
# consent, suppression, topics and any attribute an audience rule names) need the whole
# customer, so each reader fetches the items behind the index keys; the dry run and the
# API's estimates read through the same functions.
INDEX_READERS: dict[str, Callable[[str], Iterable[dict[str, Any]]]] = {
    "by-birthday": customers_with_birthday,
    "by-last-active": customers_last_active_on,
    "by-country": customers_in_country_shard,
    "by-anniversary": customers_with_date,
}


def read_index(index: str, value: str) -> list[dict[str, Any]]:
    """Customers under one key of one customer index (a Query, never a Scan)."""
    try:
        reader = INDEX_READERS[index]
    except KeyError:
        raise ValueError(f"no customer index {index!r}") from None
    return list(reader(value))


def upsert_customer(
    record: CustomerRecord, now: datetime, country_shards: int = 16, via: str = trail.IMPORT
) -> None:
    """Set every field the record has, remove the ones it lacks; keep unsubscribes and
    topic opt-outs.

    Activity recorded by usage events after the file was written is kept: ``last_active_at``
    only moves forward. Named dates are indexed for the "date" occasion. An erased customer
    is never written: :class:`CustomerErasedError`. Consent the record gives or withdraws
    (compared with what was stored) is recorded in the consent trail with ``via``.
    """
    old = _update_customer(record, now, country_shards)
    _record_import_consent(record, old.consent, now, via)
    if record.dates or old.had_dates:
        save_dates(record.customer_id, record.dates)
    # Neither the record nor the item it replaced has named dates: the customer has no
    # index items to add or delete (the Query that would look for them is saved). Only a
    # run that removed the dates and stopped before deleting their index items leaves some
    # behind; the date occasion reads the customer's own dates, so they change nothing.


def _record_import_consent(
    record: CustomerRecord, old: dict[str, bool], now: datetime, via: str
) -> None:
    new = {"email": bool(record.consent.email), "sms": bool(record.consent.sms)}
    what = [
        {"channel": channel, "action": "consent_given" if given else "consent_withdrawn"}
        for channel, given in new.items()
        if old.get(channel, False) != given
    ]
    if what:
        event = trail.new_event(
            record.customer_id,
            now,
            via,
            what,
            before={"consent": {k: old.get(k, False) for k in new}},
            after={"consent": new},
        )
        trail.put_event(event)


@dataclass(frozen=True)
class _Replaced:
    """What an import's UpdateItem (UPDATED_OLD) replaced: the consent flags ({} for a new
    item) and whether the item had named dates."""

    consent: dict[str, bool]
    had_dates: bool


def _old_consent(response: dict[str, Any]) -> dict[str, bool]:
    """The consent flags an UpdateItem (UPDATED_OLD) replaced; {} for a new item."""
    old = (response.get("Attributes") or {}).get("consent", {}).get("M", {})
    return {str(k): bool(v.get("BOOL")) for k, v in old.items()}


def _update_old(item: CustomerModel, actions: list[Action], condition: Condition) -> _Replaced:
    # Model.update answers the new values only; the old consent tells what the import changed.
    response = CustomerModel._get_connection().update_item(
        item.customer_id, actions=actions, condition=condition, return_values="UPDATED_OLD"
    )
    old_dates = (response.get("Attributes") or {}).get("dates", {}).get("M")
    return _Replaced(consent=_old_consent(response), had_dates=bool(old_dates))


def _update_customer(record: CustomerRecord, now: datetime, country_shards: int) -> _Replaced:
    values: dict[str, Any] = {
        "email": record.email,
        "email_key": email_key(record.email) if record.email else None,
        "phone": record.phone,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "locale": record.locale,
        "timezone": record.timezone,
        "country": record.country,
        "birthday": record.birthday,
        "birthday_md": record.birthday_month_day,
        "created_at": utc_iso(record.created_at) if record.created_at else None,
        "attributes": record.attributes or None,
        "dates": record.dates or None,
        "country_shard": (
            country_shard_key(record.customer_id, record.country, country_shards)
            if record.country
            else None
        ),
    }
    actions: list[Action] = [
        getattr(CustomerModel, name).remove()
        if value is None
        else getattr(CustomerModel, name).set(value)
        for name, value in values.items()
    ]
    actions.append(
        CustomerModel.consent.set({"email": record.consent.email, "sms": record.consent.sms})
    )
    actions.append(CustomerModel.updated_at.set(utc_iso(now)))
    item = CustomerModel(customer_id=record.customer_id)
    if record.last_active_at is None:
        return _update_unless_erased(item, actions)
    instant = utc_iso(record.last_active_at)
    activity: list[Action] = [
        CustomerModel.last_active_at.set(instant),
        CustomerModel.last_active_day.set(
            last_active_day_key(record.last_active_at, record.timezone)
        ),
    ]
    try:
        return _update_old(
            item,
            actions + activity,
            NOT_ERASED
            & (
                CustomerModel.last_active_at.does_not_exist()
                | (CustomerModel.last_active_at <= instant)
            ),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return _update_unless_erased(item, actions)  # newer activity already recorded: keep it


def _update_unless_erased(item: CustomerModel, actions: list[Action]) -> _Replaced:
    try:
        return _update_old(item, actions, NOT_ERASED)
    except UpdateError as exc:
        if condition_failed(exc):
            raise CustomerErasedError(item.customer_id) from None
        raise


def upsert_customers(
    records: Sequence[CustomerRecord], now: datetime, country_shards: int = 16, *, workers: int = 1
) -> list[bool]:
    """:func:`upsert_customer` for many customers, ``workers`` at a time; True per written one.

    False for an erased customer (the tombstone stays). Every other error stops the call and
    is raised (the caller retries the whole batch: upserts are idempotent). The updates are
    conditional, so no BatchWriteItem: a bounded pool of threads runs them in parallel on
    the models' shared client (botocore clients are thread-safe; PynamoDB's connection pool
    holds 10 connections by default, so more than 10 workers only wait).
    """

    def one(record: CustomerRecord) -> bool:
        try:
            upsert_customer(record, now, country_shards)
        except CustomerErasedError:
            return False
        return True

    if workers <= 1 or len(records) <= 1:
        return [one(record) for record in records]
    with ThreadPoolExecutor(max_workers=min(workers, len(records))) as pool:
        return list(pool.map(one, records))
