"""The two process roles of ``omnibot serve`` and what tells them apart at run time.

*front* terminates HTTP and WebSockets, checks signatures, accepts messages into Redis and
relays stored messages to open sockets; it never loads the intent model (its libraries are not
even imported). *answer* reads the work stream: classification, actions, answers, the outbox's
and the desk's retries; it has no HTTP listener and lowers its own priority so that
acknowledgements win on a shared machine. *all* is both in one process. *auto* (the default)
means a split under ``omnibot serve`` (a supervisor, front and answer processes:
:mod:`omnibot.workers`) and *all* for an app built in a process (``create_app``).

Every process that answers beats in Redis (:class:`AnswerBeat`: its consumer name in a sorted
set scored by Redis's own clock, so machines' clocks never matter) and publishes its status
with each beat (:mod:`omnibot.answer_status`); a front process reports ``answering: up`` while
a beat is fresher than ``ALIVE_S`` (:func:`answering_count`), and the live processes' status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from enum import StrEnum

import redis.asyncio as redis
from aiohttp import web

from bot import background
from bot.contracts import Answer, Context, Prediction, Reading
from bot.models import Conversation
from bot.storage.keys import ANSWERING_KEY
from omnibot import answer_status
from omnibot.answer_status import StatusSource

BEAT_S = 2.0
ALIVE_S = 10.0  # as long as the work stream's visibility timeout: a silent answerer is gone
ANSWER_NICENESS = 10  # the answer role's os.nice increment: acknowledgements come first
# Conversations one process answers at a time unless PROCESSING_CONCURRENCY says otherwise.
# An answer process has no acknowledgements to keep quick, so it takes many: the micro-batcher
# then gets batches across conversations (32 in one process: 321 answers/s against 166-223 with
# 4). A process that also acknowledges (all) keeps 4: more in flight slowed its SMS acks (ack
# p99 at 200 SMS/s: 37-49 ms with 4, 107 ms with 8, 256 ms with 16).
ANSWER_CONCURRENCY = 32
SHARED_CONCURRENCY = 4

# Record one answerer's beat at Redis's time and forget answerers silent for ARGV[2] seconds.
BEAT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', KEYS[1], t, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2))
return 1
"""

log = logging.getLogger("omnibot")


class Role(StrEnum):
    """What one ``omnibot serve`` process does."""

    ALL = "all"
    FRONT = "front"
    ANSWER = "answer"
    AUTO = "auto"  # serve: the split; an app built in a process: all

    @property
    def in_process(self) -> Role:
        """The role of one process: *auto* is *all* there."""
        return Role.ALL if self is Role.AUTO else self

    @property
    def listens(self) -> bool:
        """Whether the process serves HTTP (every role but *answer*)."""
        return self is not Role.ANSWER

    @property
    def answers(self) -> bool:
        """Whether the process consumes the work stream (every role but *front*)."""
        return self is not Role.FRONT


def role_setting(value: str) -> Role:
    """A :class:`Role` from its name, in any case (``ValueError`` otherwise)."""
    return Role(value.lower())


def processing_concurrency(role: Role, configured: int | None = None) -> int:
    """Conversations a process of ``role`` answers at a time: ``configured``
    (``PROCESSING_CONCURRENCY``) when set, else the role's default."""
    if configured is not None:
        return configured
    return ANSWER_CONCURRENCY if role is Role.ANSWER else SHARED_CONCURRENCY


ROLE = web.AppKey("role", Role)  # the role of the process serving the app
REDIS = web.AppKey("redis", redis.Redis)  # the app's Redis client


class NotAnsweringError(RuntimeError):
    """Something asked a front process to classify or answer: a wiring bug."""


class NotAnswering:
    """The intent side of a front process: it never processes a conversation, so each call
    is a bug and raises :class:`NotAnsweringError`."""

    model_name = "none"

    async def classify(self, text: str) -> Prediction:
        """Refuse: the front role loads no model."""
        raise NotAnsweringError("classify")

    async def read(self, text: str, context: Context) -> Reading:
        """Refuse: the front role loads no model."""
        raise NotAnsweringError("read")

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        """Refuse: the front role answers nothing."""
        raise NotAnsweringError("respond")

    def close(self) -> None:
        """Nothing to release."""


class AnswerBeat:
    """Says in Redis, every ``BEAT_S``, that the answerer ``consumer`` is alive, with its
    ``status`` (what :func:`omnibot.health.model_status` says) when given; stops with a
    farewell (removing both), so a graceful stop reads as down at once."""

    def __init__(
        self,
        client: redis.Redis,
        consumer: str,
        alive_s: float = ALIVE_S,
        status: StatusSource | None = None,
    ) -> None:
        self._redis = client
        self._beat = client.register_script(BEAT)
        self.consumer = consumer
        self._alive_s = alive_s
        self._status = status
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        """One beat: the status first, so a reader who sees the beat finds it."""
        if self._status is not None:
            status = answer_status.process_status(self.consumer, self._status())
            await answer_status.publish(self._redis, self.consumer, status, self._alive_s)
        await self._beat([ANSWERING_KEY], [self.consumer, self._alive_s])

    async def start(self) -> None:
        """Beat now and every ``BEAT_S`` (a failed beat is tried again next period)."""
        with contextlib.suppress(redis.RedisError, OSError):
            await self.beat()
        self._task = background.periodic(self.beat, BEAT_S, "answer-beat", first_wait=True)

    async def stop(self) -> None:
        """Stop beating and leave the set; the status goes with it."""
        await background.stop(self._task)
        with contextlib.suppress(redis.RedisError, OSError):
            await self._redis.zrem(ANSWERING_KEY, self.consumer)
            await answer_status.withdraw(self._redis, self.consumer)


async def answering_count(client: redis.Redis, alive_s: float = ALIVE_S) -> int:
    """Answer processes whose last beat is fresher than ``alive_s`` (by Redis's clock)."""
    return len(await answer_status.fresh_consumers(client, alive_s))


def lower_priority(increment: int = ANSWER_NICENESS) -> None:
    """Lower this process's CPU priority (an answer process: the front's acks win), every
    thread's: Linux keeps a niceness per thread, and threads started at import (the BLAS and
    OpenMP pools) kept the old one and competed with the front as equals."""
    try:
        niceness = os.nice(increment)  # this thread and those it starts from now on
        for tid in _threads():
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
    except OSError as error:  # not allowed here (a container's policy): run as is
        log.warning("could not lower the answer process's priority: %s", error)
        return
    log.info("answer process running at niceness %d", niceness)


def _threads() -> list[int]:
    """This process's threads' ids (none where /proc is missing: only this thread counts)."""
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return []


def event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop for a serving process: uvloop's when it is installed (with hiredis,
    an answer's Redis work costs about a third less CPU: bench/fast_paths.py), else
    asyncio's."""
    try:
        import uvloop
    except ImportError:  # not on this platform (Windows): asyncio's loop serves as well
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_without_listener(app: web.Application) -> None:
    """Run an answer process's ``app`` until SIGTERM or SIGINT: its start-up and clean-up
    (Redis, the work stream, the senders) without an HTTP listener."""
    with asyncio.Runner(loop_factory=event_loop) as runner:
        runner.run(_run(app))


async def _run(app: web.Application) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()  # the app's cleanup contexts start here
    log.info("omnibot answer process started (no HTTP listener)")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # a graceful stop: running work finishes or is handed back
