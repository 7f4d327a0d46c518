"""The event hub: one subscription per process, events routed to a conversation's listeners."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bot.events import RESYNC
from bot.models import Message, Role, State
from bot.storage import hub as hub_module
from bot.storage.hub import EventHub
from bot.storage.store import Store


async def test_events_from_another_process_reach_local_listeners(
    redis_url: str, redis_client: aioredis.Redis, store: Store
) -> None:
    hub = EventHub(redis_client)
    await hub.start()
    other = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        with hub.listen("c1") as mine, hub.listen("c2") as theirs:
            message = Message(role=Role.AGENT, text="hi", author="Dana")
            await Store(other).record("c1", (message,), {"state": State.AGENT})
            first = await asyncio.wait_for(mine.get(), 2)
            second = await asyncio.wait_for(mine.get(), 2)
            assert first == {"type": "message", "message": message.to_dict()}
            assert second == {"type": "state", "state": "agent"}
            assert theirs.empty()
    finally:
        await other.aclose()
        await hub.stop()


async def test_a_listener_that_falls_behind_is_told_to_resync(
    redis_client: aioredis.Redis, store: Store, monkeypatch: object
) -> None:
    hub = EventHub(redis_client)
    await hub.start()
    try:
        with hub.listen("c") as queue:
            for i in range(hub_module.QUEUE_LIMIT + 1):
                hub._route(
                    {
                        "type": "pmessage",
                        "channel": "conv:{c}:events",
                        "data": f'{{"type": "state", "state": "{i}"}}',
                    }
                )
            assert queue.get_nowait() == RESYNC
    finally:
        await hub.stop()
