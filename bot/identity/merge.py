"""Merging two customers into one, once a link between them is verified.

The two customers' keys live in different Redis Cluster slots, so a merge is a sequence of
idempotent steps, never one transaction: it is recorded in ``merges`` first and removed from
it last, and :meth:`Merger.resume` (at start-up and every 30 s, in any process) runs again
whatever a crash left halfway (each step can run twice). Both histories stay readable
throughout.

1. ``cust:{<from>}:merged`` names the survivor;
2. every address of the absorbed customer points to the survivor (later messages land there)
   and joins its address set; profile fields the survivor lacks are copied, and so is the
   mark of a conversation a texted link opened (no other phone is linked to it), and the
   vendor message ids the absorbed customer saw (a replayed webhook stays a repeat);
3. the absorbed history is copied into the survivor's by message id, ordered by time (the
   copies carry no ``seq``: they were handled where they arrived);
4. a second open ticket is told where the conversation went and closed; the slots actions
   set in either conversation are kept (the survivor's win);
5. both conversations' listeners are asked to resync (web chat sockets reconnect with their
   token and get the merged history).

The survivor is the customer with an open escalation (its ticket and state win), else the one
that asked for the link.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import redis.asyncio as redis

from bot import background
from bot.desk.queue import DeskQueue, post_job
from bot.desk.tickets import Tickets
from bot.events import RESYNC
from bot.models import Address, Conversation, Message, Role, State
from bot.storage.keys import (
    MERGES_KEY,
    conversation_key,
    customer_key,
    events_channel,
    seen_key,
)
from bot.storage.store import HISTORY_CAP, Store
from bot.texts import Texts

RESUME_EVERY_S = 30.0
STALE_S = 30.0  # a merge begun this long ago and not finished was cut short

log = logging.getLogger(__name__)

# KEYS: the survivor's history. ARGV: cap, ttl, then messages (JSON) to add.
# Adds the messages whose ids it lacks and orders the whole history by time (stable).
MERGE_HISTORY = """
local items, seen = {}, {}
for i, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local m = cjson.decode(raw)
  seen[m['id']] = true
  items[#items + 1] = {m['ts'] or 0, i, raw}
end
local n = #items
for i = 3, #ARGV do
  local m = cjson.decode(ARGV[i])
  if not seen[m['id']] then
    seen[m['id']] = true
    items[#items + 1] = {m['ts'] or 0, n + i, ARGV[i]}
  end
end
if #items == n then return 0 end
table.sort(items, function(a, b) if a[1] == b[1] then return a[2] < b[2] end return a[1] < b[1] end)
redis.call('DEL', KEYS[1])
local start = math.max(1, #items - tonumber(ARGV[1]) + 1)
for i = start, #items do redis.call('RPUSH', KEYS[1], items[i][3]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return #items - n
"""


class Merger:
    """Attaches a verified address to a customer, merging customers when it belonged to another."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        tickets: Tickets,
        desk: DeskQueue | None = None,
        history_cap: int = HISTORY_CAP,
        texts: Texts | None = None,
    ) -> None:
        self._moved = (texts or Texts()).moved
        self._redis = client
        self._store = store
        self._tickets = tickets
        self._desk = desk
        self._cap = history_cap
        self._merge_history = client.register_script(MERGE_HISTORY)
        self._task: asyncio.Task[None] | None = None

    async def attach(self, cid: str, address: Address) -> str:
        """Attach ``address`` (verified) to customer ``cid``; the customer id that holds the
        conversation from now on (another, when ``address``'s customer had an open ticket)."""
        other = await self._store.customer_for(address)
        if other is None or other == cid:
            await self._store.add_address(cid, address)
            return cid
        mine, theirs = await self._store.load(cid), await self._store.load(other)
        if _escalated(theirs) and not _escalated(mine):
            mine, theirs = theirs, mine
        await self.merge(theirs.id, mine.id)
        return mine.id

    async def merge(self, absorbed: str, survivor: str) -> None:
        """Merge customer ``absorbed`` into ``survivor`` (safe to run again after a crash)."""
        await self._redis.zadd(MERGES_KEY, {f"{absorbed} {survivor}": time.time()}, nx=True)
        await self._redis.set(customer_key(absorbed, "merged"), survivor, ex=self._store.ttl_s)
        await self._remember_absorbed(absorbed, survivor)
        await self._move_addresses(absorbed, survivor)
        await self._keep_link_mark(absorbed, survivor)
        await self._copy_seen(absorbed, survivor)
        await self._copy_history(absorbed, survivor)
        await self._close_second_ticket(absorbed, survivor)
        await self._merge_slots(absorbed, survivor)
        for cid in (absorbed, survivor):
            await self._redis.publish(events_channel(cid), json.dumps(RESYNC))
        await self._redis.zrem(MERGES_KEY, f"{absorbed} {survivor}")
        log.info("customer %s merged into %s", absorbed, survivor)

    async def resume(self, older_than_s: float = 0.0) -> int:
        """Finish the merges a crash left halfway (begun more than ``older_than_s`` ago: one
        still running elsewhere is left alone); how many there were."""
        stale = await self._redis.zrangebyscore(MERGES_KEY, "-inf", time.time() - older_than_s)
        for item in stale:
            absorbed, survivor = str(item).split(" ", 1)
            await self.merge(absorbed, survivor)
        return len(stale)

    async def start(self) -> None:
        """Finish what a crash left, now and every ``RESUME_EVERY_S`` (any process may)."""
        self._task = background.periodic(self._resume_stale, RESUME_EVERY_S, "merge-resume")

    async def stop(self) -> None:
        """Stop looking for unfinished merges."""
        await background.stop(self._task)

    async def _resume_stale(self) -> None:
        await self.resume(STALE_S)

    async def merged_into(self, cid: str) -> str | None:
        """The customer ``cid`` was merged into, if it was."""
        value = await self._redis.get(customer_key(cid, "merged"))
        return None if value is None else str(value)

    async def _remember_absorbed(self, absorbed: str, survivor: str) -> None:
        """The survivor keeps the ids of the customers merged into it (and into them): their
        keys live under their own ids until they expire, and an erasure must find them."""
        trail = {
            absorbed,
            *(str(m) for m in await self._redis.smembers(customer_key(absorbed, "absorbed"))),
        }
        key = customer_key(survivor, "absorbed")
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(key, *sorted(trail))
        pipe.expire(key, self._store.ttl_s)
        await pipe.execute()

    async def _move_addresses(self, absorbed: str, survivor: str) -> None:
        members = await self._redis.smembers(customer_key(absorbed, "addresses"))
        for member in sorted(str(m) for m in members):
            await self._store.add_address(survivor, Address(*member.split(":", 1)))
        profile = await self._redis.hgetall(customer_key(absorbed, "profile"))
        if profile:
            pipe = self._redis.pipeline(transaction=False)
            for field, value in profile.items():
                pipe.hsetnx(customer_key(survivor, "profile"), field, value)
            await pipe.execute()

    async def _keep_link_mark(self, absorbed: str, survivor: str) -> None:
        """A conversation a texted link opened stays closed to other phones once merged."""
        phone = await self._redis.get(customer_key(absorbed, "via_link"))
        if phone is not None:
            mark = customer_key(survivor, "via_link")
            await self._redis.set(mark, phone, ex=self._store.ttl_s, nx=True)

    async def _copy_seen(self, absorbed: str, survivor: str) -> None:
        """The vendor message ids the absorbed customer saw stay seen: a webhook captured
        before the merge and replayed after it is still a repeat, not a new message."""
        prefix = seen_key(absorbed, "", "")[: -len("::")]
        async for key in self._redis.scan_iter(match=f"{_glob_escape(prefix)}:*", count=500):
            name = str(key)
            ttl_ms = await self._redis.pttl(name)
            if ttl_ms > 0:
                copy = seen_key(survivor, *name[len(prefix) + 1 :].split(":", 1))
                await self._redis.set(copy, 1, px=ttl_ms, nx=True)

    async def _copy_history(self, absorbed: str, survivor: str) -> None:
        raw = await self._redis.lrange(conversation_key(absorbed, "history"), 0, -1)
        copies = []
        for item in raw:
            message = json.loads(str(item))
            message.pop("seq", None)  # handled where it arrived: never "unanswered" here
            copies.append(json.dumps(message))
        if copies:
            await self._merge_history(
                keys=[conversation_key(survivor, "history")],
                args=[self._cap, self._store.ttl_s, *copies],
            )

    async def _merge_slots(self, absorbed: str, survivor: str) -> None:
        """What actions remembered in either conversation (the survivor's values win)."""
        gone, kept = await self._store.recent(absorbed), await self._store.recent(survivor)
        if gone.slots and not gone.slots.items() <= kept.slots.items():
            await self._store.record(survivor, meta={"slots": {**gone.slots, **kept.slots}})

    async def _close_second_ticket(self, absorbed: str, survivor: str) -> None:
        """Two open tickets: the absorbed one is told where the conversation went, and closed."""
        gone, kept = await self._store.load(absorbed), await self._store.load(survivor)
        if not _escalated(gone) or self._desk is None:
            return
        notice = Message(role=Role.SYSTEM, text=self._moved.format(ticket=kept.ticket or "-"))
        await self._desk.push(absorbed, (post_job(notice),))
        await self._store.record(absorbed, meta={"state": State.BOT})
        await self._tickets.mark_closed(absorbed)


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a SCAN pattern (a hash tag's braces are fine, ``[`` is not)."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _escalated(conversation: Conversation) -> bool:
    return conversation.state is not State.BOT
