"""`omnibot serve` as a user runs it: embedded Redis, web chat, a restart that keeps history."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Intents
from bot.dispatcher import OPT_IN_TEXT
from bot.embedded_redis import free_port
from tests.conftest import PUBLIC_URL
from tests.polling import wait_until
from tests.twilio_fake import FakeTwilio, inbound_form, signature

CUSTOMER = "+15557654321"
READY_WITHIN_S = 60.0  # a first start exports and quantises the encoder, then trains


class Server:
    """An `omnibot serve` child process on a free port with its own data directory."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            OMNIBOT_DATA_DIR=str(data_dir),
            **(extra_env or {}),
        )
        self.log = data_dir / "serve.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                env=env,
                cwd=data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self) -> float:
        start = time.monotonic()
        async with aiohttp.ClientSession() as session:
            while time.monotonic() - start < READY_WITHIN_S:
                assert self.process.poll() is None, self.log.read_text()
                try:
                    async with session.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            REDIS_PORTS[self.data_dir].append(redis_port(self.data_dir))
                            return time.monotonic() - start
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"no healthy /healthz within {READY_WITHIN_S} s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)


REDIS_PORTS: defaultdict[Path, list[int]] = defaultdict(list)


def redis_port(data_dir: Path) -> int:
    """The port of the embedded redis-server a running omnibot started."""
    return int((data_dir / "redis" / "port").read_text())


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for port in REDIS_PORTS.pop(tmp_path, []):
        with socket.socket() as probe:  # nothing may listen there once omnibot stopped
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "redis-server outlived omnibot"


async def chat(base: str, token: str | None, texts: list[str]) -> tuple[str, list[Any], str]:
    """Connect, send ``texts`` (reading each echo and answer), return token, history, state."""
    url = f"{base}/webchat/ws" + (f"?token={token}" if token else "")
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        opening = [await ws.receive_json(timeout=10) for _ in range(3)]
        state = opening[2]["state"]
        for text in texts:
            await ws.send_json({"type": "message", "text": text})
            for item in await _drain(ws):
                state = item.get("state", state)
    return opening[0]["token"], opening[1]["messages"], state


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    drained = []
    try:
        while True:
            drained.append(await ws.receive_json(timeout=1.0))
    except TimeoutError:
        return drained


async def test_serve_answers_escalates_and_keeps_history_across_a_restart(data_dir: Path) -> None:
    server = Server(data_dir)
    try:
        await server.wait_healthy()
        token, history, state = await chat(server.base, None, ["where is my order?"])
        assert history == []
        assert state == "bot"
        _, history, state = await chat(server.base, token, ["I want to talk to a human"])
        assert [m["role"] for m in history] == ["customer", "bot"]
        assert state == "waiting"
        _, before, _ = await chat(server.base, token, [])
    finally:
        stopped = server.stop()  # not asserted here: that would hide the error that got here
    assert stopped == 0
    assert [m["text"] for m in before][0::2] == ["where is my order?", "I want to talk to a human"]

    again = Server(data_dir)
    try:
        await again.wait_healthy()
        _, after, state = await chat(again.base, token, [])
    finally:
        stopped = again.stop()
    assert stopped == 0
    assert after == before
    assert state == "waiting"


async def test_serve_answers_sms_once_and_honours_stop(
    data_dir: Path,
    intents: Intents,
    intents_data_dir: Path,
    twilio_api: FakeTwilio,
    sms_settings: dict[str, object],
) -> None:
    (data_dir / "cache").symlink_to(intents_data_dir / "cache")  # the session's trained model
    server = Server(data_dir, {name.upper(): str(value) for name, value in sms_settings.items()})
    webhook = f"{PUBLIC_URL}/sms/twilio"
    try:
        await server.wait_healthy()
        async with aiohttp.ClientSession(server.base) as session:

            async def text(body: str, sid: str, headers: dict[str, str] | None = None) -> int:
                form = inbound_form(sid, CUSTOMER, body)
                signed = signature(webhook, form) if headers is None else headers
                async with session.post("/sms/twilio", data=form, headers=signed) as response:
                    return response.status

            async def replies(count: int) -> list[str]:
                await wait_until(
                    lambda: len(twilio_api.sent) >= count, 20, f"{count} message-create calls"
                )
                await asyncio.sleep(0.5)  # room for a wrong extra call to show up
                return [call["Body"] for call in twilio_api.sent]

            assert await text("where is my order?", "SM" + "1" * 32) == 200
            assert len(await replies(1)) == 1
            assert twilio_api.sent[0]["To"] == CUSTOMER
            assert [await text("where is my order?", "SM" + "1" * 32) for _ in range(2)] == [
                200,
                200,
            ]
            assert await text("hello", "SM" + "2" * 32, headers={}) == 403
            assert (
                await text("hello", "SM" + "3" * 32, headers={"X-Twilio-Signature": "forged"})
                == 403
            )
            assert len(await replies(1)) == 1
            assert await text("STOP", "SM" + "4" * 32) == 200
            assert await text("hello", "SM" + "5" * 32) == 200
            assert len(await replies(1)) == 1
            assert await text("START", "SM" + "6" * 32) == 200
            assert (await replies(2))[-1] == OPT_IN_TEXT
    finally:
        stopped = server.stop()
    assert stopped == 0
