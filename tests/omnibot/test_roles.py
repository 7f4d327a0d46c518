"""Process roles: the answerers' heartbeat in Redis, the front's refusing intent side, the
role setting and the answer process's lower priority."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import redis.asyncio as aioredis

from bot.contracts import Prediction
from bot.storage.keys import ANSWERING_KEY
from omnibot.app import core_config
from omnibot.roles import (
    AnswerBeat,
    NotAnswering,
    NotAnsweringError,
    Role,
    answering_count,
    event_loop,
    processing_concurrency,
    role_setting,
)
from omnibot.settings import Settings, SettingsError


async def test_answerers_count_while_they_beat_and_leave_when_stopped(
    redis_client: aioredis.Redis,
) -> None:
    assert await answering_count(redis_client) == 0
    first, second = AnswerBeat(redis_client, "a-1"), AnswerBeat(redis_client, "a-2")
    await first.start()
    await second.start()
    try:
        assert await answering_count(redis_client) == 2
    finally:
        await first.stop()
    assert await answering_count(redis_client) == 1
    await second.stop()
    assert await answering_count(redis_client) == 0


async def test_a_silent_answerer_counts_no_more_and_is_forgotten(
    redis_client: aioredis.Redis,
) -> None:
    dead = AnswerBeat(redis_client, "dead", alive_s=0.3)
    await dead.beat()  # then never again: killed
    assert await answering_count(redis_client, alive_s=0.3) == 1
    await asyncio.sleep(0.4)
    assert await answering_count(redis_client, alive_s=0.3) == 0
    await AnswerBeat(redis_client, "live", alive_s=0.3).beat()  # its beat sweeps the dead
    assert await redis_client.zrange(ANSWERING_KEY, 0, -1) == ["live"]
    assert 0 < await redis_client.ttl(ANSWERING_KEY) <= 1


async def test_the_front_intent_side_refuses_every_call() -> None:
    side = NotAnswering()
    with pytest.raises(NotAnsweringError):
        await side.classify("hello")
    with pytest.raises(NotAnsweringError):
        await side.respond(Prediction("greeting", 1.0, True), None, "hello")  # type: ignore[arg-type]


def test_role_setting_reads_any_case_and_refuses_others() -> None:
    assert Settings.from_env({}, env_file=None).role is Role.AUTO  # serve splits
    assert Settings.from_env({"ROLE": "Front"}, env_file=None).role is Role.FRONT
    with pytest.raises(SettingsError, match=r"ROLE='both'.*all, front, answer"):
        Settings.from_env({"ROLE": "both"}, env_file=None)
    assert role_setting("ANSWER") is Role.ANSWER
    assert (Role.FRONT.listens, Role.FRONT.answers) == (True, False)
    assert (Role.ANSWER.listens, Role.ANSWER.answers) == (False, True)


def test_an_answer_process_lowers_its_own_priority() -> None:
    script = (
        "import os; from omnibot.roles import lower_priority; lower_priority(); print(os.nice(0))"
    )
    before = subprocess.run(
        [sys.executable, "-c", "import os; print(os.nice(0))"], capture_output=True, check=True
    )
    after = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-c", script], capture_output=True, check=True
    )
    assert int(after.stdout) == min(19, int(before.stdout) + 10)


def test_every_thread_started_before_lowering_runs_at_the_lower_priority() -> None:
    script = (
        "import os, threading, time\n"
        "from omnibot.roles import lower_priority\n"
        "started = threading.Event()\n"
        "def early():\n"
        "    started.set(); time.sleep(2)\n"
        "threading.Thread(target=early, daemon=True).start(); started.wait()\n"
        "lower_priority()\n"
        "print(sorted({os.getpriority(os.PRIO_PROCESS, int(t))"
        " for t in os.listdir('/proc/self/task')}))"
    )
    before = subprocess.run(
        [sys.executable, "-c", "import os; print(os.nice(0))"], capture_output=True, check=True
    )
    after = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-c", script], capture_output=True, check=True
    )
    assert after.stdout.decode().strip() == f"[{min(19, int(before.stdout) + 10)}]"


def test_an_answer_process_answers_many_conversations_at_a_time_unless_told() -> None:
    # the answer role batches across conversations; a process that acknowledges keeps few
    assert processing_concurrency(Role.ANSWER) == 32
    assert processing_concurrency(Role.ALL) == 4
    assert processing_concurrency(Role.ANSWER, 6) == processing_concurrency(Role.ALL, 6) == 6
    answer = Settings.from_env({"ROLE": "answer"}, env_file=None)
    assert core_config(answer).concurrency == 32
    told = Settings.from_env({"ROLE": "answer", "PROCESSING_CONCURRENCY": "8"}, env_file=None)
    assert core_config(told).concurrency == 8
    assert core_config(Settings()).concurrency == 4


def test_a_serving_process_runs_on_uvloop_when_it_is_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    loop = event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_auto_is_all_inside_one_process() -> None:
    assert Role.AUTO.in_process is Role.ALL
    assert Role.FRONT.in_process is Role.FRONT
    assert core_config(Settings()).concurrency == processing_concurrency(Role.ALL)
