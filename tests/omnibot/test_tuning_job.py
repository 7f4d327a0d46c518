"""Fine-tuning in the background: one process of a deployment tunes, every process swaps the
tuned model in without dropping a message, and a failure leaves the frozen model serving."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.contracts import Context, Prediction
from bot.storage.keys import tuning_key
from omnibot import tuning_job
from omnibot.app import create_app
from omnibot.engine import Intents
from omnibot.services import SERVICES
from omnibot.settings import Settings
from omnibot.swap import SwappableIntents
from omnibot.tuning_job import TuningJob, forward_output
from tests.conftest import AppFactory, ClientFactory
from tests.support.fakes import TableResponder
from tests.support.polling import wait_until
from tests.support.webchat_client import frame, opening

AiohttpClient = Any
NAME = "catalogue-key"
FAST_POLL_S = 0.05
# The fake tuning: counts its runs, prints progress (a bar's redraws, then a log line with its
# own CPU priority), and leaves the "tuned model" (a marker file) in the shared cache.
TUNE = """
import os, pathlib, sys, time
work = pathlib.Path(sys.argv[1])
with (work / "runs").open("a") as runs:
    runs.write(f"{os.getpid()}\\n")
time.sleep(0.3)
for step in (10, 50, 90):
    print(f"\\rtuning {step}%", end="", flush=True)
print(f"\\nepoch 1/1, ETA 0 s, priority {os.getpriority(os.PRIO_PROCESS, 0)}", flush=True)
time.sleep(float(sys.argv[2]))
(work / "tuned").write_text("ok")
"""
FAIL = """
import sys
print("loading the catalogue", flush=True)
print("ValueError: a catalogue needs two intents to tune", file=sys.stderr, flush=True)
print("the end", flush=True)
sys.exit(1)
"""


class StubClassifier:
    """Predicts one intent; ``gate`` holds each call until set; refuses calls once closed."""

    def __init__(self, intent: str, gate: asyncio.Event | None = None) -> None:
        self.intent = intent
        self.gate = gate
        self.closed = False

    async def classify(self, text: str) -> Prediction:
        if self.gate is not None:
            await self.gate.wait()
        if self.closed:
            raise RuntimeError("classified on a closed classifier")
        return Prediction(self.intent, 0.9, True)

    def close(self) -> None:
        self.closed = True


def stub_intents(name: str, gate: asyncio.Event | None = None) -> Intents:
    """Intents answering every message with intent ``name``, reported as model ``name``."""
    classifier = StubClassifier(name, gate)
    return Intents(classifier, TableResponder({name: f"answer of {name}"}), model_name=name)


def make_job(
    client: aioredis.Redis,
    swap: SwappableIntents,
    work: Path,
    script: str = TUNE,
    seconds: float = 0.3,
) -> TuningJob:
    """A job whose command runs ``script`` and whose tuned model is ``work/tuned``."""
    return TuningJob(
        client,
        NAME,
        swap,
        command=[sys.executable, "-c", script, str(work), str(seconds)],
        ready=(work / "tuned").exists,
        reload=lambda: stub_intents("tuned-abc"),
        poll_s=FAST_POLL_S,
    )


async def test_one_process_tunes_and_every_process_swaps_the_tuned_model_in(
    new_client: ClientFactory, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    swaps = [SwappableIntents(stub_intents("frozen")) for _ in range(2)]
    jobs = [make_job(new_client(), swap, tmp_path) for swap in swaps]
    for job in jobs:
        await job.start()
    try:
        await wait_until(lambda: {job.status for job in jobs} == {"running", "waiting"}, 10)
        await wait_until(lambda: all(job.status == "done" for job in jobs), 30, "both swapped")
    finally:
        for job in jobs:
            await job.stop()
    assert len((tmp_path / "runs").read_text().split()) == 1  # one tuning for the deployment
    assert [swap.model_name for swap in swaps] == ["tuned-abc", "tuned-abc"]
    assert await redis_client.exists(tuning_key(NAME)) == 0  # released


async def test_progress_lines_reach_the_log_and_the_child_runs_at_the_lowest_priority(
    redis_client: aioredis.Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnibot")
    job = make_job(redis_client, SwappableIntents(stub_intents("frozen")), tmp_path)
    await job.start()
    try:
        await wait_until(lambda: job.status == "done", 30, "the swap")
    finally:
        await job.stop()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fine-tuning:")]
    assert "fine-tuning: tuning 10%" in lines  # a bar's first redraw...
    assert "fine-tuning: tuning 50%" not in lines  # ...the next ones only every 15 s
    assert "fine-tuning: epoch 1/1, ETA 0 s, priority 19" in lines


async def test_a_failed_tuning_keeps_the_old_model_and_says_why(
    new_client: ClientFactory, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    frozen = stub_intents("frozen")
    swap = SwappableIntents(frozen)
    job = make_job(redis_client, swap, tmp_path, FAIL)
    await job.start()
    try:
        await wait_until(lambda: job.status.startswith("failed"), 30, "the failure")
    finally:
        await job.stop()
    reason = "exit 1: ValueError: a catalogue needs two intents to tune"
    assert job.status == f"failed: {reason}"
    assert swap.current is frozen
    assert isinstance(frozen.classifier, StubClassifier)
    assert not frozen.classifier.closed
    assert (await swap.classify("hello")).intent == "frozen"
    # another process of the deployment reports the failure instead of tuning again
    other = make_job(new_client(), SwappableIntents(stub_intents("frozen")), tmp_path)
    await other.start()
    try:
        await wait_until(lambda: other.status.startswith("failed"), 10)
    finally:
        await other.stop()
    assert other.status == f"failed: {reason}"
    assert not (tmp_path / "runs").exists()


async def test_a_killed_tuning_is_a_failure_with_the_signal(
    redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    job = make_job(redis_client, SwappableIntents(stub_intents("frozen")), tmp_path, seconds=60)
    await job.start()
    try:
        await wait_until(lambda: (tmp_path / "runs").exists(), 10, "the tuning's start")
        os.kill(int((tmp_path / "runs").read_text()), 9)
        await wait_until(lambda: job.status.startswith("failed"), 10, "the failure")
    finally:
        await job.stop()
    assert job.status.startswith("failed: killed by signal 9")


async def test_stopping_ends_the_child_and_hands_the_tuning_to_another_process(
    new_client: ClientFactory, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    first = make_job(new_client(), SwappableIntents(stub_intents("frozen")), tmp_path, seconds=60)
    await first.start()
    await wait_until(lambda: (tmp_path / "runs").exists(), 10, "the tuning's start")
    pid = int((tmp_path / "runs").read_text())
    await first.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert await redis_client.exists(tuning_key(NAME)) == 0
    second = make_job(new_client(), SwappableIntents(stub_intents("frozen")), tmp_path, seconds=0)
    await second.start()
    try:
        await wait_until(lambda: second.status == "done", 30, "the second process's tuning")
    finally:
        await second.stop()
    assert len((tmp_path / "runs").read_text().split()) == 2


async def test_a_dead_tuners_lock_expires_and_another_process_tunes(
    redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    await redis_client.set(tuning_key(NAME), "a process that died", px=500)
    job = make_job(redis_client, SwappableIntents(stub_intents("frozen")), tmp_path, seconds=0)
    await job.start()
    try:
        await asyncio.sleep(0.2)
        assert job.status == "waiting"
        await wait_until(lambda: job.status == "done", 30, "the takeover")
    finally:
        await job.stop()


async def test_calls_running_during_a_swap_finish_on_the_old_model_then_it_closes() -> None:
    gate = asyncio.Event()
    old, new = stub_intents("frozen", gate), stub_intents("tuned-abc")
    swap = SwappableIntents(old)
    running = [asyncio.create_task(swap.classify("hi")) for _ in range(5)]
    reading = asyncio.create_task(swap.read("hi", Context()))
    await asyncio.sleep(0.01)
    assert swap.swap(new) is old
    assert (await swap.classify("hi")).intent == "tuned-abc"
    assert isinstance(old.classifier, StubClassifier)
    assert not old.classifier.closed  # five calls and a reading still run on it
    gate.set()
    assert {p.intent for p in await asyncio.gather(*running)} == {"frozen"}
    assert (await reading).parts[0].prediction.intent == "frozen"
    assert old.classifier.closed


async def test_intents_a_caller_lent_are_never_closed_by_the_swap() -> None:
    lent, tuned = stub_intents("frozen"), stub_intents("tuned-abc")
    swap = SwappableIntents(lent, owns_first=False)
    swap.swap(tuned)
    swap.close()
    assert isinstance(lent.classifier, StubClassifier)
    assert isinstance(tuned.classifier, StubClassifier)
    assert (lent.classifier.closed, tuned.classifier.closed) == (False, True)


async def test_a_progress_bar_is_logged_sparingly_and_the_error_line_is_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="omnibot")
    stream = asyncio.StreamReader()
    stream.feed_data(b"\r 10%\r 20%\r 30%\nRuntimeError: out of memory\nexiting")
    stream.feed_eof()
    assert await forward_output(stream) == "RuntimeError: out of memory"
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "fine-tuning: 10%",
        "fine-tuning: 30%",
        "fine-tuning: RuntimeError: out of memory",
        "fine-tuning: exiting",
    ]


def tuning_app(
    settings: Settings,
    cache_owner: Path,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    script: str = TUNE,
) -> web.Application:
    """An app built as ``omnibot serve`` builds it (its own frozen intents from the session's
    cache, ``FINE_TUNE=background``), tuning with the fake ``script``."""
    command = [sys.executable, "-c", script, str(work), "1"]
    monkeypatch.setattr(tuning_job, "tuning_command", lambda: command)
    monkeypatch.setattr(tuning_job, "tuned_ready", lambda *_: (work / "tuned").exists())
    monkeypatch.setattr(tuning_job, "build_intents", lambda _: stub_intents("tuned-abc"))
    monkeypatch.setattr(tuning_job, "POLL_S", FAST_POLL_S)
    # many visitors and messages a minute: the test keeps talking until the tuned model answers
    configured = replace(
        settings,
        data_dir=cache_owner,
        fine_tune="background",
        messages_per_minute=100_000,
        sessions_per_minute=100_000,
        sockets_per_address=100_000,
    )
    return create_app(configured)


async def health(client: Any) -> dict[str, Any]:
    """The /healthz body."""
    body: dict[str, Any] = await (await client.get("/healthz")).json()
    return body


async def test_messages_are_answered_while_the_tuned_model_replaces_the_frozen_one(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    intents: Intents,
    intents_data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = tuning_app(settings, intents_data_dir, tmp_path, monkeypatch)
    client = await aiohttp_client(app)
    seen: set[tuple[str, str]] = set()
    for turn in range(200):
        body = await health(client)
        seen.add((body["model"], body["tuning"]))
        # a new visitor each turn: one customer's many greetings would get them a person
        async with client.ws_connect("/webchat/ws") as ws:
            await opening(ws)
            await ws.send_json({"type": "message", "text": "hello"})
            answer = await bot_message(ws)
        if body["model"] == "tuned-abc" and turn > 0:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"the tuned model never served; /healthz said {seen}")
    assert ("frozen", "running") in seen
    assert ("tuned-abc", "done") in seen
    assert answer == "answer of tuned-abc"


async def test_healthz_says_why_the_tuning_failed_while_the_frozen_model_serves(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    intents: Intents,
    intents_data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = tuning_app(settings, intents_data_dir, tmp_path, monkeypatch, FAIL)
    client = await aiohttp_client(app)

    async def failed() -> bool:
        return str((await health(client))["tuning"]).startswith("failed")

    await wait_until(failed, 30, "the failure on /healthz")
    body = await health(client)
    assert body["status"] == "ok"
    assert body["model"] == "frozen"
    assert body["tuning"] == "failed: exit 1: ValueError: a catalogue needs two intents to tune"


async def test_lent_intents_are_not_tuned(
    aiohttp_client: AiohttpClient, make_app: AppFactory
) -> None:
    app = make_app(fine_tune="background")
    assert app[SERVICES].tuning is None
    body = await health(await aiohttp_client(app))
    assert (body["model"], body["tuning"]) == ("frozen", "off")


async def bot_message(ws: Any) -> str:
    """The text of the bot's next message."""
    while True:
        got = await frame(ws)
        if got["type"] == "message" and got["role"] == "bot":
            return str(got["text"])


ORPHAN = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid())])
print(child.pid, flush=True)
child.wait()
"""
FOLLOWER = """
import sys, time
from omnibot.parent import follow_parent
follow_parent(int(sys.argv[1]))  # the server's pid, as its --parent
print("following", flush=True)
time.sleep(60)
"""


def test_a_tuning_child_ends_when_its_server_is_killed() -> None:
    with subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", ORPHAN, FOLLOWER], stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        assert server.stdout.readline() == "following\n"  # the child shares the pipe
        server.kill()  # SIGKILL: the server cannot stop its child itself

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{child}/stat") as stat:  # ended, not reaped yet by init
            return stat.read().split()[2] == "Z"

    asyncio.run(wait_until(gone, timeout_s=30.0, what="the orphaned tuning child ending"))


def test_a_tuning_child_whose_server_is_already_gone_does_not_start() -> None:
    code = "from omnibot.parent import follow_parent; follow_parent(2 ** 22 + 1)"
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "is gone; not tuning" in result.stderr


def test_the_tuning_child_logs_text_lines_whatever_the_services_log_format() -> None:
    settings = Settings.from_env({"LOG_FORMAT": "json", "FINE_TUNE": "background"}, env_file=None)
    env = tuning_job.child_env(settings)
    # the parent logs each child line again, in its own format: JSON inside JSON is unreadable
    assert env["LOG_FORMAT"] == "text"
    assert env["FINE_TUNE"] == "background"
