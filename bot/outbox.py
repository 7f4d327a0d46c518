"""Outbound delivery to customers through their channel's connector, with retries.

Messages to one address leave in order (the caller holds the conversation's lock). Rate
limits, vendor errors and network failures are retried with backoff (honouring the vendor's
Retry-After); errors that cannot succeed (an invalid or unsubscribed number) are not. Every
send is recorded (:mod:`bot.deliveries`); a message that still fails after ``ATTEMPTS`` tries
is logged and kept in the dead-letter list, never silently dropped. Nothing is sent to an
address that opted out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum

from bot.contracts import DeliveryError, Sender, Sent
from bot.deliveries import DeadLetter, Deliveries, DeliveryRecord
from bot.metrics import Metrics
from bot.models import Address, Message

ATTEMPTS = 5
BACKOFF_S = 0.5
MAX_BACKOFF_S = 5.0  # the whole schedule stays well inside the conversation lock's TTL

log = logging.getLogger(__name__)


class Result(StrEnum):
    """What became of one outbound message."""

    SENT = "sent"
    FAILED = "failed"  # the vendor refused it for good
    SUPPRESSED = "suppressed"  # the address opted out
    DEAD = "dead"  # retries exhausted (or no connector): in the dead-letter list


class Outbox:
    """Sends messages to a customer's address, in order, retrying failures."""

    def __init__(
        self,
        deliveries: Deliveries,
        senders: Mapping[str, Sender],
        metrics: Metrics | None = None,
        backoff_s: float = BACKOFF_S,
        opt_out_channels: Collection[str] | None = None,
    ) -> None:
        """``opt_out_channels`` lists the channels whose customers can opt out (SMS); only
        their addresses cost a look-up before sending. None: every channel."""
        self._deliveries = deliveries
        self._senders = senders
        self._metrics = metrics or Metrics()
        self._backoff_s = backoff_s
        self._opt_out_channels = opt_out_channels

    async def deliver(
        self, cid: str, to: Address | None, messages: Sequence[Message]
    ) -> list[Result]:
        """Send ``messages`` to ``to`` one after the other; one result per message."""
        if to is None or not messages:
            return []
        if self._may_opt_out(to) and await self._deliveries.opted_out(to):
            for message in messages:
                await self._record(cid, to, message, "suppressed", 0, error="opted out")
            self._count(to, Result.SUPPRESSED, len(messages))
            return [Result.SUPPRESSED] * len(messages)
        return [await self._deliver_one(cid, to, message) for message in messages]

    def _may_opt_out(self, to: Address) -> bool:
        return self._opt_out_channels is None or to.channel in self._opt_out_channels

    async def replay(self, message_id: str) -> Result | None:
        """Send a dead-lettered message again (None when there is no such dead letter)."""
        entry = await self._deliveries.take_dead_letter(message_id)
        if entry is None:
            return None
        message = Message.from_dict(entry["message"])
        results = await self.deliver(entry["conversation"], Address(*entry["to"]), (message,))
        return results[0]

    async def _deliver_one(self, cid: str, to: Address, message: Message) -> Result:
        sender = self._senders.get(to.channel)
        if sender is None:
            return await self._dead(cid, to, message, f"no connector for channel {to.channel!r}", 0)
        attempt = 1
        while True:
            sent = await _attempt(sender, to, message)
            if not isinstance(sent, DeliveryError):
                if sent is not None:
                    await self._sent(cid, to, message, sent, attempt)
                self._count(to, Result.SENT)
                return Result.SENT
            if sent.permanent or attempt == ATTEMPTS:
                return await self._failed(cid, to, message, sent, attempt)
            delay = min(sent.retry_after or self._backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
            log.warning(
                "send to %s failed (attempt %d/%d, retry in %.1f s): %s",
                to.channel,
                attempt,
                ATTEMPTS,
                delay,
                sent.detail,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def _sent(
        self, cid: str, to: Address, message: Message, sent: Sent, attempts: int
    ) -> None:
        record = self._base(to, "sent", attempts)
        record["parts"], record["segments"] = sent.parts, sent.segments
        if sent.vendor_id is not None:
            record["vendor_id"] = sent.vendor_id
        await self._deliveries.save(cid, message.id, record)
        if sent.segments and sent.encoding:
            self._metrics.sms_segments.labels(encoding=sent.encoding).inc(sent.segments)

    async def _failed(
        self, cid: str, to: Address, message: Message, error: DeliveryError, attempts: int
    ) -> Result:
        if not error.permanent:
            return await self._dead(cid, to, message, error.detail, attempts, error.code)
        log.error(
            "message %s to %s refused by the vendor (code %s): %s",
            message.id,
            to.channel,
            error.code,
            error.detail,
        )
        await self._record(cid, to, message, "failed", attempts, error.detail, error.code)
        self._count(to, Result.FAILED)
        return Result.FAILED

    async def _dead(
        self,
        cid: str,
        to: Address,
        message: Message,
        error: str,
        attempts: int,
        code: int | None = None,
    ) -> Result:
        log.error(
            "undeliverable message %s to %s after %d attempts: %s",
            message.id,
            to.channel,
            attempts,
            error,
        )
        entry: DeadLetter = {
            "id": message.id,
            "conversation": cid,
            "to": [to.channel, to.id],
            "message": message.to_dict(),
            "error": error,
            "failed_at": time.time(),
        }
        await self._deliveries.dead_letter(entry)
        await self._record(cid, to, message, "dead", attempts, error, code)
        self._count(to, Result.DEAD)
        return Result.DEAD

    async def _record(
        self,
        cid: str,
        to: Address,
        message: Message,
        status: str,
        attempts: int,
        error: str | None = None,
        code: int | None = None,
    ) -> None:
        record = self._base(to, status, attempts)
        if error is not None:
            record["error"] = error
        if code is not None:
            record["error_code"] = code
        await self._deliveries.save(cid, message.id, record)

    @staticmethod
    def _base(to: Address, status: str, attempts: int) -> DeliveryRecord:
        return {
            "channel": to.channel,
            "to": to.id,
            "status": status,
            "attempts": attempts,
            "updated": time.time(),
        }

    def _count(self, to: Address, result: Result, amount: int = 1) -> None:
        self._metrics.outbound.labels(channel=to.channel, result=result.value).inc(amount)


async def _attempt(sender: Sender, to: Address, message: Message) -> Sent | DeliveryError | None:
    """One send; any failure comes back as a :class:`DeliveryError` (unknown ones: retried)."""
    try:
        return await sender.send(to, message)
    except DeliveryError as error:
        return error
    except Exception as exc:  # a sender bug or an unexpected vendor failure: retry it
        return DeliveryError(repr(exc))
