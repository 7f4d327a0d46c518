"""What a queue entry keeps of its tries: the head's guarded rewrite on a real Redis, the retry
schedule, and an entry made fresh."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from bot.storage.entries import Head, Schedule, fresh
from bot.storage.scripts import REPLACE_HEAD

KEY = "conv:{c}:q"


async def read_head(client: aioredis.Redis) -> Head:
    raw = await client.lindex(KEY, 0)
    assert raw is not None
    return Head(client.register_script(REPLACE_HEAD), KEY, "c", str(raw))


async def test_a_head_reads_its_tries_and_is_rewritten_only_while_it_is_the_head(
    redis_client: aioredis.Redis,
) -> None:
    await redis_client.rpush(KEY, json.dumps({"n": "a", "attempts": 2, "retry_at": 5.0}), "{}")
    head = await read_head(redis_client)
    assert (head.attempts, head.retry_at) == (2, 5.0)
    assert await head.rewrite({"n": "a", "attempts": 3})
    assert (head.attempts, head.retry_at) == (3, 0.0)
    assert json.loads(str(await redis_client.lindex(KEY, 0))) == {"n": "a", "attempts": 3}
    await redis_client.lpop(KEY)  # settled meanwhile by another holder
    assert not await head.rewrite({"n": "a", "attempts": 4})
    assert await redis_client.lrange(KEY, 0, -1) == ["{}"]  # the next entry is untouched


def test_the_backoff_doubles_up_to_its_cap_unless_the_other_side_named_a_wait() -> None:
    schedule = Schedule(tries=5, backoff_s=0.5, max_backoff_s=3.0)
    assert [schedule.delay(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    assert schedule.delay(1, 2.5) == 2.5
    assert schedule.delay(1, 60.0) == 3.0


def test_a_fresh_entry_forgets_its_tries() -> None:
    raw = json.dumps({"n": "a", "attempts": 4, "retry_at": 9.0})
    assert json.loads(fresh(raw)) == {"n": "a"}
