"""The answer processes' status in Redis: published with each beat, gone with the beat, and
how a front sums several up."""

from __future__ import annotations

import asyncio
import os

import redis.asyncio as aioredis

from bot.storage.keys import ANSWER_STATUS_PREFIX
from omnibot.answer_status import fresh_consumers, live_statuses, models_agree, summary
from omnibot.roles import AnswerBeat

FROZEN = {"model": "minilm-frozen", "tuning": "waiting"}
TUNED = {"model": "tuned-minilm", "tuning": "done"}


async def test_a_beat_publishes_the_status_and_a_graceful_stop_withdraws_it(
    redis_client: aioredis.Redis,
) -> None:
    beat = AnswerBeat(redis_client, "a-1", status=lambda: FROZEN)
    await beat.start()
    try:
        (status,) = await live_statuses(redis_client, await fresh_consumers(redis_client, 10))
        assert status == {**FROZEN, "consumer": "a-1", "pid": os.getpid(), "host": status["host"]}
        assert status["host"]
    finally:
        await beat.stop()
    assert await redis_client.exists(ANSWER_STATUS_PREFIX + "a-1") == 0
    assert await live_statuses(redis_client, ["a-1"]) == []


async def test_a_silent_answerers_status_expires_with_its_beat(
    redis_client: aioredis.Redis,
) -> None:
    dead = AnswerBeat(redis_client, "dead", alive_s=0.3, status=lambda: TUNED)
    await dead.beat()  # then never again: killed
    assert [s["model"] for s in await live_statuses(redis_client, ["dead"])] == ["tuned-minilm"]
    await asyncio.sleep(0.4)
    assert await fresh_consumers(redis_client, 0.3) == []
    assert await live_statuses(redis_client, ["dead"]) == []  # the key expired by itself


def test_the_summary_speaks_for_the_majority_and_for_the_tuner_among_them() -> None:
    running = {"consumer": "c", "model": "minilm-frozen", "tuning": "running"}
    waiting = {"consumer": "a", **FROZEN}
    tuned = {"consumer": "b", **TUNED}
    assert summary([waiting, tuned, running]) == {"model": "minilm-frozen", "tuning": "running"}
    assert summary([tuned, waiting]) == TUNED  # a tie: the first by consumer name
    assert summary([]) == {"model": "none", "tuning": "off"}
    assert not models_agree([waiting, tuned])
    assert models_agree([waiting, running])
    assert models_agree([])
