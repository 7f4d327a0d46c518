"""The web chat handshake (origin, new sessions, open sockets per address), page and shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from tests.conftest import AppFactory
from tests.connectors.webchat.conftest import ClientFactory
from tests.support.webchat_client import opening


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
