"""The web chat WebSocket through aiohttp's test client, on a real Redis with the real engine."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from connectors.webchat.connector import MAX_FRAME_BYTES, MAX_STRIKES
from tests.conftest import AppFactory
from tests.support.webchat_client import frame, opening

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture


@pytest.fixture
async def client(aiohttp_client: ClientFactory, make_app: AppFactory) -> TestClient[Any, Any]:
    result: TestClient[Any, Any] = await aiohttp_client(
        make_app(webchat_allowed_origins=("https://shop.example",))
    )
    return result


async def test_a_new_visitor_gets_a_session_and_an_empty_history(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, history, state = await opening(ws)
    assert len(token) == 32
    assert history == []
    assert state == "bot"


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


async def test_resuming_with_the_token_replays_history_in_order(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        for text in ("hello", "what are your opening hours?"):
            await ws.send_json({"type": "message", "text": text})
            await frame(ws)
            await frame(ws)
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:
        again, history, state = await opening(ws)
    assert again == token
    assert [(m["role"], m["text"]) for m in history][0::2] == [
        ("customer", "hello"),
        ("customer", "what are your opening hours?"),
    ]
    assert [m["role"] for m in history] == ["customer", "bot", "customer", "bot"]
    assert state == "bot"


@pytest.mark.parametrize("token", ["not-a-token", "x" * 32, "../../etc/passwd", ""])
async def test_an_unknown_or_malformed_token_gets_a_fresh_session(
    client: TestClient[Any, Any], token: str
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        mine, _, _ = await opening(ws)
        await ws.send_json({"type": "message", "text": "hello"})
        await frame(ws)
    async with client.ws_connect("/webchat/ws", params={"token": token}) as ws:
        fresh, history, _ = await opening(ws)
    assert fresh not in (mine, token)
    assert history == []


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


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://evil.example", False),
        ("https://shop.example", True),
        ("null", False),
        (None, True),
    ],
)
async def test_the_origin_is_checked_at_the_handshake(
    client: TestClient[Any, Any], origin: str | None, allowed: bool
) -> None:
    headers = {} if origin is None else {"Origin": origin}
    if allowed:
        async with client.ws_connect("/webchat/ws", headers=headers) as ws:
            await opening(ws)
        return
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/webchat/ws", headers=headers)
    assert refused.value.status == 403


async def test_the_page_own_origin_is_allowed(client: TestClient[Any, Any]) -> None:
    own = f"http://{client.host}:{client.port}"
    async with client.ws_connect("/webchat/ws", headers={"Origin": own}) as ws:
        await opening(ws)


async def test_a_second_tab_sees_the_same_conversation(client: TestClient[Any, Any]) -> None:
    async with client.ws_connect("/webchat/ws") as first:
        token, _, _ = await opening(first)
        async with client.ws_connect(f"/webchat/ws?token={token}") as second:
            await opening(second)
            await first.send_json({"type": "message", "text": "hello"})
            seen = [await frame(second), await frame(second)]
    assert [(f["role"], f["type"]) for f in seen] == [("customer", "message"), ("bot", "message")]


async def test_the_demo_page_and_widget_are_served(client: TestClient[Any, Any]) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert '<script src="/webchat/widget.js" defer></script>' in await page.text()
    for path in ("/webchat/widget.js", "/webchat/widget.css"):
        assert (await client.get(path)).status == 200


async def test_shutdown_closes_sockets_with_service_restart(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    app = make_app()
    client = await aiohttp_client(app)
    ws = await client.ws_connect("/webchat/ws")
    await opening(ws)
    await app.shutdown()
    closing = await ws.receive(timeout=10)
    assert closing.type is WSMsgType.CLOSE
    assert closing.data == WSCloseCode.SERVICE_RESTART


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


async def test_new_sessions_from_one_address_are_limited(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app(sessions_per_minute=2))
    for _ in range(2):
        async with client.ws_connect("/webchat/ws") as ws:
            token, _, _ = await opening(ws)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/webchat/ws")
    assert refused.value.status == 429
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:  # a session resumes
        assert (await opening(ws))[0] == token


@pytest.mark.parametrize("token", ["x" * 32, "junk"])
async def test_an_unknown_token_counts_as_a_new_session(
    aiohttp_client: ClientFactory, make_app: AppFactory, token: str
) -> None:
    client = await aiohttp_client(make_app(sessions_per_minute=2))
    for _ in range(2):
        async with client.ws_connect("/webchat/ws", params={"token": token}) as ws:
            await opening(ws)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/webchat/ws", params={"token": token})
    assert refused.value.status == 429


async def test_open_sockets_per_address_are_capped_across_processes(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    first = await aiohttp_client(make_app(sockets_per_address=2))
    second = await aiohttp_client(make_app(sockets_per_address=2))  # another process
    async with first.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        async with second.ws_connect(f"/webchat/ws?token={token}") as other:
            await opening(other)
            for client in (first, second):  # a resumed session counts as an open socket too
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(f"/webchat/ws?token={token}")
                assert refused.value.status == 429
        await asyncio.sleep(0.2)  # the closed socket is uncounted as its handler ends
        async with second.ws_connect(f"/webchat/ws?token={token}") as again:
            assert (await opening(again))[0] == token
