"""Outbound delivery to customers through their channel's connector, with retries.

A message that still cannot be delivered after ``ATTEMPTS`` tries is logged as an error and
kept in a dead-letter list in Redis, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from bot.contracts import Connector
from bot.models import Address, Message
from bot.store import Store

ATTEMPTS = 3
BACKOFF_S = 0.5

log = logging.getLogger(__name__)


class Outbox:
    """Sends messages to a customer's address, in order, retrying failures."""

    def __init__(self, store: Store, connectors: Mapping[str, Connector]) -> None:
        self._store = store
        self._connectors = connectors

    async def deliver(self, to: Address | None, messages: tuple[Message, ...]) -> None:
        """Send ``messages`` to ``to`` one after the other (the caller holds the lock)."""
        if to is None:
            return
        connector = self._connectors.get(to.channel)
        for message in messages:
            if connector is None:
                await self._dead(to, message, f"no connector for channel {to.channel!r}")
            else:
                await self._send(connector, to, message)

    async def _send(self, connector: Connector, to: Address, message: Message) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await connector.send(to, message)
                return
            except Exception as exc:  # any vendor failure: retry, then dead-letter
                log.warning("send to %s failed (attempt %d/%d): %s", to.channel, attempt,
                            ATTEMPTS, exc)
                if attempt == ATTEMPTS:
                    await self._dead(to, message, repr(exc))
                else:
                    await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))

    async def _dead(self, to: Address, message: Message, error: str) -> None:
        log.error("undeliverable message %s to %s: %s", message.id, to.channel, error)
        await self._store.dead_letter({"to": [to.channel, to.id],
                                       "message": message.to_dict(), "error": error})
