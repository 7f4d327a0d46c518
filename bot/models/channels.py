"""Channels and addresses: where a customer writes from, and what each channel can carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

WEBCHAT_MAX_CHARS = 2000  # the longest web chat message, either way (CHANNELS)


class Channel(StrEnum):
    """A channel's name, as addresses, messages and metrics carry it (a plain string on the
    wire: ``Address.channel`` stays ``str``, and a ``Channel`` compares equal to it)."""

    SMS = "sms"
    WEBCHAT = "webchat"
    # Not a customer's channel: a dead-lettered desk job is addressed to ("desk", cid), so the
    # outbox's replay can hand it back to the desk queue.
    DESK = "desk"


@dataclass(frozen=True)
class ChannelInfo:
    """What a customer channel can carry, declared once (:data:`CHANNELS`).

    ``name`` is how agents read the channel; ``max_chars`` the longest text one message may
    hold (None: any, the connector splits it); ``opt_out``: customers can opt out (SMS STOP)
    and are sent nothing until they opt in; ``links``: a "continue on the web" link can be
    sent there (the web chat is the web already).
    """

    name: str
    max_chars: int | None = None
    opt_out: bool = False
    links: bool = False


CHANNELS: Mapping[Channel, ChannelInfo] = MappingProxyType(
    {
        Channel.SMS: ChannelInfo("SMS", opt_out=True, links=True),
        Channel.WEBCHAT: ChannelInfo("web chat", max_chars=WEBCHAT_MAX_CHARS),
    }
)


def channel_info(channel: str | None) -> ChannelInfo | None:
    """What ``channel`` can carry; None for a name that is no customer channel."""
    try:
        return CHANNELS.get(Channel(channel)) if channel else None
    except ValueError:
        return None


def too_long(channel: str | None, text: str) -> bool:
    """Whether ``text`` is more than one message on ``channel`` can hold."""
    info = channel_info(channel)
    return info is not None and info.max_chars is not None and len(text) > info.max_chars


@dataclass(frozen=True, order=True)
class Address:
    """Where a customer can be reached: a channel and the channel's own id (phone, session)."""

    channel: str
    id: str
