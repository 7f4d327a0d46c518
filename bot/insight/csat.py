"""Customer satisfaction surveys: asked after a resolve (and after a conversation the bot
settled alone, when switched on), answered by a bare score (rules: :mod:`bot.insight.csat_rules`).

The survey is a bot message on the customer's last channel with the scores as options, stored
with the pending survey (meta ``csat``) and its ``csat_asked`` event in one write; the answer's
thanks with ``csat_answered`` (the score, the answering message) and the pending survey
cleared in one write too. Nothing is asked of an address that opted out (SMS STOP): the
outbox would suppress the send, but the survey is not even stored.

After-bot surveys: each processed conversation is marked due in ``csat:due`` (a sorted set by
due time, in its own slot like ``outbox:due``) ``quiet_s`` later; a sweeper (:meth:`start`,
in every answering process) takes the due ones under the conversation's lock and asks, asks
later (the bot answered again since), or drops the mark, reading the decisions from the
customer's journal. A mark is removed only if it was not moved on meanwhile, so a crash or a
concurrent message never loses a due survey; two sweepers asking at once are kept apart by
the conversation's lock and the pending survey it reads.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as redis

from bot import background
from bot.delivery.consent import Consent
from bot.delivery.outbox import Outbox
from bot.insight.csat_rules import (
    EPISODE_S,
    QUIET_S,
    SCORES,
    After,
    SurveyTexts,
    answers_survey,
    due_after_bot,
    may_ask,
)
from bot.insight.journal import EVENT_FIELD, EventType, JournalEvent, day_of, decode, journal_event
from bot.models import Conversation, Message, Role, Survey
from bot.storage.codec import MetaUpdate
from bot.storage.keys import CSAT_DUE_KEY, journal_key
from bot.storage.lock import ConversationLock
from bot.storage.store import Store

SWEEP_S = 60.0  # how often due surveys are looked for (at most: a short quiet time, oftener)
DAY_S = 86400.0
MAX_SWEPT = 100  # conversations taken per sweep
# remove a due mark only if it was not moved later meanwhile (a newer message marked it again)
REMOVE_IF_NOT_LATER = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""

log = logging.getLogger(__name__)


class Surveys:
    """Asks customers how it went, and takes their score."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        outbox: Outbox,
        *,
        after_bot: bool = False,
        quiet_s: float = QUIET_S,
        texts: SurveyTexts | None = None,
    ) -> None:
        """``after_bot``: survey conversations the bot settled alone too, ``quiet_s`` after
        its last answer."""
        self._redis = client
        self._store = store
        self._outbox = outbox
        self._consent = Consent(client)
        self.after_bot = after_bot
        self._quiet_s = quiet_s
        self._texts = texts or SurveyTexts()
        self._remove = client.register_script(REMOVE_IF_NOT_LATER)
        self._sweeper: asyncio.Task[None] | None = None

    async def after_resolve(self, cid: str) -> bool:
        """Ask the survey of a conversation an agent has just resolved; whether it was asked
        (not while one is pending, nor when the conversation went to people again meanwhile)."""
        lock = self._store.lock(cid)
        async with lock as conversation:
            return await self._ask(conversation, After.RESOLVE, lock)

    async def capture(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> bool:
        """Take ``message`` as the pending survey's answer when it is a bare score: thanked,
        recorded (with ``done``, the caller's handled cursor), never classified. False when it
        is no answer to a survey: it goes on as a normal message."""
        score = answers_survey(conversation, message, time.time())
        if score is None:
            return False
        channel = message.channel or _channel(conversation)
        event = journal_event(
            EventType.CSAT_ANSWERED, conversation.id, channel, score=score, message=message.id
        )
        thanks = Message(role=Role.BOT, text=self._texts.thanks)
        await self._outbox.say(
            conversation.id,
            conversation.last_address,
            (thanks,),
            {**done, "csat": None},
            fence=fence,
            events=(event,),
        )
        log.info("conversation %s: survey answered (%d)", conversation.id, score)
        return True

    async def _ask(self, conversation: Conversation, after: After, fence: ConversationLock) -> bool:
        """Ask the survey when it may be asked (see :func:`may_ask`; never to an opted-out
        address); the question, the pending survey and its event in one write."""
        now = time.time()
        address = conversation.last_address
        if address is None or not may_ask(conversation, now, after):
            return False
        if await self._consent.opted_out(address):
            return False
        question = Message(role=Role.BOT, text=self._texts.question, options=SCORES)
        event = journal_event(EventType.CSAT_ASKED, conversation.id, address.channel, after=after)
        # the survey is the bot's question now: an intent's earlier question no longer waits
        meta: MetaUpdate = {"csat": Survey(now, after.value), "expect": None}
        await self._outbox.say(
            conversation.id, address, (question,), meta, fence=fence, events=(event,)
        )
        log.info("conversation %s: survey asked (after %s)", conversation.id, after.value)
        return True

    # after the bot --------------------------------------------------------------------------

    async def processed(self, cid: str) -> None:
        """The bot processed a message of ``cid``: its after-bot survey is due once the
        customer has been quiet for ``quiet_s`` (nothing when after-bot surveys are off)."""
        if self.after_bot:
            await self._redis.zadd(CSAT_DUE_KEY, {cid: time.time() + self._quiet_s})

    async def sweep(self) -> int:
        """Ask the after-bot surveys due now; how many were asked."""
        now = time.time()
        due: list[tuple[str, float]] = await self._redis.zrangebyscore(  # type: ignore[assignment]
            CSAT_DUE_KEY, "-inf", now, start=0, num=MAX_SWEPT, withscores=True
        )
        asked = 0
        for cid, at in due:
            asked += await self._settle(str(cid), float(at))
        return asked

    async def _settle(self, cid: str, marked: float) -> int:
        """Ask ``cid``'s survey, mark it due later, or drop its mark (1 when asked)."""
        lock = self._store.lock(cid)
        async with lock as conversation:
            due = due_after_bot(await self.recent_events(cid), time.time(), self._quiet_s)
            if due is not None and due > time.time():  # the bot answered again since
                await self._redis.zadd(CSAT_DUE_KEY, {cid: due}, gt=True)
                return 0
            asked = due is not None and await self._ask(conversation, After.BOT, lock)
        await self._remove(keys=[CSAT_DUE_KEY], args=[cid, marked])
        return int(asked)

    async def recent_events(self, cid: str) -> list[JournalEvent]:
        """The customer's journal of the last ``EPISODE_S`` (and the day it began), in time
        order."""
        now = time.time()
        start = now - EPISODE_S - self._quiet_s
        days = sorted({day_of(at) for at in (*_daily(start, now), now)})
        pipe = self._redis.pipeline(transaction=False)  # one slot: the customer's
        for day in days:
            pipe.xrange(journal_key(cid, day))
        events = [
            event
            for entries in await pipe.execute()
            for _, fields in entries
            if (event := decode(fields.get(EVENT_FIELD, ""))) is not None
        ]
        return sorted(events, key=lambda event: event["at"])

    async def start(self) -> None:
        """Start the sweeper of after-bot surveys (nothing when they are off)."""
        if self.after_bot:
            every = min(SWEEP_S, max(self._quiet_s / 4, 0.05))
            self._sweeper = background.periodic(self.sweep, every, "csat-sweeper", first_wait=True)

    async def stop(self) -> None:
        """Stop the sweeper."""
        await background.stop(self._sweeper)
        self._sweeper = None


def _daily(start: float, end: float) -> list[float]:
    """Times a day apart from ``start`` up to ``end`` (one in each UTC day between)."""
    return [start + n * DAY_S for n in range(int((end - start) // DAY_S) + 1)]


def _channel(conversation: Conversation) -> str:
    address = conversation.last_address
    return address.channel if address is not None else ""
