"""What became of each outbound message: its delivery record, a dead letter when it could not be
delivered, and the ``omnibot_outbound_messages_total`` count (for :mod:`bot.delivery.outbox`)."""

from __future__ import annotations

import logging
import time
from enum import StrEnum

from bot.contracts import DeliveryError, Sent
from bot.delivery.records import DeadLetter, Deliveries, DeliveryRecord
from bot.metrics import Metrics
from bot.models import Address, Message

log = logging.getLogger("bot.delivery.outbox")


class Result(StrEnum):
    """What became of one outbound message."""

    SENT = "sent"
    FAILED = "failed"  # the vendor refused it for good
    SUPPRESSED = "suppressed"  # the address opted out
    DEAD = "dead"  # retries exhausted (or no connector): in the dead-letter list


class DeliveryLog:
    """Records the outcome of sends, keeps dead letters and counts results."""

    def __init__(self, deliveries: Deliveries, metrics: Metrics) -> None:
        self._deliveries = deliveries
        self._metrics = metrics

    async def sent(
        self, cid: str, to: Address, message: Message, sent: Sent, attempts: int
    ) -> None:
        """Record a send the vendor took (its id, parts and segments)."""
        record = _base(to, "sent", attempts)
        record["parts"], record["segments"] = sent.parts, sent.segments
        if sent.vendor_id is not None:
            record["vendor_id"] = sent.vendor_id
        await self._deliveries.save(cid, message.id, record)
        if sent.segments and sent.encoding:
            self._metrics.sms_segments.labels(encoding=sent.encoding).inc(sent.segments)

    async def failed(
        self, cid: str, to: Address, message: Message, error: DeliveryError, attempts: int
    ) -> Result:
        """Record a refusal that retrying cannot fix."""
        log.error(
            "message %s to %s refused by the vendor (code %s): %s",
            message.id,
            to.channel,
            error.code,
            error.detail,
        )
        await self.record(cid, to, message, "failed", attempts, error.detail, error.code)
        return self.count(to, Result.FAILED)

    async def dead(
        self,
        cid: str,
        to: Address,
        message: Message,
        error: str,
        attempts: int,
        code: int | None = None,
    ) -> Result:
        """Keep an undeliverable message in the dead-letter list and record it."""
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
        await self.record(cid, to, message, "dead", attempts, error, code)
        return self.count(to, Result.DEAD)

    async def record(
        self,
        cid: str,
        to: Address,
        message: Message,
        status: str,
        attempts: int,
        error: str | None = None,
        code: int | None = None,
    ) -> None:
        """Record a message's delivery status (and error)."""
        record = _base(to, status, attempts)
        if error is not None:
            record["error"] = error
        if code is not None:
            record["error_code"] = code
        await self._deliveries.save(cid, message.id, record)

    def count(self, to: Address, result: Result) -> Result:
        """Count ``result`` for ``to``'s channel; returns it."""
        self._metrics.outbound.labels(channel=to.channel, result=result.value).inc()
        return result


def _base(to: Address, status: str, attempts: int) -> DeliveryRecord:
    return {
        "channel": to.channel,
        "to": to.id,
        "status": status,
        "attempts": attempts,
        "updated": time.time(),
    }
