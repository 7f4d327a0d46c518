"""The per-conversation queue on a real Redis (and Redis Cluster): order, one holder at a time
across processes, backoff kept in Redis, bounded tries, the sweeper."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from bot.storage.queue import (
    ConversationQueue,
    Done,
    DueIndex,
    Head,
    PendingSet,
    Retry,
    Schedule,
    Worked,
)
from tests.conftest import ON_SERVER_AND_CLUSTER, ClientFactory
from tests.support.polling import wait_until

pytestmark = ON_SERVER_AND_CLUSTER

INDEX = "test:due"
QueueFactory = Callable[..., ConversationQueue]


@pytest.fixture
def make_queue(new_client: ClientFactory, redis_client: aioredis.Redis) -> QueueFactory:
    """Queues on the test Redis; each one its own client (one per simulated process)."""

    def build(tries: int = 3, backoff_s: float = 0.0, index: str = "due") -> ConversationQueue:
        return ConversationQueue(
            new_client(),
            items="q",
            lock="qlock",
            index=DueIndex(INDEX) if index == "due" else PendingSet(INDEX),
            schedule=Schedule(tries, backoff_s, 60.0),
            lock_ttl_s=10.0,
            name="test",
        )

    return build


class Worker:
    """A policy that records what it tried and fails the first ``failures`` tries."""

    def __init__(self, failures: int = 0, after_s: float | None = None) -> None:
        self.failures = failures
        self.after_s = after_s
        self.tried: list[str] = []
        self.settled: list[str] = []
        self.dead: list[tuple[str, int, str]] = []

    async def attempt(self, head: Head) -> Done | Retry:
        name = head.entry()["n"]
        self.tried.append(name)
        if self.failures:
            self.failures -= 1
            return Retry("down", self.after_s, code=7)
        return Done(then=lambda: self._settle(name))

    async def _settle(self, name: str) -> None:
        self.settled.append(name)

    async def on_dead(self, head: Head, retry: Retry, attempts: int) -> Done:
        self.dead.append((head.entry()["n"], attempts, retry.detail))
        return Done()

    async def work(self, queue: ConversationQueue, cid: str = "c") -> Worked:
        return await queue.work(cid, self.attempt, self.on_dead)

    def work_cid(self, queue: ConversationQueue) -> Callable[[str], Awaitable[Worked]]:
        return lambda cid: self.work(queue, cid)


def entries(*names: str) -> list[str]:
    return [json.dumps({"n": name}) for name in names]


async def test_entries_are_worked_front_to_back_and_leave_the_index(
    make_queue: QueueFactory, redis_client: aioredis.Redis
) -> None:
    queue, worker = make_queue(), Worker()
    await queue.push("c", entries("a", "b", "c"))
    assert await queue.pending() == 1
    assert await worker.work(queue) is Worked.EMPTY
    assert worker.tried == worker.settled == ["a", "b", "c"]
    assert await redis_client.llen("conv:{c}:q") == 0
    assert await queue.pending() == 0


async def test_one_holder_at_a_time_across_processes(make_queue: QueueFactory) -> None:
    first, second = make_queue(), make_queue()
    await first.push("c", entries("a", "b"))
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow(head: Head) -> Done:
        inside.set()
        await release.wait()
        return Done()

    holding = asyncio.create_task(first.work("c", slow, Worker().on_dead))
    await inside.wait()
    other = Worker()
    assert await other.work(second) is Worked.BUSY  # the other process leaves it to the holder
    assert other.tried == []
    release.set()
    assert await holding is Worked.EMPTY
    assert await other.work(second) is Worked.EMPTY


@pytest.mark.parametrize("index", ["due", "set"])
async def test_a_failure_backs_off_in_redis_for_every_process(
    make_queue: QueueFactory, redis_client: aioredis.Redis, index: str
) -> None:
    failing, worker = make_queue(backoff_s=30.0, index=index), Worker(failures=1)
    await failing.push("c", entries("a", "b"))
    before = time.time()
    assert await worker.work(failing) is Worked.WAITING
    raw = await redis_client.lindex("conv:{c}:q", 0)
    assert raw is not None
    head = json.loads(raw)
    assert head["n"] == "a"
    assert head["attempts"] == 1
    assert before + 30.0 <= head["retry_at"] <= time.time() + 30.0
    if index == "due":
        assert await redis_client.zscore(INDEX, "c") == head["retry_at"]
    # a new process (or this one restarted) sees the backoff and does not try before it is due
    fresh_start = Worker()
    assert await fresh_start.work(make_queue(backoff_s=30.0, index=index)) is Worked.WAITING
    assert fresh_start.tried == []


async def test_the_other_sides_wait_is_honoured(
    make_queue: QueueFactory, redis_client: aioredis.Redis
) -> None:
    queue, worker = make_queue(), Worker(failures=1, after_s=2.5)
    await queue.push("c", entries("a"))
    before = time.time()
    assert await worker.work(queue) is Worked.WAITING
    due = await redis_client.zscore(INDEX, "c")
    assert due is not None
    assert before + 2.5 <= due <= time.time() + 2.5


async def test_after_the_last_try_the_dead_letter_hook_settles_it(
    make_queue: QueueFactory,
) -> None:
    queue, worker = make_queue(tries=3), Worker(failures=3)
    await queue.push("c", entries("a", "b"))
    assert await worker.work(queue) is Worked.WAITING
    assert await worker.work(queue) is Worked.WAITING
    assert worker.dead == []
    assert await worker.work(queue) is Worked.EMPTY  # third failure: dead, and the queue moves on
    assert worker.dead == [("a", 3, "down")]
    assert worker.tried == ["a", "a", "a", "b"]
    assert worker.settled == ["b"]


async def test_a_head_changed_meanwhile_is_read_again(
    make_queue: QueueFactory, redis_client: aioredis.Redis
) -> None:
    queue = make_queue()
    await queue.push("c", entries("a"))
    seen: list[str] = []

    async def attempt(head: Head) -> Done | None:
        seen.append(head.entry()["n"])
        if len(seen) == 1:
            await redis_client.lset("conv:{c}:q", 0, json.dumps({"n": "a2"}))
            assert not await head.rewrite({"n": "a", "since": 1.0})
            return None
        assert await head.rewrite({"n": "a2", "since": 1.0})
        return Done()

    assert await queue.work("c", attempt, Worker().on_dead) is Worked.EMPTY
    assert seen == ["a", "a2"]


async def test_the_sweeper_works_what_is_due(make_queue: QueueFactory) -> None:
    queue, worker = make_queue(backoff_s=0.05), Worker(failures=2)
    await queue.push("c", entries("a"))
    await queue.push("d", entries("b"))
    sweeper = queue.sweeper(worker.work_cid(queue), 0.01)
    try:
        await wait_until(lambda: sorted(worker.settled) == ["a", "b"])
    finally:
        sweeper.cancel()
    assert await queue.pending() == 0
