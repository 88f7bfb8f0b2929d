"""The occasion protocol: what every occasion module implements.

An occasion answers, for the campaigns that use it:

* ``spec_model``: its part of the campaign document (``campaign.occasion``), a pydantic model
  whose ``type`` literal is the occasion's name;
* ``trigger``: ``"date"`` (the daily planner asks :meth:`Occasion.candidates` for each local
  date) or ``"order"`` (the Orders stream asks :meth:`Occasion.from_order`);
* ``candidates``: who has an occurrence on a local date, read through an index (never a
  scan). Large reads can be split into ``partitions`` that plan workers read in parallel;
* ``check``: the read-only send-time check (cancellations) and the extra template variables;
* ``reserve``: the writes an occurrence needs at send time (the sender calls it in its write
  step, after every check passed; the dry run never calls it);
* ``variables`` / ``sample``: the template variables it adds and a realistic sample of them
  for previews and save-time validation;
* ``explain``: why a customer has no occurrence ("why not");
* ``transactional``: whether its SMS go out as transactional rather than promotional.

:class:`BaseOccasion` gives the defaults (no partitions, nothing to check, reserve or
explain); an occasion module subclasses it and is listed once in
:mod:`lifecycle.occasions.registry`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from lifecycle.core.settings import Settings
from lifecycle.core.tokens import Keys
from lifecycle.rules.orders import Order

Trigger = Literal["date", "order"]
Customer = dict[str, Any]
Reader = Callable[[str, str], list[Customer]]
"""``read(index, key)``: the customers under one key of one customer index (a Query)."""


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an occasion for one customer.

    ``key`` is the part of the ledger id that makes the delivery unique per campaign and
    customer (the celebration year for birthdays, the date for holidays, ...). ``context``
    is stored on the ledger item and becomes the template's ``occasion`` variable.
    """

    key: str
    local_date: date
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    """What the send-time check knows of one planned delivery."""

    delivery_id: str
    customer_id: str
    context: Mapping[str, Any]
    occurrence_id: str  # the delivery id without the channel: one per occurrence


@dataclass(frozen=True)
class Check:
    """The outcome of a send-time check: skip ``reason`` or extra template ``variables``."""

    variables: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


PROCEED = Check()


@dataclass(frozen=True)
class LinkSigner:
    """What occasions need to put signed links into messages (key and settings)."""

    key: Keys
    settings: Settings


@dataclass(frozen=True)
class Sample:
    """Sample data for previews: ``occasion`` variables and extra top-level variables."""

    occasion: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)


class OccasionSpec(BaseModel):
    """Base of every occasion's campaign model (``campaign.occasion``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str


class Occasion(Protocol):
    """The protocol every occasion module implements (see the module docstring)."""

    type: ClassVar[str]
    spec_model: ClassVar[builtins.type[OccasionSpec]]
    trigger: ClassVar[Trigger]
    variables: ClassVar[frozenset[str]]
    transactional: ClassVar[bool]

    def partitions(self, spec: Any, day: date, shards: int) -> list[str]: ...

    def fans_out(self) -> bool: ...

    def candidates(
        self, spec: Any, day: date, partition: str, read: Reader
    ) -> Iterator[tuple[Customer, Occurrence]]: ...

    def from_order(self, spec: Any, order: Order, timezone: str) -> Occurrence | None: ...

    def check(
        self, spec: Any, pending: Pending, customer: Customer, now: datetime, links: LinkSigner
    ) -> Check: ...

    def reserve(self, spec: Any, pending: Pending, now: datetime) -> str | None: ...

    def sample(self, spec: Any) -> Sample: ...

    def explain(self, spec: Any, customer: Customer) -> list[str]: ...


class BaseOccasion:
    """Defaults for the protocol; occasion modules override what applies to them."""

    type: ClassVar[str]
    spec_model: ClassVar[builtins.type[OccasionSpec]]
    trigger: ClassVar[Trigger] = "date"
    variables: ClassVar[frozenset[str]] = frozenset()
    transactional: ClassVar[bool] = False  # SMS type: transactional (e.g. surveys) or promotional

    def partitions(self, spec: Any, day: date, shards: int) -> list[str]:
        """Independent reads for ``day``; one partition ("") unless the occasion fans out."""
        return [""]

    def fans_out(self) -> bool:
        """True when partitions are planned by plan workers (the plan queue), not inline."""
        return False

    def candidates(
        self, spec: Any, day: date, partition: str, read: Reader
    ) -> Iterator[tuple[Customer, Occurrence]]:
        return iter(())

    def from_order(self, spec: Any, order: Order, timezone: str) -> Occurrence | None:
        return None

    def check(
        self, spec: Any, pending: Pending, customer: Customer, now: datetime, links: LinkSigner
    ) -> Check:
        return PROCEED

    def reserve(self, spec: Any, pending: Pending, now: datetime) -> str | None:
        return None

    def sample(self, spec: Any) -> Sample:
        return Sample()

    def explain(self, spec: Any, customer: Customer) -> list[str]:
        return []
