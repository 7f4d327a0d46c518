"""The agent desk's work, kept in Redis until the desk has it.

Opening a ticket, posting a customer's later message into it and showing its new status are
jobs queued per conversation (``conv:{<cid>}:desk``) in the same order the conversation produced
them. The queue is a :class:`~bot.storage.queue.ConversationQueue` (this module is its policy):
whoever holds the conversation's desk lock works it front to back, and a job leaves it only once
the desk took it. While the desk (Slack) is down, the jobs wait and a sweeper retries them with
backoff, kept in the head job in Redis (every process sees it, a restart keeps it), so a
customer's message is never blocked or lost and the ticket catches up, in order, when the desk
answers again. A job the desk refuses for good (``DeliveryError(permanent=True)``), or that
still fails after ``TRIES`` tries (about six hours of an outage), is dead-lettered and the queue
moves on: it is kept in the outbox's dead-letter list addressed to ``desk``, where ``omnibot
outbox list`` shows it and ``omnibot outbox replay`` queues it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal, NotRequired, TypedDict

import redis.asyncio as redis

from bot import background
from bot.contracts import AgentDesk, DeliveryError, TicketChange, TicketStatus
from bot.delivery.records import DeadLetter, Deliveries
from bot.desk.tickets import Tickets
from bot.models import Message, MessageDict, Role, State
from bot.storage.keys import DESK_PENDING_KEY, conversation_key
from bot.storage.queue import (
    ConversationQueue,
    Done,
    Head,
    PendingSet,
    Retry,
    Schedule,
    Worked,
    fresh,
)
from bot.storage.store import Store

SWEEP_S = 1.0
BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# Slack's worst outages last hours: 1 + 2 + 4 + 8 + 16 s, then a try every 30 s, is about six
# hours before a job is given up on (and kept as a dead letter)
TRIES = 725
LOCK_TTL_S = 60.0
DESK_CHANNEL = "desk"  # dead letters of desk jobs are addressed to ("desk", <cid>)

log = logging.getLogger(__name__)


class DeskJob(TypedDict):
    """One piece of work for the desk; ``attempts`` and ``retry_at``: its failed tries and
    backoff (kept by :mod:`bot.storage.queue`)."""

    kind: Literal["open", "post", "update"]
    message: NotRequired[MessageDict]
    status: NotRequired[str]
    agent: NotRequired[str]
    at: NotRequired[float]
    ticket: NotRequired[str]
    attempts: NotRequired[int]
    retry_at: NotRequired[float]


def open_job() -> DeskJob:
    """Open a ticket for the conversation (with its whole transcript)."""
    return {"kind": "open"}


def post_job(message: Message) -> DeskJob:
    """Add a customer's later message to the ticket."""
    return {"kind": "post", "message": message.to_dict()}


def update_job(change: TicketChange, ticket: str | None) -> DeskJob:
    """Show the ticket's new status; ``ticket`` names it when the conversation has moved on."""
    job: DeskJob = {"kind": "update", "status": change.status.value, "at": change.at}
    if change.agent:
        job["agent"] = change.agent
    if ticket:
        job["ticket"] = ticket
    return job


def desk_queue(
    client: redis.Redis, tries: int = TRIES, backoff_s: float = BACKOFF_S
) -> ConversationQueue:
    """The conversations' desk queues (keys as :mod:`bot.storage.keys` lists them)."""
    return ConversationQueue(
        client,
        items="desk",
        lock="desklock",
        index=PendingSet(DESK_PENDING_KEY),
        schedule=Schedule(tries, backoff_s, MAX_BACKOFF_S),
        lock_ttl_s=LOCK_TTL_S,
        name="desk",
    )


def job_of(dead: DeadLetter) -> str:
    """The job a desk dead letter gave up on, as new (an old letter has only its message)."""
    if "job" in dead:
        return fresh(dead["job"])
    return json.dumps(post_job(Message.from_dict(dead["message"])))


async def requeue(client: redis.Redis, dead: DeadLetter) -> None:
    """Queue a desk dead letter's job again, for a running service's desk sweeper."""
    await desk_queue(client).push(dead["conversation"], [job_of(dead)])


class DeskQueue:
    """Queues desk jobs in Redis and works them in order, retrying while the desk is down."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        tickets: Tickets,
        desk: AgentDesk,
        deliveries: Deliveries,
        tries: int = TRIES,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        self._redis = client
        self._store = store
        self._tickets = tickets
        self._desk = desk
        self._deliveries = deliveries
        self._queue = desk_queue(client, tries, backoff_s)
        self._sweeper: asyncio.Task[None] | None = None

    async def push(self, cid: str, jobs: Sequence[DeskJob]) -> None:
        """Queue ``jobs`` for conversation ``cid`` and try to hand them over now."""
        if jobs:
            await self._queue.push(cid, [json.dumps(job) for job in jobs])
            await self.work(cid)

    async def replay(self, dead: DeadLetter) -> bool:
        """Queue a dead letter's job again and try to hand it over now (True: the queue
        emptied)."""
        await self._queue.push(dead["conversation"], [job_of(dead)])
        return await self.work(dead["conversation"])

    async def work(self, cid: str) -> bool:
        """Hand the queued jobs over in order; False when some are left for a retry (or
        another process is working them)."""
        # messages a ticket already shows in its opening transcript: a post queued for one of
        # them (its processing raced the ticket's opening) is not shown twice
        covered: set[str] | None = None

        async def attempt(head: Head) -> Done | Retry:
            nonlocal covered
            if covered is None:
                shown = await self._redis.smembers(conversation_key(cid, "shown"))
                covered = {str(message_id) for message_id in shown}
            job: DeskJob = head.entry()
            try:
                if job.get("message", {}).get("id") not in covered:
                    covered |= await self._perform(cid, job)
            except DeliveryError as error:
                if not error.permanent:
                    return Retry(f"the desk is unavailable: {error.detail}", error.retry_after)
                await self._dead(cid, head.raw, f"refused: {error.detail}")
            except Exception as exc:
                log.exception("desk job %s for %s failed; will retry", job["kind"], cid)
                return Retry(repr(exc))
            return Done()

        async def dead(head: Head, retry: Retry, attempts: int) -> Done:
            await self._dead(cid, head.raw, f"gave up after {attempts} tries: {retry.detail}")
            return Done()

        return await self._queue.work(cid, attempt, dead) is Worked.EMPTY

    async def _perform(self, cid: str, job: DeskJob) -> set[str]:
        """Hand one job to the desk; the ids of the messages a ticket it opened shows."""
        conversation = await self._store.load(cid)
        if job["kind"] == "update":
            ticket = job.get("ticket") or conversation.ticket
            if ticket is not None:
                change = TicketChange(
                    TicketStatus(job["status"]), job.get("agent"), job.get("at", 0.0)
                )
                customer = await self._store.customer(cid)
                await self._desk.update_ticket(
                    ticket, replace(conversation, customer=customer), change
                )
        elif conversation.ticket is not None and job["kind"] == "post":
            await self._desk.post(conversation.ticket, Message.from_dict(job["message"]))
        elif conversation.ticket is None and conversation.state is not State.BOT:
            # an open job, or a post whose ticket could not be opened yet: the new ticket's
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

    async def _dead(self, cid: str, raw: str, error: str) -> None:
        """Keep a job the desk did not take where operators see and replay it."""
        job: DeskJob = json.loads(raw)
        log.error("a desk %s job of %s is dead-lettered: %s", job["kind"], cid, error)
        message = job.get("message") or Message(role=Role.SYSTEM, text=_describe(job)).to_dict()
        await self._deliveries.dead_letter(
            {
                "id": message["id"],
                "conversation": cid,
                "to": [DESK_CHANNEL, cid],
                "message": message,
                "error": error,
                "failed_at": time.time(),
                "job": fresh(raw),
            }
        )

    async def start(self) -> None:
        """Start the sweeper that retries queued work (of this process and of dead ones)."""
        self._sweeper = self._queue.sweeper(self.work, SWEEP_S)

    async def stop(self) -> None:
        """Stop the sweeper."""
        await background.stop(self._sweeper)


def _describe(job: DeskJob) -> str:
    """What a job without a message was, for the dead-letter list."""
    if job["kind"] == "update":
        return f"(desk job: show the ticket as {job.get('status')})"
    return f"(desk job: {job['kind']} a ticket)"
