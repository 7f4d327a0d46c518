"""The work streams on a real Redis (one server, and a cluster): a backlog on one channel does not
hold up another's few entries; a dead consumer's entries are claimed on every stream; the single
``work`` stream of earlier versions is read until it is empty."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.crc import key_slot

from bot.pipeline.lanes import Lanes, queued_work
from bot.storage.keys import (
    LEGACY_WORK_STREAM,
    WORK_FIELD,
    WORK_GROUP,
    WORK_STREAMS,
    work_stream,
)
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER

VISIBILITY_MS = 250  # long enough for a loaded machine to claim nothing too early
SMS, WEBCHAT = work_stream("sms"), work_stream("webchat")


async def queue(client: aioredis.Redis, stream: str, cids: list[str]) -> None:
    for cid in cids:
        await client.xadd(stream, {WORK_FIELD: cid})


async def read_all(lanes: Lanes, room: int) -> list[str]:
    """The conversations of every entry, in the order reads give them, ``room`` at a time."""
    order: list[str] = []
    while batch := await lanes.read(room, block_ms=10):
        order += [cid for _, cid in batch]
    return order


async def test_every_channel_has_its_stream_in_one_slot(redis_client: aioredis.Redis) -> None:
    assert (work_stream("webchat"), work_stream("sms")) == WORK_STREAMS[:2]
    assert work_stream("slack") == work_stream("test") == WORK_STREAMS[2]  # the rest share one
    slots = {key_slot(key.encode()) for key in (*WORK_STREAMS, LEGACY_WORK_STREAM)}
    assert len(slots) == 1  # one XREADGROUP names them all, on Redis Cluster too
    lanes = Lanes(redis_client, "reader", VISIBILITY_MS)
    await lanes.join()
    assert await lanes.read(10, block_ms=10) == []


async def test_a_backlog_on_one_channel_does_not_hold_up_another(
    redis_client: aioredis.Redis,
) -> None:
    backlog = [f"sms-{i}" for i in range(30)]
    few = [f"web-{i}" for i in range(3)]
    await queue(redis_client, SMS, backlog)
    await queue(redis_client, WEBCHAT, few)  # last in: first come first served takes them last
    lanes = Lanes(redis_client, "reader", VISIBILITY_MS)
    await lanes.join()
    room = 2
    order = await read_all(lanes, room)
    assert sorted(order) == sorted(backlog + few)  # each entry once
    assert max(order.index(cid) for cid in few) < 3 * room  # among the first reads
    assert [cid for cid in order if cid in backlog] == backlog  # a channel's own order kept


async def test_a_dead_consumers_entries_are_claimed_on_every_stream(
    redis_client: aioredis.Redis,
) -> None:
    await queue(redis_client, SMS, ["a", "b"])
    await queue(redis_client, WEBCHAT, ["c"])
    dead = Lanes(redis_client, "dead", VISIBILITY_MS)
    await dead.join()
    taken = await dead.read(10, block_ms=10)
    assert sorted(cid for _, cid in taken) == ["a", "b", "c"]  # then it dies, acknowledging none
    live = Lanes(redis_client, "live", VISIBILITY_MS)
    await live.join()
    assert await live.claim_stale(10, set()) == []  # not idle long enough yet
    await asyncio.sleep(2 * VISIBILITY_MS / 1000)
    held = {taken[0][0]}  # one the live consumer would hold itself: never claimed
    claimed = await live.claim_stale(10, held)
    assert sorted(claimed) == sorted(taken[1:])
    assert {entry.stream for entry, _ in claimed} | {taken[0][0].stream} == {SMS, WEBCHAT}
    assert await live.claim_stale(10, held) == []  # those claimed are fresh for a while
    await live.ack(entry for entry, _ in taken)
    assert await queued_work(redis_client) == 0


async def test_handed_back_entries_are_claimed_at_once(redis_client: aioredis.Redis) -> None:
    await queue(redis_client, SMS, ["a"])
    await queue(redis_client, WEBCHAT, ["b"])
    leaving = Lanes(redis_client, "leaving", 10_000)
    await leaving.join()
    taken = await leaving.read(10, block_ms=10)
    await leaving.hand_back(entry for entry, _ in taken)
    staying = Lanes(redis_client, "staying", 10_000)
    assert sorted(await staying.claim_stale(10, set())) == sorted(taken)


async def test_kept_entries_are_not_claimed_by_others(redis_client: aioredis.Redis) -> None:
    await queue(redis_client, WEBCHAT, ["a"])
    slow = Lanes(redis_client, "slow", VISIBILITY_MS)
    await slow.join()
    taken = await slow.read(10, block_ms=10)
    await asyncio.sleep(2 * VISIBILITY_MS / 1000)
    await slow.keep([entry for entry, _ in taken])
    other = Lanes(redis_client, "other", VISIBILITY_MS)
    assert await other.claim_stale(10, set()) == []


async def test_the_old_single_stream_is_read_until_empty(redis_client: aioredis.Redis) -> None:
    # as an earlier version left it: its group, an entry an old process read and died with,
    # and one nobody read yet
    await redis_client.xgroup_create(LEGACY_WORK_STREAM, WORK_GROUP, id="0", mkstream=True)
    await queue(redis_client, LEGACY_WORK_STREAM, ["old-read", "old-new"])
    await redis_client.xreadgroup(WORK_GROUP, "old", {LEGACY_WORK_STREAM: ">"}, count=1)
    await queue(redis_client, SMS, ["new"])
    assert await queued_work(redis_client) == 3
    lanes = Lanes(redis_client, "upgraded", VISIBILITY_MS)
    await lanes.join()
    assert LEGACY_WORK_STREAM in lanes.streams
    read = await lanes.read(10, block_ms=10)
    assert sorted(cid for _, cid in read) == ["new", "old-new"]
    await asyncio.sleep(2 * VISIBILITY_MS / 1000)
    claimed = await lanes.claim_stale(10, {entry for entry, _ in read})
    assert claimed == [(claimed[0][0], "old-read")]
    assert claimed[0][0].stream == LEGACY_WORK_STREAM
    await lanes.ack(entry for entry, _ in read + claimed)
    await lanes.refresh()
    assert LEGACY_WORK_STREAM not in lanes.streams  # empty: no longer read
    await queue(redis_client, LEGACY_WORK_STREAM, ["late"])  # a front not yet upgraded
    await lanes.refresh()
    assert [cid for _, cid in await lanes.read(10, block_ms=10)] == ["late"]


async def test_a_deleted_stream_is_joined_again(redis_client: aioredis.Redis) -> None:
    lanes = Lanes(redis_client, "reader", VISIBILITY_MS)
    await lanes.join()
    await redis_client.delete(SMS)  # its group with it
    assert await lanes.read(10, block_ms=10) == []
    await queue(redis_client, SMS, ["a"])
    assert [(entry.stream, cid) for entry, cid in await lanes.read(10, block_ms=10)] == [(SMS, "a")]
