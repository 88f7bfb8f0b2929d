"""The channel protocol: render content for a locale, know its limits, send to a provider.

Callers never branch on the channel name: they look the channel up in
:mod:`lifecycle.messages.channels` and use this protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol


class ProviderError(RuntimeError):
    """The provider did not accept the message. ``permanent`` says whether to retry."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Rendered:
    """A message rendered for one locale (``subject``/``html`` for e-mail, segments for SMS)."""

    channel: str
    locale: str
    text: str
    subject: str | None = None
    html: str | None = None
    encoding: str | None = None
    segments: int | None = None

    def preview(self) -> dict[str, Any]:
        """The fields a preview shows for this channel (no empty ones)."""
        fields = {
            "channel": self.channel,
            "locale": self.locale,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "encoding": self.encoding,
            "segments": self.segments,
        }
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Message:
    """One rendered message for one recipient, as handed to a provider."""

    rendered: Rendered
    sender: str
    to: str
    to_name: str | None
    local_date: datetime  # aware, in the customer's timezone
    unsubscribe_url: str
    delivery_id: str
    campaign_id: str
    customer_id: str
    occasion: str
    transactional: bool = False


class Providers(Protocol):
    """The provider clients a channel sends through (SES v2, SNS) and the settings."""

    @property
    def sesv2(self) -> Any: ...

    @property
    def sns(self) -> Any: ...

    @property
    def configuration_set(self) -> str: ...


class Channel(Protocol):
    name: ClassVar[str]
    address_field: ClassVar[str]  # the customer field holding the address

    def render(
        self, content: Mapping[str, Mapping[str, str | None]], locale: str | None, context: Any
    ) -> Rendered: ...

    def over_limit(self, rendered: Rendered, max_segments: int) -> str | None:
        """Why ``rendered`` cannot be sent (too long), or None."""
        ...

    def opted_out(self, providers: Providers, address: str) -> bool:
        """Whether the provider keeps the address on its own opt-out list."""
        ...

    def send(self, providers: Providers, message: Message) -> str:
        """Hand the message over; return the provider's message id (raises ProviderError)."""
        ...
