"""The desk's queue on a real Redis: its backoff is kept in Redis (a new process sees it), and a
job is dead-lettered after the bound, where it stays visible and replayable."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from bot.delivery.outbox import Outbox, Replay
from bot.delivery.records import Deliveries
from bot.desk.queue import DESK_CHANNEL, DeskQueue, open_job, post_job
from bot.desk.tickets import Tickets
from bot.metrics import Metrics
from bot.models import Message, Role, State
from bot.storage.keys import DESK_PENDING_KEY, conversation_key
from bot.storage.store import Store
from tests.conftest import ClientFactory
from tests.support.fakes import FlakyDesk
from tests.support.queues import due_now

TRIES = 3


@pytest.fixture
def desk() -> FlakyDesk:
    return FlakyDesk(down=True)


async def waiting(store: Store) -> str:
    """A conversation waiting for an agent, with no ticket yet."""
    await store.record("c", (Message(role=Role.CUSTOMER, text="help"),), {"state": State.WAITING})
    return "c"


def queue_of(
    client: aioredis.Redis, desk: FlakyDesk, deliveries: Deliveries, backoff_s: float = 0.0
) -> DeskQueue:
    """A desk queue of one process (its own client)."""
    store, tickets = Store(client), Tickets(client)
    return DeskQueue(client, store, tickets, desk, deliveries, tries=TRIES, backoff_s=backoff_s)


async def test_the_backoff_survives_a_new_desk_queue(
    new_client: ClientFactory,
    redis_client: aioredis.Redis,
    store: Store,
    deliveries: Deliveries,
    desk: FlakyDesk,
) -> None:
    cid = await waiting(store)
    await queue_of(new_client(), desk, deliveries, backoff_s=60.0).push(cid, (open_job(),))
    desk.down = False
    restarted = queue_of(new_client(), desk, deliveries, backoff_s=60.0)
    assert await restarted.work(cid) is False  # still backing off: the desk is not asked
    assert desk.tickets == {}
    await due_now(redis_client, cid, "desk")
    assert await restarted.work(cid) is True
    assert len(desk.tickets) == 1


async def test_a_job_is_dead_lettered_after_the_bound_and_replayed(
    redis_client: aioredis.Redis, store: Store, deliveries: Deliveries, desk: FlakyDesk
) -> None:
    cid = await waiting(store)
    queue = queue_of(redis_client, desk, deliveries)
    note = Message(role=Role.SYSTEM, text="a note for the agent")
    await queue.push(cid, (open_job(), post_job(note)))  # the first try
    for _ in range(TRIES - 2):
        assert await queue.work(cid) is False
    assert await deliveries.dead_letters() == []
    assert await queue.work(cid) is False  # the open job's last try: dead, then the post waits
    [dead] = await deliveries.dead_letters()
    assert (dead["conversation"], dead["to"]) == (cid, [DESK_CHANNEL, cid])
    assert "open" in dead["message"]["text"]
    assert f"after {TRIES} tries" in dead["error"]
    assert json.loads(dead["job"]) == {"kind": "open"}  # as new: its tries forgotten
    # replayed without a desk in this process (omnibot outbox replay): queued for the service
    cli = Outbox(redis_client, store, deliveries, {}, Metrics())
    assert await cli.replay(dead["id"]) is Replay.QUEUED
    assert await deliveries.dead_letters() == []
    assert await redis_client.sismember(DESK_PENDING_KEY, cid)
    desk.down = False
    await due_now(redis_client, cid, "desk")
    assert await queue.work(cid) is True
    [ticket] = desk.tickets
    assert [m.text for m in desk.tickets[ticket]] == ["help"]  # the post: shown by the opening
    assert await redis_client.llen(conversation_key(cid, "desk")) == 0


async def test_a_post_refused_for_good_is_replayed_through_the_desk(
    redis_client: aioredis.Redis, store: Store, deliveries: Deliveries, desk: FlakyDesk
) -> None:
    cid = await waiting(store)
    desk.down = False
    queue = queue_of(redis_client, desk, deliveries)
    await queue.push(cid, (open_job(),))
    [ticket] = desk.tickets
    await deliveries.dead_letter(  # as an older version kept it: no job, only the message
        {
            "id": "m1",
            "conversation": cid,
            "to": [DESK_CHANNEL, cid],
            "message": Message(role=Role.CUSTOMER, text="late", id="m1").to_dict(),
            "error": "refused",
            "failed_at": 1.0,
        }
    )
    outbox = Outbox(redis_client, store, deliveries, {}, Metrics(), desk=queue)
    assert await outbox.replay("m1") is Replay.SENT
    assert desk.tickets[ticket][-1].text == "late"
