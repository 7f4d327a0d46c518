"""The agent desk's work, kept in Redis until the desk has it.

Opening a ticket, posting a customer's later message into it and showing its new status are
tasks queued per conversation (``conv:{<cid>}:desk``) in the same order the conversation
produced them. Whoever holds the conversation's desk lock works the queue front to back; a
task leaves the queue only once the desk took it. While the desk (Slack) is down, the tasks
wait and are retried with backoff by a sweeper, so a customer's message is never blocked or
lost and the ticket catches up, in order, when the desk answers again. A task the desk refuses
for good (``DeliveryError(permanent=True)``) is dead-lettered and the queue moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal, NotRequired, TypedDict

import redis.asyncio as redis

from bot import background
from bot.contracts import AgentDesk, DeliveryError, Sent, TicketChange, TicketStatus, Unsure
from bot.delivery.records import Deliveries
from bot.desk.tickets import Tickets
from bot.models import Address, Message, MessageDict, State
from bot.storage.keys import DESK_PENDING_KEY, conversation_key
from bot.storage.scripts import POP_IF_HEAD
from bot.storage.store import Store

SWEEP_S = 1.0
BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
LOCK_TTL_S = 60.0
DESK_CHANNEL = "desk"  # dead letters of desk tasks are addressed to ("desk", ticket)

log = logging.getLogger(__name__)


class DeskTask(TypedDict):
    """One piece of work for the desk."""

    kind: Literal["open", "post", "update"]
    message: NotRequired[MessageDict]
    status: NotRequired[str]
    agent: NotRequired[str]
    at: NotRequired[float]
    ticket: NotRequired[str]


def open_task() -> DeskTask:
    """Open a ticket for the conversation (with its whole transcript)."""
    return {"kind": "open"}


def post_task(message: Message) -> DeskTask:
    """Add a customer's later message to the ticket."""
    return {"kind": "post", "message": message.to_dict()}


def update_task(change: TicketChange, ticket: str | None) -> DeskTask:
    """Show the ticket's new status; ``ticket`` names it when the conversation has moved on."""
    task: DeskTask = {"kind": "update", "status": change.status.value, "at": change.at}
    if change.agent:
        task["agent"] = change.agent
    if ticket:
        task["ticket"] = ticket
    return task


class DeskQueue:
    """Queues desk tasks in Redis and works them in order, retrying while the desk is down."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        tickets: Tickets,
        desk: AgentDesk,
        deliveries: Deliveries,
    ) -> None:
        self._redis = client
        self._store = store
        self._tickets = tickets
        self._desk = desk
        self._deliveries = deliveries
        self._retry_at: dict[str, tuple[int, float]] = {}  # cid -> (failures, next try)
        self._task: asyncio.Task[None] | None = None

    async def push(self, cid: str, tasks: Sequence[DeskTask]) -> None:
        """Queue ``tasks`` for conversation ``cid`` and try to hand them over now."""
        if not tasks:
            return
        await self._redis.sadd(DESK_PENDING_KEY, cid)  # first: a pending id with no work is fine
        await self._redis.rpush(conversation_key(cid, "desk"), *(json.dumps(t) for t in tasks))
        await self.drain(cid)

    async def drain(self, cid: str) -> bool:
        """Hand the queued tasks over in order; False when some are left for a retry."""
        failures, next_try = self._retry_at.get(cid, (0, 0.0))
        if time.monotonic() < next_try:
            return False
        lock = self._redis.lock(conversation_key(cid, "desklock"), timeout=LOCK_TTL_S)
        if not await lock.acquire(blocking=False):
            return False  # another worker is on it, in order
        try:
            done = await self._work(cid)
        finally:
            with contextlib.suppress(redis.RedisError):
                await lock.release()
        if done:
            self._retry_at.pop(cid, None)
        else:
            delay = min(BACKOFF_S * 2**failures, MAX_BACKOFF_S)
            self._retry_at[cid] = (failures + 1, time.monotonic() + delay)
        return done

    async def _work(self, cid: str) -> bool:
        queue = conversation_key(cid, "desk")
        # messages a ticket already shows in its opening transcript: a post queued for one of
        # them (its processing raced the ticket's opening) is not shown twice
        covered = set(await self._redis.smembers(conversation_key(cid, "shown")))
        while (raw := await self._redis.lindex(queue, 0)) is not None:
            task: DeskTask = json.loads(raw)
            try:
                if task.get("message", {}).get("id") not in covered:
                    covered |= await self._perform(cid, task)
            except DeliveryError as error:
                if not error.permanent:
                    log.warning(
                        "the desk is unavailable for %s (%s); will retry", cid, error.detail
                    )
                    return False
                await self._dead(cid, task, error.detail)
            except Exception:
                log.exception("desk task %s for %s failed; will retry", task["kind"], cid)
                return False
            await self._redis.eval(POP_IF_HEAD, 1, queue, raw)
        await self._redis.srem(DESK_PENDING_KEY, cid)
        if await self._redis.llen(queue):  # pushed meanwhile by another process
            await self._redis.sadd(DESK_PENDING_KEY, cid)
        return True

    async def _perform(self, cid: str, task: DeskTask) -> set[str]:
        """Hand one task to the desk; the ids of the messages a ticket it opened shows."""
        conversation = await self._store.load(cid)
        if task["kind"] == "update":
            ticket = task.get("ticket") or conversation.ticket
            if ticket is not None:
                change = TicketChange(
                    TicketStatus(task["status"]), task.get("agent"), task.get("at", 0.0)
                )
                customer = await self._store.customer(cid)
                await self._desk.update_ticket(
                    ticket, replace(conversation, customer=customer), change
                )
        elif conversation.ticket is not None and task["kind"] == "post":
            await self._desk.post(conversation.ticket, Message.from_dict(task["message"]))
        elif conversation.ticket is None and conversation.state is not State.BOT:
            # an open task, or a post whose ticket could not be opened yet: the new ticket's
            # transcript holds every message so far
            reason = conversation.escalation.reason if conversation.escalation else "escalated"
            # the ticket is headed by who the customer is and every address they use
            customer = await self._store.customer(cid)
            ticket = await self._desk.open_ticket(replace(conversation, customer=customer), reason)
            await self._tickets.bind_ticket(ticket, cid)
            await self._store.record(cid, meta={"ticket": ticket})
            shown = {message.id for message in conversation.messages}
            if shown:
                key = conversation_key(cid, "shown")
                pipe = self._redis.pipeline(transaction=True)
                pipe.sadd(key, *shown)
                pipe.expire(key, self._store.ttl_s)
                await pipe.execute()
            return shown
        return set()

    async def _dead(self, cid: str, task: DeskTask, error: str) -> None:
        log.error("the desk refused a %s task of %s: %s", task["kind"], cid, error)
        if "message" in task:
            message = task["message"]
            await self._deliveries.dead_letter(
                {
                    "id": message["id"],
                    "conversation": cid,
                    "to": [DESK_CHANNEL, cid],
                    "message": message,
                    "error": error,
                    "failed_at": time.time(),
                }
            )

    async def start(self) -> None:
        """Start the sweeper that retries queued work (of this process and of dead ones)."""
        self._task = asyncio.create_task(self._sweep(), name="desk-sweeper")

    async def stop(self) -> None:
        """Stop the sweeper."""
        await background.stop(self._task)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                for cid in await self._redis.smembers(DESK_PENDING_KEY):
                    await self.drain(str(cid))
            except (redis.RedisError, OSError) as exc:
                log.warning("desk sweep failed: %s", exc)

    async def send(
        self, to: Address, message: Message, unsure: Unsure | None = None
    ) -> Sent | None:
        """Queue ``message`` for the ticket of conversation ``to.id`` (a dead letter's replay)."""
        await self.push(to.id, (post_task(message),))
        return None
