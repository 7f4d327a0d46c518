"""The work streams, one per channel kind, read as one fair queue.

A customer's message queues its conversation's work on its channel's stream
(:func:`bot.storage.keys.work_stream`: web chat, SMS, and one for any other channel), so a
backlog on one channel never holds up another: one ``XREADGROUP`` names every stream and Redis
gives up to COUNT entries *of each*, and the entries are taken in turn, one of each stream at a
time. First come first served across channels made 64 web chat visitors wait 14 s behind an
SMS backlog (bench/README.md, issue 22).

The streams share one hash tag, so that call touches one Redis Cluster slot: the slot of the
single ``work`` stream of earlier versions too (a key without braces hashes as a whole), which
is read in the same call while it holds entries, so work queued before an upgrade, or by a
front process not yet upgraded, is still processed.

Every operation on entries (acknowledge, claim, keep, hand back) goes to each entry's own
stream: entry ids are only unique within a stream.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from itertools import chain, zip_longest
from typing import TYPE_CHECKING, NamedTuple

import redis.asyncio as redis
from redis.exceptions import ResponseError

from bot.storage.keys import LEGACY_WORK_STREAM, WORK_FIELD, WORK_GROUP, WORK_STREAMS

PENDING_PAGE = 100  # pending entries looked at per stream and round
HANDED_BACK_IDLE = 10  # a handed-back entry looks this many visibility timeouts idle


class Entry(NamedTuple):
    """One work entry: its stream and its id there."""

    stream: str
    id: str


Work = tuple[Entry, str]  # an entry and the conversation it is for
if TYPE_CHECKING:  # memoryview[int] exists for type checkers only
    StreamIds = list[int | bytes | str | memoryview[int]]  # ids as redis-py's XCLAIM wants them


class Lanes:
    """The work streams of one consumer in the group ``workers``."""

    def __init__(self, client: redis.Redis, consumer: str, visibility_ms: int) -> None:
        self._redis = client
        self._consumer = consumer
        self._visibility_ms = visibility_ms
        self.streams: list[str] = list(WORK_STREAMS)  # those read: the old one while it has work
        self._turn = 0  # which stream's entry is taken first, in turn

    async def join(self) -> None:
        """Join the consumer group on every stream (creating them), and on the old stream
        when it holds work."""
        for stream in WORK_STREAMS:
            await self._create_group(stream, mkstream=True)
        await self.refresh()

    async def refresh(self) -> None:
        """Read the old ``work`` stream while it holds entries (pending ones included)."""
        has_work = int(await self._redis.xlen(LEGACY_WORK_STREAM)) > 0
        reading = LEGACY_WORK_STREAM in self.streams
        if has_work and not reading:
            await self._create_group(LEGACY_WORK_STREAM, mkstream=False)
            self.streams.append(LEGACY_WORK_STREAM)
        elif reading and not has_work:
            self.streams.remove(LEGACY_WORK_STREAM)

    async def _create_group(self, stream: str, mkstream: bool) -> None:
        try:
            await self._redis.xgroup_create(stream, WORK_GROUP, id="0", mkstream=mkstream)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def read(self, room: int, block_ms: int) -> list[Work]:
        """New entries for about ``room`` conversations, fairly: up to ``room`` divided by the
        streams from each, one of each stream in turn (at most streams - 1 more than ``room``)."""
        count = max(1, math.ceil(room / len(self.streams)))
        reply: list[tuple[str, list[tuple[str, dict[str, str]]]]] | None
        try:
            reply = await self._redis.xreadgroup(  # type: ignore[assignment]
                WORK_GROUP,
                self._consumer,
                dict.fromkeys(self.streams, ">"),
                count=count,
                block=block_ms,
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.join()  # a stream was deleted (a flushed Redis): its group with it
            return []
        batches = [
            [(Entry(stream, entry_id), fields[WORK_FIELD]) for entry_id, fields in batch]
            for stream, batch in reply or []
        ]
        return self._in_turn(batches)

    def _in_turn(self, batches: list[list[Work]]) -> list[Work]:
        """One entry of each stream in turn, the first stream changing at each read."""
        if not batches:
            return []
        self._turn = (self._turn + 1) % len(batches)
        batches = batches[self._turn :] + batches[: self._turn]
        return [work for work in chain.from_iterable(zip_longest(*batches)) if work is not None]

    async def requeue(self, stream: str, cid: str) -> None:
        """Queue the conversation again at the end of ``stream`` (a current stream for one
        read off the old one): the rest of its messages wait their turn."""
        target = WORK_STREAMS[-1] if stream == LEGACY_WORK_STREAM else stream
        await self._redis.xadd(target, {WORK_FIELD: cid})

    async def ack(self, entries: Iterable[Entry]) -> None:
        """Acknowledge and delete entries (a stream's length is the work left)."""
        pipe = self._redis.pipeline(transaction=False)
        for stream, ids in _by_stream(entries).items():
            pipe.xack(stream, WORK_GROUP, *ids)
            pipe.xdel(stream, *ids)
        await pipe.execute()

    async def claim_stale(self, room: int, held: set[Entry]) -> list[Work]:
        """Claim up to ``room`` entries idle for longer than the visibility timeout (of dead or
        stuck workers, and this consumer's own not ``held`` any more), from each stream."""
        claimed: list[Work] = []
        for stream in list(self.streams):
            if len(claimed) >= room:
                break
            claimed += await self._claim_stale(stream, room - len(claimed), held)
        return claimed

    async def _claim_stale(self, stream: str, room: int, held: set[Entry]) -> list[Work]:
        pending = await self._redis.xpending_range(
            stream, WORK_GROUP, "-", "+", PENDING_PAGE, idle=self._visibility_ms
        )
        ids = [str(p["message_id"]) for p in pending]
        stale: StreamIds = []
        stale.extend([i for i in ids if Entry(stream, i) not in held][:room])
        if not stale:
            return []
        claimed: list[tuple[str, dict[str, str] | None]]
        claimed = await self._redis.xclaim(  # type: ignore[assignment]
            stream, WORK_GROUP, self._consumer, self._visibility_ms, stale
        )
        return [(Entry(stream, i), fields[WORK_FIELD]) for i, fields in claimed if fields]

    async def keep(self, entries: Iterable[Entry]) -> None:
        """Claim again the entries still ours, resetting their idle time, so that nobody takes
        over the work of a slow but live worker (one taken over already stays taken)."""
        for stream, ids in _by_stream(entries).items():
            pending = await self._redis.xpending_range(
                stream,
                WORK_GROUP,
                "-",
                "+",
                len(ids) + PENDING_PAGE,
                consumername=self._consumer,
            )
            wanted = set(ids)
            ours: StreamIds = [str(p["message_id"]) for p in pending if p["message_id"] in wanted]
            if ours:
                await self._redis.xclaim(stream, WORK_GROUP, self._consumer, 0, ours, justid=True)

    async def hand_back(self, entries: Iterable[Entry]) -> None:
        """Mark entries long idle, so that the next claim of any process takes them."""
        idle = self._visibility_ms * HANDED_BACK_IDLE
        for stream, ids in _by_stream(entries).items():
            await self._redis.xclaim(
                stream, WORK_GROUP, self._consumer, 0, ids, idle=idle, justid=True
            )


async def queued_work(client: redis.Redis) -> int:
    """Work entries not yet finished, of every process, on every work stream (the old one
    included): an entry is deleted once its conversation was processed."""
    pipe = client.pipeline(transaction=False)
    for stream in (*WORK_STREAMS, LEGACY_WORK_STREAM):
        pipe.xlen(stream)
    return sum(int(length) for length in await pipe.execute())


def _by_stream(entries: Iterable[Entry]) -> dict[str, StreamIds]:
    """Entry ids grouped by their stream."""
    grouped: dict[str, StreamIds] = defaultdict(list)
    for stream, entry_id in entries:
        grouped[stream].append(entry_id)
    return grouped
