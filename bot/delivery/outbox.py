"""Outbound delivery to customers, durable in Redis: in order, retried, dead-lettered.

A message for a channel that needs a vendor call (SMS; web chat delivery is the event stream)
is queued as an entry of ``conv:{<cid>}:outbox`` in the same write that stores it
(:meth:`Outbox.say`), so a crash cannot lose it. Whoever holds the conversation's send lock
works that queue front to back (so messages to one customer leave in order): the process that
stored the message at once, or any process's sweeper when its next try is due (after a crash,
or after a failure's backoff). The queue is a :class:`~bot.storage.queue.ConversationQueue`;
its policy (what a try is, which errors are retried, what a dead letter is) is
:mod:`bot.delivery.tries`.
Rate limits, vendor errors and network failures are retried with backoff (honouring the
vendor's Retry-After), across restarts; errors that cannot succeed (an invalid or unsubscribed
number) are not. Every send is recorded (:mod:`bot.delivery.records`); a message that still
fails after ``ATTEMPTS`` tries is logged and kept in the dead-letter list, never silently
dropped. Nothing is sent to an address that opted out. An agent's reply that does not reach
the customer is reported in the agent's ticket.

The vendors here take no idempotency key, so each try is written ahead (the entry's ``since``):
a try after one whose outcome is unknown (its process died in flight, or the vendor's answer
never came) passes :class:`~bot.contracts.Unsure` to the sender, which asks the vendor what it
took before sending (Twilio: the messages to that number since then). When Redis fails after
the vendor took a message, the process remembers it and removes its entry without a second try.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum

import redis.asyncio as redis

from bot import background
from bot.contracts import Sender
from bot.delivery.attempt import OutboundEntry
from bot.delivery.consent import Consent
from bot.delivery.log import DeliveryLog, Result
from bot.delivery.records import DeadLetter, Deliveries
from bot.delivery.tries import Settled, Tries
from bot.desk.queue import DESK_CHANNEL, DeskQueue, requeue
from bot.insight.journal import JournalEvent
from bot.metrics import Metrics
from bot.models import Address, Message
from bot.storage.codec import MetaUpdate
from bot.storage.keys import OUTBOX_DUE_KEY
from bot.storage.lock import ConversationLock
from bot.storage.queue import ConversationQueue, Done, DueIndex, Head, Retry, Schedule
from bot.storage.store import Store
from bot.texts import Texts

ATTEMPTS = 12
BACKOFF_S = 0.5
# 12 tries ride out a vendor outage of over a minute, and a vendor back is used within 10 s
MAX_BACKOFF_S = 10.0
SEND_LOCK_TTL_S = 20.0  # longer than one send with its HTTP timeouts
SWEEP_S = 0.5
MAX_SENDING = 16  # conversations this process sends for at once

log = logging.getLogger(__name__)

__all__ = ["ATTEMPTS", "Outbox", "Replay", "Result"]


class Replay(StrEnum):
    """What replaying a dead letter did (:meth:`Outbox.replay`)."""

    SENT = "sent"
    FAILED = "failed"  # the vendor refused it for good
    SUPPRESSED = "suppressed"  # the address opted out
    DEAD = "dead"  # failed again (or no sender for its channel): a dead letter again
    QUEUED = "queued"  # back in the outbox; the sweeper sends it on its next try
    NOT_FOUND = "not_found"  # no dead letter has that id


class Outbox:
    """Queues messages for customers' channels in Redis and sends them, in order."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        deliveries: Deliveries,
        senders: Mapping[str, Sender],
        metrics: Metrics,
        backoff_s: float = BACKOFF_S,
        opt_out_channels: Collection[str] | None = None,
        desk: DeskQueue | None = None,
        sweep_s: float | None = None,
        texts: Texts | None = None,
    ) -> None:
        """``senders``: the channels that need a vendor call; ``opt_out_channels`` lists those
        whose customers can opt out (SMS; None: every channel); ``desk`` hears of agents'
        replies that were not delivered (told with ``texts.undelivered``)."""
        self._redis = client
        self._store = store
        self._deliveries = deliveries
        self._senders = senders
        self._desk = desk
        undelivered = (texts or Texts()).undelivered
        delivery_log = DeliveryLog(deliveries, metrics)
        self._tries = Tries(
            deliveries, delivery_log, Consent(client), senders, opt_out_channels, desk, undelivered
        )
        self._sweep_s = sweep_s
        self._queue = ConversationQueue(
            client,
            items="outbox",
            lock="sendlock",
            index=DueIndex(OUTBOX_DUE_KEY),
            schedule=Schedule(ATTEMPTS, backoff_s, MAX_BACKOFF_S),
            lock_ttl_s=SEND_LOCK_TTL_S,
            name="outbox",
        )
        self._sending: dict[str, asyncio.Task[dict[str, Result]]] = {}
        self._slots = asyncio.Semaphore(MAX_SENDING)
        self._sweeper: asyncio.Task[None] | None = None

    async def say(
        self,
        cid: str,
        to: Address | None,
        messages: Sequence[Message],
        meta: MetaUpdate | None = None,
        private: Sequence[tuple[Address, Message]] = (),
        fence: ConversationLock | None = None,
        events: Sequence[JournalEvent] = (),
    ) -> None:
        """Store ``messages`` (and ``meta``) and queue them for ``to``, in one write;
        ``private`` messages are queued for their address without entering the history (a
        verification code, a sign-in link: for the holder of that address only); ``fence``:
        the conversation's lock the caller holds, ``events`` the journal's events of the
        change (:meth:`Store.record`)."""
        entries = self.entries(to, messages)
        for address, message in private:
            entries += self.entries(address, (message,))
        await self._store.record(cid, messages, meta, outbound=entries, fence=fence, events=events)
        if entries:
            self.kick(cid)

    def entries(self, to: Address | None, messages: Sequence[Message]) -> list[str]:
        """The outbound entries of ``messages`` for ``to`` (none for a channel whose delivery
        is the event stream)."""
        if to is None or to.channel not in self._senders:
            return []
        return [
            json.dumps(OutboundEntry(to=[to.channel, to.id], message=m.to_dict(), attempts=0))
            for m in messages
        ]

    def kick(self, cid: str) -> asyncio.Task[dict[str, Result]]:
        """Work the conversation's queue now (in a task; joined when one is running)."""
        running = self._sending.get(cid)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(self._bounded(cid), name=f"send-{cid}")
        self._sending[cid] = task
        task.add_done_callback(lambda _: self._forget(cid, task))
        return task

    def _forget(self, cid: str, task: asyncio.Task[dict[str, Result]]) -> None:
        if self._sending.get(cid) is task:
            del self._sending[cid]

    async def _bounded(self, cid: str) -> dict[str, Result]:
        async with self._slots:
            try:
                return await self.work(cid)
            except (redis.RedisError, OSError) as exc:
                log.warning("sending for %s stopped (%s); the sweeper retries", cid, exc)
            except Exception:
                log.exception("sending for %s failed; the sweeper retries", cid)
            return {}

    async def work(self, cid: str) -> dict[str, Result]:
        """Send the queued messages in order until the queue is empty or a send must wait;
        what became of each message settled (nothing when another process is sending)."""
        settled: Settled = {}

        async def attempt(head: Head) -> Done | Retry | None:
            return await self._tries.attempt(cid, head, settled)

        async def dead(head: Head, retry: Retry, attempts: int) -> Done:
            return await self._tries.dead(cid, head, retry, attempts, settled)

        await self._queue.work(cid, attempt, dead)
        return settled

    async def replay(self, message_id: str) -> Replay:
        """Queue a dead-lettered message again and try it now: sent, refused, dead again,
        queued for a later try (the vendor asked to wait), or not found."""
        entry = await self._deliveries.take_dead_letter(message_id)
        if entry is None:
            return Replay.NOT_FOUND
        if entry["to"][0] == DESK_CHANNEL:
            return await self._replay_desk_job(entry)
        to, message = Address(*entry["to"]), Message.from_dict(entry["message"])
        await self._store.record(entry["conversation"], outbound=self.entries(to, (message,)))
        settled = await self.kick(entry["conversation"])
        result = settled.get(message_id)
        return Replay.QUEUED if result is None else Replay(result.value)

    async def _replay_desk_job(self, entry: DeadLetter) -> Replay:
        """A desk job goes back in its conversation's desk queue: handed to the desk now when
        this process has one, else by a running service's desk sweeper."""
        if self._desk is None:
            await requeue(self._redis, entry)
            return Replay.QUEUED
        return Replay.SENT if await self._desk.replay(entry) else Replay.QUEUED

    async def pending(self) -> int:
        """Conversations with outbound messages not yet settled, of every process."""
        return await self._queue.pending()

    async def settle(self, timeout_s: float = SEND_LOCK_TTL_S) -> None:
        """Wait for this process's sends in progress (a graceful stop; tests)."""
        while running := [task for task in self._sending.values() if not task.done()]:
            done, _ = await asyncio.wait(running, timeout=timeout_s)
            if not done:
                return

    async def start(self) -> None:
        """Start the sweeper that sends what is due (retries, and work of dead processes)."""
        self._sweeper = self._queue.sweeper(self._kick, self._sweep_every, MAX_SENDING)

    async def stop(self) -> None:
        """Stop the sweeper and wait for sends in progress."""
        await background.stop(self._sweeper)
        await self.settle(SEND_LOCK_TTL_S / 4)

    async def _kick(self, cid: str) -> None:
        self.kick(cid)

    def _sweep_every(self) -> float:
        return SWEEP_S if self._sweep_s is None else self._sweep_s
