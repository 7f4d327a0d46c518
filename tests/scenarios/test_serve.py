"""`omnibot serve` as a user runs it (by default a front and an answer process under a
supervising parent): embedded Redis, web chat, a restart that keeps history."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from bot.pipeline.lanes import queued_work
from bot.storage.embedded import running_url
from bot.storage.keys import OUTBOX_DUE_KEY
from bot.texts import Texts
from omnibot.engine import Intents
from tests.conftest import PUBLIC_URL
from tests.support.polling import wait_until
from tests.support.serve_process import Server
from tests.support.twilio_fake import FakeTwilio, inbound_form, signature
from tests.support.webchat_client import chat

CUSTOMER = "+15557654321"

TEXTS = Texts()


async def settled(data_dir: Path) -> bool:
    """Whether the embedded Redis of ``data_dir`` holds no work entry and no reply to send."""
    url = running_url(data_dir / "redis")
    assert url is not None
    client = aioredis.Redis.from_url(url)
    try:
        return await queued_work(client) == 0 and await client.zcard(OUTBOX_DUE_KEY) == 0
    finally:
        await client.aclose()


async def answering(server: Server) -> None:
    """Wait until an answer process is up (the front answers /healthz before it has loaded
    its model)."""

    async def up() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.base}/healthz") as response,
        ):
            return bool((await response.json())["answering"] == "up")

    await server.wait_for(up, "answering: up")


async def test_serve_answers_escalates_and_keeps_history_across_a_restart(data_dir: Path) -> None:
    server = Server(data_dir)
    try:
        await server.wait_healthy()
        await answering(server)
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
        await answering(server)
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
                # every message accepted so far processed and every reply sent: a wrong
                # extra call would have been made by now
                await wait_until(lambda: settled(data_dir), 20, "no work or reply left")
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
            assert (await replies(2))[-1] == TEXTS.opt_in
    finally:
        stopped = server.stop()
    assert stopped == 0
