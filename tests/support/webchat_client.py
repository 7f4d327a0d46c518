"""A web chat client for tests and benches: reading server frames (typed, with a timeout), the
opening handshake, and a whole short chat."""

from __future__ import annotations

import asyncio
import json
from typing import Any, NamedTuple

import aiohttp

FRAME_TIMEOUT_S = 10.0
QUIET_S = 1.0  # chat(): a socket silent this long has sent everything

Frame = dict[str, Any]  # a server frame as JSON; its shapes are connectors.webchat.frames'
OPENING = ("session", "history", "state")


class FrameError(Exception):
    """No usable frame: ``stall`` (none in time), ``closed <code>``, ``not a JSON object`` or
    ``bad opening``."""


class Opening(NamedTuple):
    """What a connection opens with: the session's token, the history's messages, the state."""

    token: str
    messages: list[Frame]
    state: str


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout_s: float) -> Frame:
    """The next server frame as JSON; :class:`FrameError` when the socket closes or it is late."""
    try:
        message = await asyncio.wait_for(ws.receive(), timeout_s)
    except TimeoutError:
        raise FrameError("stall") from None
    if message.type is not aiohttp.WSMsgType.TEXT:
        raise FrameError(f"closed {ws.close_code}")
    data = json.loads(message.data)
    if not isinstance(data, dict):
        raise FrameError("not a JSON object")
    return data


async def frame(ws: aiohttp.ClientWebSocketResponse) -> Frame:
    """The next server frame (fails after ``FRAME_TIMEOUT_S``)."""
    return await receive(ws, FRAME_TIMEOUT_S)


async def frames(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[Frame]:
    """The next ``count`` server frames."""
    return [await frame(ws) for _ in range(count)]


async def opening(
    ws: aiohttp.ClientWebSocketResponse, timeout_s: float = FRAME_TIMEOUT_S
) -> Opening:
    """The session, history and state frames a connection opens with (each within
    ``timeout_s``); :class:`FrameError` ``bad opening`` when they are not those three."""
    session, history, state = [await receive(ws, timeout_s) for _ in OPENING]
    if (session.get("type"), history.get("type"), state.get("type")) != OPENING:
        raise FrameError("bad opening")
    return Opening(str(session["token"]), list(history["messages"]), str(state["state"]))


async def chat(base: str, token: str | None, texts: list[str]) -> Opening:
    """Connect to ``base`` (as ``token``'s visitor if given), send ``texts`` (reading each echo
    and answer until the socket is quiet); the token, the history it opened with and the
    state it ended in."""
    url = f"{base}/webchat/ws" + (f"?token={token}" if token else "")
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        opened = await opening(ws)
        state = opened.state
        for text in texts:
            await ws.send_json({"type": "message", "text": text})
            for item in await _quiet(ws):
                state = item.get("state", state)
    return opened._replace(state=state)


async def _quiet(ws: aiohttp.ClientWebSocketResponse) -> list[Frame]:
    """Every frame until none comes for ``QUIET_S`` (a bounded wait: the answer's frames
    have no end marker)."""
    drained = []
    try:
        while True:
            drained.append(await ws.receive_json(timeout=QUIET_S))
    except TimeoutError:
        return drained
