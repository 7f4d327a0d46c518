"""Fan-out of conversation events (new messages, state changes) to this process's listeners.

One Redis pub/sub connection per process carries the events of every conversation, whichever
process wrote them; listeners (open web chat sockets) register per conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import redis.asyncio as redis

from bot import background
from bot.events import RESYNC, Event, decode
from bot.storage.keys import EVENTS_PATTERN, conversation_of_channel

RECONNECT_DELAY_S = 1.0
QUEUE_LIMIT = 1000
START_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class EventHub:
    """Subscribes once to every conversation's events and routes them to local queues."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._listeners: defaultdict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Start listening; returns once the subscription is active."""
        self._task = asyncio.create_task(self._run(), name="event-hub")
        await asyncio.wait_for(self._ready.wait(), START_TIMEOUT_S)

    async def stop(self) -> None:
        """Stop listening."""
        await background.stop(self._task)

    @contextlib.contextmanager
    def listen(self, conversation_id: str) -> Iterator[asyncio.Queue[Event]]:
        """A queue receiving the conversation's events while the block runs."""
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
        self._listeners[conversation_id].add(queue)
        try:
            yield queue
        finally:
            listeners = self._listeners[conversation_id]
            listeners.discard(queue)
            if not listeners:
                del self._listeners[conversation_id]

    async def _run(self) -> None:
        while True:
            try:
                await self._client.ping()  # a cluster client learns its nodes on a first command
                async with self._client.pubsub() as pubsub:
                    await pubsub.psubscribe(EVENTS_PATTERN)
                    self._ready.set()
                    async for item in pubsub.listen():
                        self._route(item)
            except (redis.RedisError, OSError) as exc:
                log.warning("event subscription lost (%s); reconnecting", exc)
                for queues in self._listeners.values():  # events may be missed meanwhile
                    for queue in queues:
                        _replace_with_resync(queue)
                await asyncio.sleep(RECONNECT_DELAY_S)

    def _route(self, item: dict[str, Any]) -> None:
        if item.get("type") != "pmessage":
            return
        cid = conversation_of_channel(str(item["channel"]))
        if cid is None or cid not in self._listeners:
            return
        event = decode(str(item["data"]))
        if event is None:
            return
        for queue in self._listeners[cid]:
            if queue.full():
                log.warning("listener of %s fell behind; asking it to resync", cid)
                _replace_with_resync(queue)
            else:
                queue.put_nowait(event)


def _replace_with_resync(queue: asyncio.Queue[Event]) -> None:
    """Drop what the listener has not read and tell it to reload from history."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(RESYNC)
