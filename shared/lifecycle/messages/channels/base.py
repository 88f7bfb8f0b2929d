"""The channel protocol: render content for a locale, know its limits, send to a provider.

Callers never branch on the channel name: they look the channel up in
:mod:`lifecycle.messages.channels` and use this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError


class ProviderError(RuntimeError):
    """The provider did not accept the message. ``permanent`` says whether to retry."""

    def __init__(self, message: str, *, permanent: bool, throttled: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.throttled = throttled


class OutcomeUnknownError(RuntimeError):
    """The request may have reached the provider (read timeout, connection closed mid-way):
    it must never be sent again automatically."""


THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)


def call_provider(
    service: str, call: Callable[[], dict[str, Any]], permanent_codes: frozenset[str]
) -> dict[str, Any]:
    """Call a provider API and translate its failures into what the sender can decide on.

    * an error answer (``ClientError``): :class:`ProviderError`, permanent for
      ``permanent_codes``, ``throttled`` for throttling codes;
    * no connection made (DNS, connect timeout, TLS handshake, proxy): the request provably
      never left, so a retryable :class:`ProviderError`;
    * the connection broke after the request was written (read timeout, connection closed):
      :class:`OutcomeUnknownError` - the provider may have accepted the message.
    """
    try:
        return call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        raise ProviderError(
            f"{service} {code}",
            permanent=code in permanent_codes,
            throttled=code in THROTTLING_CODES,
        ) from exc
    except BotoConnectionError as exc:  # EndpointConnection, ConnectTimeout, SSL, Proxy
        raise ProviderError(
            f"{service} unreachable ({type(exc).__name__})", permanent=False
        ) from exc
    except (ReadTimeoutError, ConnectionClosedError) as exc:
        raise OutcomeUnknownError(f"{service} {type(exc).__name__}") from exc


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
    # True when the message itself carries its delivery id to the provider's events (SES
    # tags): the ledger records ``sent`` in one write before the call and needs no provider
    # id. False (SMS): claim first, then record the provider's id, the message's only handle.
    write_ahead: ClassVar[bool]

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
