"""Delivery channels: one module per channel behind :class:`base.Channel`."""

from __future__ import annotations

from lifecycle.messages.channels.base import Channel
from lifecycle.messages.channels.email import EMAIL
from lifecycle.messages.channels.sms import SMS

CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (EMAIL, SMS)}


def channel_for(name: str) -> Channel:
    """The channel called ``name`` (KeyError for an unknown one)."""
    return CHANNELS[name]
