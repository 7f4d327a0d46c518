"""One try of an outbound message: send it, or say why not and whether to try again.

The policy of :mod:`bot.delivery.outbox`'s queue: each try is written ahead (the entry's
``since``), so a try after one whose outcome is unknown asks the vendor first; a message the
vendor took is never sent again; nothing goes to an address that opted out; an agent whose reply
did not reach the customer is told in their ticket.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping

from bot.contracts import DeliveryError, Sender, Unsure
from bot.delivery.attempt import OutboundEntry, try_once, unsure_of
from bot.delivery.consent import Consent
from bot.delivery.log import DeliveryLog, Result
from bot.delivery.records import Deliveries
from bot.desk.queue import DeskQueue, post_job
from bot.models import Address, Message, Role
from bot.storage.queue import Done, Head, Retry

Settled = dict[str, Result]  # what became of each message settled, by message id

UNDELIVERED_REASONS = {
    Result.SUPPRESSED: "they opted out of this channel (SMS STOP)",
    Result.FAILED: "the channel refused the message",
    Result.DEAD: "the channel kept failing; it is in the dead-letter list",
}


class Tries:
    """Tries outbound entries for :class:`~bot.delivery.outbox.Outbox`, one at a time."""

    def __init__(
        self,
        deliveries: Deliveries,
        log: DeliveryLog,
        consent: Consent,
        senders: Mapping[str, Sender],
        opt_out_channels: Collection[str] | None,
        desk: DeskQueue | None,
        undelivered: str,
    ) -> None:
        """``undelivered``: the agents' notice of a reply that did not reach the customer."""
        self._deliveries = deliveries
        self._log = log
        self._consent = consent
        self._senders = senders
        self._opt_out_channels = opt_out_channels
        self._desk = desk
        self._undelivered = undelivered
        # messages the vendor took whose entries could not be removed yet (Redis was down):
        # removed without a second send when their queue is worked again
        self._handed_over: set[str] = set()

    async def dead(
        self, cid: str, head: Head, retry: Retry, attempts: int, settled: Settled
    ) -> Done:
        """The head failed its last try: logged and kept as a dead letter."""
        entry: OutboundEntry = head.entry()
        to, message = Address(*entry["to"]), Message.from_dict(entry["message"])
        result = await self._log.dead(cid, to, message, retry.detail, attempts, retry.code)
        return self._settled(cid, entry, result, settled)

    async def attempt(self, cid: str, head: Head, settled: Settled) -> Done | Retry | None:
        """One try of the head. Each try is written ahead (``since`` set in the head before
        the send), so a try after a crash in flight knows to ask the vendor; a message the
        vendor took is never sent again, even when removing its entry failed."""
        entry: OutboundEntry = head.entry()
        message_id = entry["message"]["id"]
        if message_id in self._handed_over:
            return Done(then=lambda: self._forget_handed_over(message_id))
        unsure = await self._unsure(cid, entry)
        if unsure is None:  # written ahead: a crash during this try leaves it unsure
            entry["since"] = time.time()
            if not await head.rewrite(entry):
                return None
        # an earlier try recorded as taken by the vendor lost only its entry's removal
        result = unsure if isinstance(unsure, Result) else await self._send(cid, entry, unsure)
        if isinstance(result, DeliveryError):
            if not (result.maybe_sent or unsure is not None):
                entry.pop("since", None)  # nothing was sent: the next try need not ask
            return Retry(result.detail, result.retry_after, result.code, entry)
        return self._settled(cid, entry, result, settled)

    def _settled(self, cid: str, entry: OutboundEntry, result: Result, settled: Settled) -> Done:
        message_id = entry["message"]["id"]
        settled[message_id] = result
        self._handed_over.add(message_id)  # settled: never sent again

        async def then() -> None:
            self._handed_over.discard(message_id)
            await self._report(cid, entry, result)

        return Done(then=then)

    async def _forget_handed_over(self, message_id: str) -> None:
        self._handed_over.discard(message_id)

    async def _unsure(self, cid: str, entry: OutboundEntry) -> Unsure | Result | None:
        """What the next try must know of an earlier one.

        See :func:`bot.delivery.attempt.unsure_of`.
        """
        if "since" not in entry:
            return None
        return unsure_of(entry, await self._deliveries.records(cid))

    async def _send(
        self, cid: str, entry: OutboundEntry, unsure: Unsure | None
    ) -> Result | DeliveryError:
        """One try of an entry: its result, or the error to retry."""
        to, message = Address(*entry["to"]), Message.from_dict(entry["message"])
        attempt = entry["attempts"] + 1
        sender = self._senders.get(to.channel)
        if sender is None:
            return await self._log.dead(cid, to, message, f"no connector for {to.channel!r}", 0)
        if self._may_opt_out(to) and await self._consent.opted_out(to):
            await self._log.record(cid, to, message, "suppressed", 0, error="opted out")
            return self._log.count(to, Result.SUPPRESSED)
        sent = await try_once(sender, to, message, unsure)
        if not isinstance(sent, DeliveryError):
            self._handed_over.add(message.id)  # whatever fails from here, never send it again
            if sent is not None:
                await self._log.sent(cid, to, message, sent, attempt)
            return self._log.count(to, Result.SENT)
        if sent.permanent:
            return await self._log.failed(cid, to, message, sent, attempt)
        return sent

    def _may_opt_out(self, to: Address) -> bool:
        return self._opt_out_channels is None or to.channel in self._opt_out_channels

    async def _report(self, cid: str, entry: OutboundEntry, result: Result) -> None:
        """Tell the agent when their reply did not reach the customer."""
        if result is Result.SENT or self._desk is None:
            return
        if entry["message"]["role"] != Role.AGENT.value:
            return
        notice = Message(
            role=Role.SYSTEM,
            text=self._undelivered.format(result=result.value, reason=UNDELIVERED_REASONS[result]),
        )
        await self._desk.push(cid, (post_job(notice),))
