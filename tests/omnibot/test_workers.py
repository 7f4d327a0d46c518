"""The supervisor's children: their commands by role, how many of each a split starts, their
metrics counted together, and a child that refuses its settings stopping the supervisor."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.metrics import MULTIPROC_ENV, Metrics
from omnibot.roles import Role
from omnibot.settings import Settings
from omnibot.workers import (
    Child,
    ChildRefusedError,
    _keep_running,
    command,
    model_threads,
    split_roles,
    split_sizes,
)

# One process of the service counting answers (the supervisor's children count this way).
COUNT = """
import sys
from bot.metrics import Metrics
Metrics().answered.labels("greeting").inc(int(sys.argv[1]))
"""


def test_split_sizes_one_front_and_an_answer_process_a_core() -> None:
    assert split_sizes(1) == (1, 1)
    assert split_sizes(2) == (1, 2)
    assert split_sizes(4) == (1, 4)
    assert split_sizes(8) == (2, 8)


def test_a_split_takes_workers_of_each_role_when_told() -> None:
    assert split_roles(Settings(), cores=2) == [Role.FRONT, Role.ANSWER, Role.ANSWER]
    assert split_roles(Settings(workers=2), cores=2) == [Role.FRONT] * 2 + [Role.ANSWER] * 2


def test_answering_children_share_the_cores_out_unless_model_threads_is_set() -> None:
    one_each = [Role.FRONT, Role.ANSWER]
    assert model_threads(Settings(), one_each, cores=2) == 2
    assert model_threads(Settings(), [Role.FRONT, Role.ANSWER, Role.ANSWER], cores=2) == 1
    assert model_threads(Settings(), [Role.ALL] * 4, cores=2) == 1
    assert model_threads(Settings(), [Role.FRONT, Role.ANSWER], cores=8) == 8
    assert model_threads(Settings(model_threads=3), one_each, cores=2) == 3


def test_children_listen_on_the_shared_port_unless_they_only_answer() -> None:
    base = [sys.executable, "-m", "omnibot", "serve", "--workers", "1", "--role"]
    assert command(Role.FRONT) == [*base, "front", "--reuse-port"]
    assert command(Role.ALL) == [*base, "all", "--reuse-port"]
    assert command(Role.ANSWER) == [*base, "answer"]


def test_metrics_of_two_processes_are_summed_in_multiprocess_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"PATH": "", MULTIPROC_ENV: str(tmp_path)}
    for answers in ("3", "4"):  # two processes, one after the other: both files stay
        subprocess.run([sys.executable, "-c", COUNT, answers], env=env, check=True)  # noqa: S603
    assert Metrics().scraped().get_sample_value("omnibot_answered_total") is None  # own only
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    summed = Metrics().scraped()
    assert summed.get_sample_value("omnibot_answered_total", {"intent": "greeting"}) == 7.0
    assert summed.get_sample_value("omnibot_redis_round_trips_total") is not None  # this one's own


async def test_a_child_that_refuses_its_settings_stops_the_supervisor(tmp_path: Path) -> None:
    line = [sys.executable, "-c", "raise SystemExit(2)"]
    child = Child(Role.ANSWER, line, await asyncio.to_thread(subprocess.Popen, line))
    env = {MULTIPROC_ENV: str(tmp_path)}
    with pytest.raises(ChildRefusedError, match="answer process stopped on its settings"):
        await asyncio.wait_for(_keep_running([child], env, asyncio.Event()), 30)


async def test_a_child_that_dies_otherwise_is_restarted(tmp_path: Path) -> None:
    line = [sys.executable, "-c", "raise SystemExit(1)"]
    first = await asyncio.to_thread(subprocess.Popen, line)
    child = Child(Role.FRONT, [sys.executable, "-c", "import time; time.sleep(30)"], first)
    stop = asyncio.Event()
    running = asyncio.create_task(_keep_running([child], {MULTIPROC_ENV: str(tmp_path)}, stop))
    try:
        for _ in range(100):
            if child.process is not first:
                break
            await asyncio.sleep(0.1)
        assert child.process is not first
        assert child.process.poll() is None
    finally:
        stop.set()
        await running
        child.process.kill()
        child.process.wait()
