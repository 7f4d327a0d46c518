"""A conversation's write (the record script of :mod:`bot.storage.scripts`): messages, meta,
outbound entries, events and the journal in one atomic step, fenced by the conversation's lock,
with the outbox's index written first.

:class:`RecordScript` is the write half of :class:`bot.storage.store.Store`; callers use it
through ``Store.record``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

import redis.asyncio as redis
from redis.exceptions import NoScriptError

from bot.events import message_event, state_event
from bot.insight.journal import JournalEvent, day_of, encode, key_of
from bot.models import Message, MessageDict
from bot.storage.codec import MetaUpdate, encode_meta
from bot.storage.keys import OUTBOX_DUE_KEY, conversation_key, events_channel, journal_key
from bot.storage.lock import ConversationLock, LockLostError
from bot.storage.scripts import RECORD

HISTORY_CAP = 500
SEND_GRACE_S = 2.0  # a fresh outbound message is left this long to the process that stored it

__all__ = ["HISTORY_CAP", "SEND_GRACE_S", "RecordScript"]


class RecordScript:
    """The record script registered on one client, with how long what it writes is kept."""

    def __init__(
        self, client: redis.Redis, *, ttl_s: int, journal_ttl_s: int, cluster: bool
    ) -> None:
        """``cluster``: the outbox's index lives in another slot (written before the script)."""
        self.ttl_s = ttl_s
        self.journal_ttl_s = journal_ttl_s
        self._redis = client
        self._cluster = cluster
        self._record = client.register_script(RECORD)

    async def record(
        self,
        cid: str,
        messages: Sequence[Message],
        meta: MetaUpdate | None,
        outbound: Sequence[str],
        fence: ConversationLock | None,
        events: Sequence[JournalEvent],
    ) -> None:
        """Write it all at once (see :meth:`bot.storage.store.Store.record`)."""
        if fence is not None and fence.cid != cid:
            raise ValueError(f"the lock of conversation {fence.cid} cannot fence {cid}")
        if any(event["cid"] != cid for event in events):
            raise ValueError(f"only conversation {cid}'s events are recorded with it")
        lock = fence if fence is not None and not fence.released else None
        keys, args = self._record_call(cid, messages, meta, outbound, lock, events)
        result = await self._write(cid, keys, args, bool(outbound))
        if result == -1:
            raise LockLostError(cid)
        if result == 2 and lock is not None:
            lock.released = True

    def _record_call(
        self,
        cid: str,
        messages: Sequence[Message],
        meta: MetaUpdate | None,
        outbound: Sequence[str],
        lock: ConversationLock | None,
        events: Sequence[JournalEvent],
    ) -> tuple[list[str], list[str | int]]:
        """The record script's keys and arguments (``lock``: the one held, if any)."""
        encoded = [message.to_dict() for message in messages]
        values, cleared = encode_meta(meta or {})
        args: list[str | int] = [  # in the order the script names them
            lock.token if lock is not None else "",
            "1" if lock is not None and meta and "answered" in meta else "0",
            HISTORY_CAP,
            self.ttl_s,
            events_channel(cid),
            len(encoded),
            len(outbound),
            len(values),
            len(cleared),
            state_event(meta["state"].value) if meta and "state" in meta else "",
            encoded[0]["id"] if encoded else "",
            len(events),
            self.journal_ttl_s,
            *_payload(encoded, outbound, values, cleared, events),
        ]
        return _record_keys(cid, events), args

    async def _write(self, cid: str, keys: list[str], args: list[str | int], sends: bool) -> int:
        if not sends:
            return int(await self._record(keys, args))
        # the sender's index first: an index entry without outbound work is harmless, outbound
        # work without an index entry would wait for the conversation's next message
        due = {cid: time.time() + SEND_GRACE_S}
        if self._cluster:
            await self._redis.zadd(OUTBOX_DUE_KEY, due, nx=True)
            return int(await self._record(keys, args))
        # EVALSHA in the pipeline, not the script object: that would ask the server whether it
        # knows the script first, a round trip more on every answer
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(OUTBOX_DUE_KEY, due, nx=True)
        pipe.evalsha(self._record.sha, len(keys), *keys, *args)
        added, result = await pipe.execute(raise_on_error=False)
        if isinstance(added, Exception):
            raise added
        if isinstance(result, NoScriptError):  # a restarted Redis forgot it: nothing was written
            return int(await self._record(keys, args))
        if isinstance(result, Exception):
            raise result
        return int(result)


def _record_keys(cid: str, events: Sequence[JournalEvent]) -> list[str]:
    """The record script's keys, all in the conversation's slot."""
    return [
        conversation_key(cid, "history"),
        conversation_key(cid, "meta"),
        conversation_key(cid, "lock"),
        conversation_key(cid, "outbox"),
        # one day's stream: a write's events are made together (the report reads a day
        # more than it is asked for, for those made just before midnight)
        key_of(events[0]) if events else journal_key(cid, day_of(time.time())),
    ]


def _payload(
    encoded: Sequence[MessageDict],
    outbound: Sequence[str],
    values: Mapping[str, str],
    cleared: Sequence[str],
    events: Sequence[JournalEvent],
) -> list[str]:
    """The record script's variable arguments after its counts, in the order they count."""
    return [
        *(json.dumps(item) for item in encoded),
        *(message_event(item) for item in encoded),
        *outbound,
        *(part for pair in values.items() for part in pair),
        *cleared,
        *(encode(event) for event in events),
    ]
