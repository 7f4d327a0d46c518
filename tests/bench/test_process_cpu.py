"""The benches' CPU and memory accounting: roles from command lines, kinds from thread names,
ticks turned into core-ms per answer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.process_cpu import (
    CLK_TCK,
    TickMap,
    Ticks,
    cpu_figures,
    cpu_seconds,
    process_role,
    rss_by_role,
    stat_ticks,
    thread_kind,
    tree_ticks,
)

SLEEPER = "import time; time.sleep(30)"


@dataclass(frozen=True)
class Reading:
    """A window end as ``bench.service_counters.Snapshot`` carries it."""

    at: float
    ticks: TickMap
    own_cpu_s: float


@pytest.fixture
def sleepers() -> Iterator[list[int]]:
    """Two idle Python processes, as a front and as the supervisor of two workers."""
    started = [
        subprocess.Popen([sys.executable, "-c", SLEEPER, *options])  # noqa: S603 - our interpreter
        for options in (["--role", "front"], ["--role", "all", "--workers", "2"])
    ]
    for one in started:  # until the interpreter runs (its command line and memory are read)
        while "VmHWM" not in Path(f"/proc/{one.pid}/status").read_text():
            time.sleep(0.01)
        while b"--role" not in Path(f"/proc/{one.pid}/cmdline").read_bytes():
            time.sleep(0.01)
    yield [one.pid for one in started]
    for one in started:
        one.kill()
        one.wait()


def test_a_process_role_comes_from_its_command_line(sleepers: list[int]) -> None:
    front, supervisor = sleepers
    assert process_role(front) == "front"
    assert process_role(supervisor) == "parent"
    assert process_role(os.getpid()) == "parent"  # no --role: auto, the supervisor


def test_thread_kinds_go_by_the_main_thread_and_the_names() -> None:
    assert thread_kind(10, 10, "python", "python") == "event_loop"
    assert thread_kind(10, 11, "python", "python") == "model"  # unnamed: the classifier's
    assert thread_kind(10, 12, "onnx_0", "python") == "model"
    assert thread_kind(10, 13, "asyncio_0", "python") == "other_threads"
    assert thread_kind(10, 14, "watchdog", "python") == "other_threads"


def test_ticks_of_this_process_are_read_thread_by_thread(sleepers: list[int]) -> None:
    sum(range(3_000_000))  # some CPU of our own to count
    mine = Path(f"/proc/{os.getpid()}")
    ticks = tree_ticks(os.getpid())
    main = ticks[os.getpid(), os.getpid()]
    assert main.kind == "event_loop"
    assert main.ticks == pytest.approx(stat_ticks(mine / "task" / str(os.getpid()) / "stat"), abs=2)
    # this process's own CPU and its children's (the test session's Redis among them)
    with_children = cpu_seconds(os.getpid())
    assert with_children is not None
    assert with_children >= stat_ticks(mine / "stat") / CLK_TCK - 0.01
    idle = sleepers[0]  # no children, no CPU of its own any more: read the same both ways
    expected = stat_ticks(Path(f"/proc/{idle}/stat")) / CLK_TCK
    assert cpu_seconds(idle) == pytest.approx(expected, abs=0.02)
    assert cpu_seconds(2**22 + 1) is None  # no such process


def test_peak_rss_is_given_by_role(sleepers: list[int]) -> None:
    found = rss_by_role(os.getpid())  # this process, the sleepers (and the session's Redis)
    assert {"parent", "front", "parent 2"} <= set(found)
    assert all(mb > 0 for mb in found.values())


def test_cpu_figures_share_the_window_per_answer_by_kind_and_role() -> None:
    before = Reading(
        0.0,
        {
            (1, 1): Ticks("event_loop", "python", 0, "all"),
            (1, 2): Ticks("model", "python", 0, "all"),
        },
        1.0,
    )
    after = Reading(
        1.0,
        {
            (1, 1): Ticks("event_loop", "python", CLK_TCK // 10, "all"),
            (1, 2): Ticks("model", "python", CLK_TCK // 2, "all"),
            (9, 9): Ticks("redis", "redis-server", CLK_TCK // 10, "redis"),
        },
        1.1,
    )
    figures = cpu_figures(before, after, answered=10)
    per_answer = figures["core_ms_per_answer"]
    assert per_answer["model"] == pytest.approx(50.0)
    assert per_answer["event_loop"] == pytest.approx(10.0)
    assert per_answer["redis"] == pytest.approx(10.0)
    assert per_answer["load_generator"] == pytest.approx(10.0)
    assert figures["core_ms_per_answer_by_role"] == pytest.approx({"all": 60.0, "redis": 10.0})
    assert figures["core_ms_window"] == pytest.approx(800.0)
    assert [thread["tid"] for thread in figures["threads"]] == [1, 2, 9]
