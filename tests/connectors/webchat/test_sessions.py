"""Which session a handshake opens: a new one, the token's, never a malformed token's."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.models import Address, Channel
from bot.storage.store import Store
from connectors.webchat.frames import error_frame
from connectors.webchat.sessions import LINK_REFUSED, Plan, SessionOpener
from tests.support.webchat_client import frame, opening


async def test_a_new_visitor_gets_a_session_and_an_empty_history(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, history, state = await opening(ws)
    assert len(token) == 32
    assert history == []
    assert state == "bot"


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


async def test_a_link_is_redeemed_without_a_session_or_when_the_visitor_confirms(
    store: Store,
) -> None:
    sessions = SessionOpener(store, None)
    token = "t" * 32
    cid = await store.resolve(Address(Channel.WEBCHAT, token))
    assert await sessions.plan({}) == Plan(None, None, False)
    assert await sessions.plan({"continue": "abc"}) == Plan(None, "abc", True)
    kept = await sessions.plan({"token": token, "continue": "abc"})
    assert kept == Plan((token, cid), "abc", False)
    assert not kept.new_session
    assert await sessions.plan({"token": token, "continue": "abc", "confirm": "1"}) == Plan(
        (token, cid), "abc", True
    )
    assert (await sessions.plan({"token": token, "confirm": "1"})).redeem is False


async def test_without_linking_a_link_is_refused_and_the_session_kept(store: Store) -> None:
    sessions = SessionOpener(store, None)
    token = "u" * 32
    cid = await store.resolve(Address(Channel.WEBCHAT, token))
    resumed = await sessions.open(await sessions.plan({"token": token, "continue": "abc"}))
    assert (resumed.token, resumed.cid) == (token, cid)
    assert resumed.notice == error_frame(LINK_REFUSED)
    fresh = await sessions.open(await sessions.plan({}))
    assert fresh.token != token
    assert fresh.notice is None
    assert fresh.cid == await store.customer_for(Address(Channel.WEBCHAT, fresh.token))
