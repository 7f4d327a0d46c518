"""The channel contracts: what a connector implements (:class:`Connector`, :class:`Sender`), what
it reports of a delivery (:class:`Sent`, :class:`DeliveryError`), and what the core offers it
(:data:`InboundHandler`, :class:`WebLinking`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from aiohttp import web

from bot.identity.verification import LinkGrant
from bot.models import Address, InboundMessage, Message, Outcome

InboundHandler = Callable[[InboundMessage], Awaitable[Outcome]]
"""How a connector hands a customer's message to the core (``WorkStream.submit``)."""


class WebLinking(Protocol):
    """What the web chat asks of linking across channels (``bot.identity.linking.Linking``)."""

    async def peek_link(self, token: str) -> LinkGrant | None:
        """What a "continue on the web" link would open, leaving it unused (None: no such
        link now)."""
        ...

    async def open_link(self, token: str, address: Address) -> LinkGrant | None:
        """Redeem a link for web chat ``address``: the customer it now belongs to (None: no
        such link now)."""
        ...

    async def seal_code(self, cid: str, text: str) -> str:
        """What to store of a message: a typed verification code becomes a placeholder."""
        ...


@dataclass(frozen=True)
class Sent:
    """What a connector reports after handing a message to its vendor.

    ``segments`` is what the vendor bills (SMS segments), 0 where it does not apply;
    ``encoding`` names how the text was encoded for that count (``gsm7``, ``ucs2``).
    """

    vendor_id: str | None = None
    parts: int = 1
    segments: int = 0
    encoding: str | None = None


@dataclass(frozen=True)
class Unsure:
    """An earlier try of a message whose outcome is unknown: it started at ``since`` (unix
    seconds) and its process died, or the vendor's answer never came. ``known`` holds the
    vendor ids already recorded for the conversation's messages, which cannot be this one."""

    since: float
    known: frozenset[str] = frozenset()


class DeliveryError(Exception):
    """A connector could not hand a message to its vendor.

    ``permanent`` errors (an invalid or unsubscribed number) are not retried; others (rate
    limits, vendor errors, network) are, after ``retry_after`` seconds when the vendor said so.
    ``maybe_sent`` says the vendor may have taken the message all the same (a timeout, a cut
    connection, a server error), so the next try first asks the vendor.
    """

    def __init__(
        self,
        detail: str,
        permanent: bool = False,
        code: int | None = None,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class Sender(Protocol):
    """Delivery of messages to addresses on one channel."""

    async def send(
        self, to: Address, message: Message, unsure: Unsure | None = None
    ) -> Sent | None:
        """Hand ``message`` to the vendor; raise :class:`DeliveryError` when that fails.

        With ``unsure`` an earlier try may have reached the vendor: a sender that can look up
        what its vendor took sends only what is missing (others send again)."""
        ...


class Connector(Sender, Protocol):
    """A customer channel: its HTTP routes, and delivery of messages to an address on it."""

    channel: ClassVar[str]

    def routes(self) -> list[web.AbstractRouteDef]: ...
