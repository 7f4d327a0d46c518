"""Reading the web chat's server frames in tests (one helper, typed, with a timeout)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

FRAME_TIMEOUT_S = 10.0

Frame = dict[str, Any]  # a server frame as JSON; its shapes are connectors.webchat.frames'


async def frame(ws: aiohttp.ClientWebSocketResponse) -> Frame:
    """The next server frame (fails after ``FRAME_TIMEOUT_S``)."""
    result: Frame = await asyncio.wait_for(ws.receive_json(), FRAME_TIMEOUT_S)
    return result


async def frames(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[Frame]:
    """The next ``count`` server frames."""
    return [await frame(ws) for _ in range(count)]


async def opening(ws: aiohttp.ClientWebSocketResponse) -> tuple[str, list[Frame], str]:
    """The session, history and state frames a connection opens with: token, messages, state."""
    session, history, state = await frames(ws, 3)
    assert (session["type"], history["type"], state["type"]) == ("session", "history", "state")
    return session["token"], history["messages"], state["state"]
