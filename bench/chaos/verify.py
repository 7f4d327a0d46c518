"""After the load: wait for Redis to finish its work, read every conversation back, and check
it against what its client saw (lost, doubled, reordered, unanswered, answered twice)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import cast

import redis.asyncio as redis

from bench.chaos.model import Ask, Conv, Frame, Run, Stored
from bot.models import Address
from bot.models.messages import Message, MessageDict
from bot.storage.keys import (
    DEAD_LETTER_KEY,
    OUTBOX_DUE_KEY,
    address_key,
    conversation_key,
)
from connectors.sms.text import article_body, choices
from tests.support.twilio_fake import Call

QUIET_S = 3.0  # once nothing is left to do, how long to watch for late or doubled answers
SETTLE_POLL_S = 0.5
BATCH = 200  # conversations read from Redis in one pipeline
# The work streams, whatever their number: one ``work`` before the channel lanes, ``work:...``
# each after (the streams' names are the service's; the suite runs against either).
WORK_PATTERN = "work*"
COUNTS = ("lost", "doubled", "reordered", "unanswered", "answered_twice")


@dataclass(frozen=True)
class Counts:
    """The five counts of one conversation (or of all), and some detail."""

    lost: int = 0
    doubled: int = 0
    reordered: int = 0
    unanswered: int = 0
    answered_twice: int = 0
    sms_sent_twice: int = 0
    not_sent_stored: int = 0
    no_customer: int = 0  # one conversation's: a bool (acknowledged, yet no customer)

    @property
    def failed(self) -> bool:
        """Whether any of the five counts is not 0."""
        return any(getattr(self, name) for name in COUNTS)

    def detail(self) -> dict[str, int]:
        """The counts beside the five."""
        return {name: n for name, n in asdict(self).items() if name not in COUNTS}

    def nonzero(self) -> dict[str, int]:
        """Every count that is not 0."""
        return {name: n for name, n in asdict(self).items() if n}


def total(counts: Iterable[Counts]) -> Counts:
    """The counts summed."""
    every = list(counts)
    return Counts(**{f.name: sum(getattr(c, f.name) for c in every) for f in fields(Counts)})


@dataclass(frozen=True)
class Failure:
    """One failing conversation: who, its counts, and (SMS) when a text repeated the one
    before it, with the last event fired by then (where a double send shows)."""

    conversation: int
    channel: str
    address: str | None
    cid: str | None
    counts: Counts
    repeated_texts: list[tuple[float, str]] | None = None  # (seconds into the load, cause)

    def to_json(self) -> dict[str, object]:
        """The conversation's row in ``--json``'s ``failing_conversations``."""
        row: dict[str, object] = {
            "conversation": self.conversation,
            "channel": self.channel,
            "address": self.address,
            "cid": self.cid,
            **self.counts.nonzero(),
        }
        if self.repeated_texts is not None:
            row["repeated_texts"] = [list(pair) for pair in self.repeated_texts]
        return row


@dataclass(frozen=True)
class Leftovers:
    """What Redis still has to do, and what it gave up on."""

    work_entries: int
    outbox_due: int
    dead_letters: int


# Redis ------------------------------------------------------------------------------------


async def settle(client: redis.Redis, limit_s: float) -> float:
    """Until Redis holds no work and no outbound message (then ``QUIET_S`` more, for late
    doubles), at most ``limit_s`` seconds; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        with contextlib.suppress(redis.RedisError, OSError):
            if await work_entries(client) == 0 and await client.zcard(OUTBOX_DUE_KEY) == 0:
                await asyncio.sleep(QUIET_S)
                break
        await asyncio.sleep(SETTLE_POLL_S)
    return time.monotonic() - start


async def work_entries(client: redis.Redis) -> int:
    """Entries in every work stream."""
    streams = [key async for key in client.scan_iter(match=WORK_PATTERN, _type="stream")]
    return sum([int(await client.xlen(stream)) for stream in streams])


async def read_batch(client: redis.Redis, conversations: Sequence[Conv]) -> list[Stored]:
    """The customer, history and meta of each conversation, in two round trips."""
    pipe = client.pipeline(transaction=False)
    for conv in conversations:
        pipe.get(address_key(Address(conv.channel, conv.address or "-")))
    cids: list[str | None] = await pipe.execute()
    pipe = client.pipeline(transaction=False)
    for known in filter(None, cids):
        pipe.lrange(conversation_key(known, "history"), 0, -1)
        pipe.hgetall(conversation_key(known, "meta"))
    values = iter(await pipe.execute())
    stored = []
    for cid in cids:
        if cid is None:
            stored.append(Stored(None, [], {}))
            continue
        raw, meta = next(values), next(values)
        stored.append(Stored(cid, [json.loads(m) for m in raw], dict(meta)))
    return stored


async def read_redis(client: redis.Redis, conversations: Sequence[Conv]) -> list[Stored]:
    """Every conversation as Redis holds it, in batches."""
    stored = []
    for start in range(0, len(conversations), BATCH):
        stored.extend(await read_batch(client, conversations[start : start + BATCH]))
    return stored


async def leftovers(client: redis.Redis) -> Leftovers:
    """What Redis still has to do, and what it gave up on."""
    return Leftovers(
        work_entries=await work_entries(client),
        outbox_due=int(await client.zcard(OUTBOX_DUE_KEY)),
        dead_letters=int(await client.zcard(DEAD_LETTER_KEY)),
    )


# the checks -------------------------------------------------------------------------------


def misordered(history: Sequence[Frame], sent: Sequence[Ask]) -> int:
    """Customer messages stored out of the order sent or with seq not increasing, and
    answers stored before their question (the k-th answer before the k-th question)."""
    customers = [m for m in history if m.get("role") == "customer"]
    first = list(dict.fromkeys(str(m.get("text")) for m in customers))
    expected = [a.text for a in sent if a.text in set(first)]
    wrong = sum(x != y for x, y in zip(first, expected, strict=False))
    seqs = [int(m.get("seq", 0)) for m in customers]
    wrong += sum(b <= a for a, b in itertools.pairwise(seqs))
    asked = [i for i, m in enumerate(history) if m.get("role") == "customer"]
    told = [i for i, m in enumerate(history) if m.get("role") == "bot"]
    return wrong + sum(t < q for q, t in zip(asked, told, strict=False))


def mismatched(sent: Sequence[Ask], history: Sequence[Frame], channel: str) -> int:
    """Answers a client got that are not the ones stored for its question (skipped when a
    message is stored twice: the pairing shifts, and that is counted as doubled); an SMS
    answer compared with the stored answer as the SMS channel words it."""
    texts = roles(history, "customer")
    bots = [sms_body(m) if channel == "sms" else str(m.get("text")) for m in bot_frames(history)]
    if len(texts) != len(set(texts)):
        return 0
    wrong = 0
    for ask in sent:
        if ask.answer is not None and ask.text in texts:
            k = texts.index(ask.text)
            wrong += k < len(bots) and bots[k] != ask.answer
    return wrong


def bot_frames(history: Sequence[Frame]) -> list[Frame]:
    """The bot's messages in ``history``."""
    return [m for m in history if m.get("role") == "bot"]


def sms_body(frame: Frame) -> str:
    """A stored bot message as the SMS channel sends it (``connectors.sms.connector``): its
    words (an article's trimmed to fit its link), its options numbered, its media's links
    (a body above Twilio's 1,600 characters would go as several texts; no answer is that
    long)."""
    message = Message.from_dict(cast(MessageDict, frame))
    article = message.article
    text = (
        message.text if article is None else article_body(message.text, article.title, article.url)
    )
    return "\n".join([text, *choices(message.options), *(m.url for m in message.media)])


def roles(history: Sequence[Frame], role: str) -> list[str]:
    """The texts of the messages of ``role`` in ``history``, in order."""
    return [str(m.get("text")) for m in history if m.get("role") == role]


def unanswered(sent: Sequence[Ask], stored: Stored) -> int:
    """Questions left without an answer, by Redis's cursor, its history or the client."""
    customers = len(roles(stored.history, "customer"))
    bots = len(roles(stored.history, "bot"))
    cursor = int(stored.meta.get("received", 0)) - int(stored.meta.get("answered", 0))
    client = sum(not ask.answered for ask in sent)
    return max(cursor, customers - bots, client, 0)


def check(conv: Conv, stored: Stored, texted: Sequence[Call]) -> Counts:
    """The five counts (and some detail) of one conversation."""
    sent = [ask for ask in conv.asks if ask.sent]
    texts = roles(stored.history, "customer")
    bots = len(roles(stored.history, "bot"))
    extra_sms = len(texted) - len(texts) if conv.channel == "sms" else 0
    # an SMS sent twice shifts which text the customer takes for which answer: counted as
    # answered twice, not again as every later answer mismatched
    wrong = mismatched(sent, stored.history, conv.channel) if extra_sms <= 0 else 0
    return Counts(
        lost=sum(ask.acked and ask.text not in texts for ask in sent),
        doubled=len(texts) - len(set(texts)),
        reordered=misordered(stored.history, sent) + wrong,
        unanswered=unanswered(sent, stored),
        answered_twice=max(0, bots - len(texts), extra_sms),
        sms_sent_twice=max(0, extra_sms),
        not_sent_stored=len(set(texts) - {ask.text for ask in sent}),
        no_customer=stored.cid is None and any(ask.acked for ask in sent),
    )


def counts_of(
    run: Run, conversations: Sequence[Conv], stored: Sequence[Stored]
) -> tuple[Counts, list[Failure]]:
    """The checks summed over every conversation, and the conversations that failed one."""
    every, failing = [], []
    for conv, found in zip(conversations, stored, strict=True):
        texted = run.replies.by_number.get(conv.address or "", []) if conv.channel == "sms" else []
        counts = check(conv, found, texted)
        every.append(counts)
        if counts.failed:
            failing.append(failure(run, conv, found, texted, counts))
    return total(every), failing


def failure(
    run: Run, conv: Conv, stored: Stored, texted: Sequence[Call], counts: Counts
) -> Failure:
    """One failing conversation (see :class:`Failure`)."""
    repeats = None
    if texted:
        times = [b.at for a, b in itertools.pairwise(texted) if a["Body"] == b["Body"]]
        repeats = [(at - run.started, run.cause(at)) for at in times]
    return Failure(conv.number, conv.channel, conv.address, stored.cid, counts, repeats)
