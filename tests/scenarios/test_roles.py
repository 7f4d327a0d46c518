"""`omnibot serve --role front|answer` and `--split` as an operator runs them: a front process
alone accepts and stores (SMS and web chat) and says nobody answers; an answer process started
later answers everything in order; a killed one's work is answered by the next one; a split's
front reports the answer process's model and sums every process's counters."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.storage.embedded import free_port, running_url
from omnibot.engine import Intents
from omnibot.workers import split_sizes
from tests.conftest import PUBLIC_URL
from tests.scenarios.test_serve import settled
from tests.support.polling import wait_until
from tests.support.serve_process import (
    REDIS_PORTS,
    ServeProcess,
    Server,
    process_tree,
    redis_port,
)
from tests.support.twilio_fake import FakeTwilio, inbound_form, signature
from tests.support.webchat_client import chat

CUSTOMER = "+15557654321"
FRONT_MAX_RSS_MB = 150  # the front loads no model (the answer role's is ~300 MB)
WEBHOOK = f"{PUBLIC_URL}/sms/twilio"


async def health(base: str) -> dict[str, Any]:
    """The body of /healthz."""
    async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as response:
        body: dict[str, Any] = await response.json()
        return body


async def text(base: str, body: str, sid: str) -> int:
    """POST a signed Twilio webhook; the HTTP status."""
    form = inbound_form(sid, CUSTOMER, body)
    async with (
        aiohttp.ClientSession(base) as session,
        session.post("/sms/twilio", data=form, headers=signature(WEBHOOK, form)) as response,
    ):
        return response.status


async def answered_total(base: str) -> float:
    """The sum of ``omnibot_answered_total`` at the front's /metrics."""
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as response:
        text = await response.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "omnibot_answered"
        for sample in family.samples
        if sample.name == "omnibot_answered_total"
    )


def rss_mb(pid: int) -> float:
    """The resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def answer_process(front: Server, env: dict[str, str]) -> ServeProcess:
    """`omnibot serve --role answer` with ``env`` on the front's embedded Redis and data
    directory."""
    url = running_url(front.data_dir / "redis")
    assert url is not None
    env = dict(os.environ, **env, OMNIBOT_DATA_DIR=str(front.data_dir), REDIS_URL=url)
    env["PORT"] = str(free_port())  # not listened on: the launcher wants one
    return ServeProcess(
        env, front.data_dir, front.data_dir / "answer.log", options=["--role", "answer"]
    )


def split_process(data_dir: Path) -> ServeProcess:
    """`omnibot serve --split` as :class:`Server` runs `omnibot serve` (its embedded Redis
    recorded for the ``data_dir`` fixture's check once it is up)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(HOST="127.0.0.1", PORT=str(free_port()), OMNIBOT_DATA_DIR=str(data_dir))
    return ServeProcess(env, data_dir, data_dir / "serve.log", options=["--split"])


async def answering(front: ServeProcess, expected: str) -> None:
    """Wait until the front's /healthz says ``answering: expected``."""

    async def holds() -> bool:
        return bool((await health(front.base))["answering"] == expected)

    await front.wait_for(holds, f"answering: {expected}")


async def test_a_front_alone_accepts_and_an_answer_process_answers_later(
    data_dir: Path,
    intents: Intents,
    intents_data_dir: Path,
    twilio_api: FakeTwilio,
    sms_settings: dict[str, object],
) -> None:
    (data_dir / "cache").symlink_to(intents_data_dir / "cache")  # the session's trained model
    env = {name.upper(): str(value) for name, value in sms_settings.items()}
    front = Server(data_dir, {**env, "ROLE": "front"})
    answer: ServeProcess | None = None
    try:
        await front.wait_healthy()
        body = await health(front.base)
        assert (body["role"], body["answering"], body["model"]) == ("front", "down", "none")
        assert rss_mb(front.pid) < FRONT_MAX_RSS_MB
        assert await text(front.base, "where is my order?", "SM" + "1" * 32) == 200
        token, _, _ = await chat(front.base, None, ["hello"])
        _, history, _ = await chat(front.base, token, ["where is my order?"])
        assert [m["role"] for m in history] == ["customer"]  # stored, not answered
        assert twilio_api.sent == []

        answer = answer_process(front, env)
        await answering(front, "up")
        await wait_until(lambda: len(twilio_api.sent) == 1, 30, "the SMS answered")
        await wait_until(lambda: settled(data_dir), 30, "no work left")
        _, history, _ = await chat(front.base, token, [])
        # both were stored before anyone answered: answered after them, in their order
        assert [m["role"] for m in history] == ["customer", "customer", "bot", "bot"]
        assert [m["text"] for m in history][:2] == ["hello", "where is my order?"]

        await answer.kill()  # kill -9: its pending work waits for the next answer process
        for n in range(2, 5):
            assert await text(front.base, f"where is my order? ({n})", "SM" + str(n) * 32) == 200
        await answering(front, "down")
        answer = answer_process(front, env)
        await wait_until(lambda: len(twilio_api.sent) == 4, 60, "the SMS answered again")
        await wait_until(lambda: settled(data_dir), 30, "no work left")
        assert [call["To"] for call in twilio_api.sent] == [CUSTOMER] * 4  # once each
    finally:
        answered = 0 if answer is None else await answer.stopped()
        stopped = await front.stopped()
    assert (answered, stopped) == (0, 0)


def children(pid: int, role: str) -> list[int]:
    """The child processes of ``pid`` started with ``--role role``."""
    return [
        child
        for child in process_tree(pid)[1:]
        if f"--role\0{role}\0" in Path(f"/proc/{child}/cmdline").read_text(errors="replace")
    ]


async def test_split_runs_a_front_and_an_answer_process_and_restarts_them(
    data_dir: Path, intents: Intents, intents_data_dir: Path
) -> None:
    (data_dir / "cache").symlink_to(intents_data_dir / "cache")  # the session's trained model
    split = split_process(data_dir)
    try:
        await split.wait_healthy()
        REDIS_PORTS[data_dir].append(redis_port(data_dir))
        await answering(split, "up")
        (front,) = children(split.pid, "front")
        answers = children(split.pid, "answer")
        assert len(answers) == split_sizes(os.cpu_count() or 1)[1]
        answer = answers[0]
        assert rss_mb(front) < FRONT_MAX_RSS_MB
        _, _, state = await chat(split.base, None, ["where is my order?"])
        assert state == "bot"

        os.kill(answer, signal.SIGKILL)

        async def replaced() -> bool:
            again = children(split.pid, "answer")
            return len(again) == len(answers) and answer not in again

        await split.wait_for(replaced, "a new answer process")
        # asked while the new one may still be loading its model: answered once it is up
        token, _, _ = await chat(split.base, None, ["hello", "where is my order?"])

        async def answered() -> bool:
            _, history, _ = await chat(split.base, token, [])
            return bool(sum(m["role"] == "bot" for m in history) >= 2)

        await split.wait_for(answered, "both questions answered")
        _, history, _ = await chat(split.base, token, [])
        roles = [m["role"] for m in history]
        assert sorted(roles) == ["bot", "bot", "customer", "customer"]
        assert [m["text"] for m in history if m["role"] == "customer"] == [
            "hello",
            "where is my order?",
        ]
        # the front speaks for the answer process: its model, and every process's counters
        body = await health(split.base)
        assert body["model"] != "none"
        assert set(children(split.pid, "answer")) & {a["pid"] for a in body["answerers"]}

        async def only_the_live_one() -> bool:  # the killed one's status expires with its beat
            pids = sorted(a["pid"] for a in (await health(split.base))["answerers"])
            return pids == sorted(children(split.pid, "answer"))

        await split.wait_for(only_the_live_one, "the killed answer process's status gone")
        assert await answered_total(split.base) >= 3  # the killed process's answers count too
    finally:
        stopped = await split.stopped()
    assert stopped == 0
