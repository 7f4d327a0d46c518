"""The conversation on an open socket: messages both ways, bad frames refused, floods limited."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from connectors.webchat.connector import MAX_FRAME_BYTES
from connectors.webchat.conversation import MAX_STRIKES
from tests.conftest import AppFactory
from tests.connectors.webchat.conftest import ClientFactory
from tests.support.webchat_client import frame, opening


async def test_a_message_is_echoed_and_answered(client: TestClient[Any, Any]) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        await ws.send_json({"type": "message", "text": "where is my order?", "id": "m1"})
        echo, answer = await frame(ws), await frame(ws)
    assert (echo["type"], echo["role"], echo["text"]) == (
        "message",
        "customer",
        "where is my order?",
    )
    assert (answer["type"], answer["role"]) == ("message", "bot")
    assert "order" in answer["text"].lower()
    assert set(answer) >= {"id", "role", "text", "ts"}


async def test_a_resent_message_id_is_handled_once(client: TestClient[Any, Any]) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        for _ in range(2):
            await ws.send_json({"type": "message", "text": "hello", "id": "same"})
        await frame(ws)
        await frame(ws)
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:
        _, history, _ = await opening(ws)
    assert [m["role"] for m in history] == ["customer", "bot"]


async def test_bad_frames_get_error_frames_and_leave_the_conversation_intact(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        await ws.send_json({"type": "message", "text": "hello"})
        await frame(ws)
        await frame(ws)
        bad: list[Any] = [
            "{oops",
            {"type": "dance"},
            {"type": "message"},
            {"type": "message", "text": ""},
            {"type": "message", "text": "y" * 2001},
        ]
        codes = []
        for refused in bad:
            if isinstance(refused, str):
                await ws.send_str(refused)
            else:
                await ws.send_json(refused)
            reply = await frame(ws)
            assert reply["type"] == "error"
            codes.append(reply["code"])
        await ws.send_bytes(b"\x00\x01")
        codes.append((await frame(ws))["code"])
        assert codes == [
            "invalid_json",
            "unknown_type",
            "empty_text",
            "empty_text",
            "text_too_long",
            "unsupported_frame",
        ]
        await ws.send_json({"type": "message", "text": "thank you"})
        assert (await frame(ws))["text"] == "thank you"
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:
        _, history, _ = await opening(ws)
    assert [m["text"] for m in history][0::2] == ["hello", "thank you"]


async def test_a_deeply_nested_frame_is_refused_and_the_socket_stays_open(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        await ws.send_str("[" * (MAX_FRAME_BYTES - 1))
        refused = await frame(ws)
        await ws.send_json({"type": "message", "text": "still here?"})
        echo = await frame(ws)
    assert (refused["type"], refused["code"]) == ("error", "invalid_json")
    assert (echo["role"], echo["text"]) == ("customer", "still here?")
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


async def test_a_client_that_keeps_misbehaving_is_closed(client: TestClient[Any, Any]) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        for _ in range(MAX_STRIKES):
            await ws.send_str("nonsense")
        frames = [await ws.receive(timeout=10) for _ in range(MAX_STRIKES + 1)]
    assert frames[-1].type is WSMsgType.CLOSE
    assert frames[-1].data == aiohttp.WSCloseCode.POLICY_VIOLATION
    async with client.ws_connect("/webchat/ws") as ws:  # the service keeps serving
        await opening(ws)


async def test_a_second_tab_sees_the_same_conversation(client: TestClient[Any, Any]) -> None:
    async with client.ws_connect("/webchat/ws") as first:
        token, _, _ = await opening(first)
        async with client.ws_connect(f"/webchat/ws?token={token}") as second:
            await opening(second)
            await first.send_json({"type": "message", "text": "hello"})
            seen = [await frame(second), await frame(second)]
    assert [(f["role"], f["type"]) for f in seen] == [("customer", "message"), ("bot", "message")]


async def test_a_flooding_visitor_is_refused_and_nobody_else_is_slowed(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app(messages_per_minute=3))
    async with (
        client.ws_connect("/webchat/ws") as flooder,
        client.ws_connect("/webchat/ws") as other,
    ):
        await opening(flooder)
        await opening(other)
        for n in range(4):
            await flooder.send_json({"type": "message", "text": "hello", "id": f"f{n}"})
        frames = [await frame(flooder) for _ in range(7)]  # 3 echoes, 3 answers, 1 refusal
        [refusal] = [f for f in frames if f["type"] == "error"]
        assert refusal["code"] == "rate_limited"
        assert sum(f.get("role") == "customer" for f in frames) == 3
        await other.send_json({"type": "message", "text": "hello", "id": "o1"})
        assert (await frame(other))["role"] == "customer"
