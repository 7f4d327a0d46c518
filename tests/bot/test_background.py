"""Background loops: ``periodic`` repeats a step, rides over transient errors, ends on a bug
and stops when cancelled; ``stop`` ends a task for sure; ``start`` stops in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from bot import background

EVERY_S = 0.01


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` for up to 5 s (the test needs nothing of the app to import)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(EVERY_S)
    raise AssertionError(f"{what} did not happen within 5 s")


class Steps:
    """A step that counts its runs and raises the errors queued for its next runs."""

    def __init__(self, *errors: BaseException) -> None:
        self.runs = 0
        self.errors = list(errors)

    async def __call__(self) -> None:
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)


async def test_a_step_runs_again_every_period_until_cancelled() -> None:
    step = Steps()
    task = background.periodic(step, EVERY_S, "counting")
    await wait_until(lambda: step.runs >= 3, what="three steps")
    await background.stop(task)
    assert task.cancelled()
    runs = step.runs
    await asyncio.sleep(EVERY_S * 5)
    assert step.runs == runs  # nothing runs after the stop
    assert task.get_name() == "counting"


async def test_a_transient_error_is_logged_in_one_line_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    step = Steps(aioredis.ConnectionError("redis away"), OSError("network away"))
    with caplog.at_level(logging.WARNING, logger=background.__name__):
        task = background.periodic(step, EVERY_S, "flaky")
        await wait_until(lambda: step.runs >= 4, what="steps after the errors")
        await background.stop(task)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "flaky failed: redis away",
        "flaky failed: network away",
    ]
    assert all(r.exc_info is None for r in warnings)  # no traceback for an expected outage


async def test_any_other_error_ends_the_loop() -> None:
    step = Steps(ValueError("a bug"))
    task = background.periodic(step, EVERY_S, "buggy")
    await asyncio.wait({task}, timeout=5)
    assert task.done()
    assert isinstance(task.exception(), ValueError)
    await asyncio.sleep(EVERY_S * 5)
    assert step.runs == 1


async def test_first_wait_waits_one_period_before_the_first_step() -> None:
    step = Steps()
    task = background.periodic(step, 3600.0, "patient", first_wait=True)
    await asyncio.sleep(EVERY_S * 5)
    assert step.runs == 0
    await background.stop(task)
    assert task.cancelled()


async def test_a_callable_period_is_read_before_each_wait() -> None:
    step = Steps()
    periods = [EVERY_S, EVERY_S, 3600.0]
    task = background.periodic(step, lambda: periods.pop(0) if len(periods) > 1 else 3600.0, "p")
    await wait_until(lambda: step.runs == 3, what="three steps")
    await asyncio.sleep(EVERY_S * 5)
    assert step.runs == 3  # the third period is an hour long
    await background.stop(task)


async def test_stop_cancels_again_a_task_that_swallowed_a_cancellation() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed.set()  # as a library may lose one (gh-86296)
        await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await background.stop(task, within_s=5)
    assert swallowed.is_set()
    assert task.cancelled()


class Part:
    """A part that records its start and stop in a shared journal."""

    def __init__(self, name: str, journal: list[str], fail_start: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fail_start = fail_start

    async def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


async def test_parts_stop_in_the_reverse_order_of_their_start() -> None:
    journal: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        for name in ("redis", "hub", "stream"):
            await background.start(stack, Part(name, journal))
        journal.append("serving")
    assert journal == [
        "start redis",
        "start hub",
        "start stream",
        "serving",
        "stop stream",
        "stop hub",
        "stop redis",
    ]


async def test_a_part_that_fails_to_start_stops_those_started_before_it() -> None:
    journal: list[str] = []

    async def serve() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for part in (Part("redis", journal), Part("hub", journal, True), Part("x", journal)):
                await background.start(stack, part)

    with pytest.raises(RuntimeError, match="hub cannot start"):
        await serve()
    assert journal == ["start redis", "stop redis"]
