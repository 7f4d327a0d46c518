"""One open web chat socket's conversation: the opening frames, then messages both ways.

The stored conversation's history and state go out first; then the event hub's messages and
state changes are pumped to the socket while the visitor's frames are read, handed to the
engine, and refused with an error frame when malformed (the socket is closed after
``MAX_STRIKES`` refusals in a row).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from aiohttp import WSCloseCode, WSMsgType, web

from bot.contracts import InboundHandler, WebLinking
from bot.events import Event
from bot.models import Address, Channel, InboundMessage
from bot.pipeline import log_context
from bot.storage.hub import EventHub
from bot.storage.store import RateLimitedError, Store
from connectors.webchat.frames import (
    FrameError,
    ServerFrame,
    error_frame,
    history_frame,
    message_frame,
    parse_client_frame,
    session_frame,
    state_frame,
)
from connectors.webchat.sessions import Opening

MAX_STRIKES = 10  # refused frames in a row before the socket is closed

log = logging.getLogger(__name__)


class Conversations:
    """Carries the conversation of each open socket between the visitor and the engine."""

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        handle: InboundHandler,
        links: WebLinking | None,
        sms: bool,
    ) -> None:
        """``links`` keeps typed verification codes out of the history; ``sms`` says visitors
        can carry on by SMS."""
        self._store = store
        self._hub = hub
        self._handle = handle
        self._links = links
        self._sms = sms

    async def converse(self, ws: web.WebSocketResponse, opening: Opening, ip: str | None) -> None:
        """Session, history and state frames (and the link's notice), then both ways until the
        socket closes."""
        token, cid = opening.token, opening.cid
        if ip:
            await self._store.seen_from(cid, ip)
        # every line of this socket's work names its conversation (the pump task inherits it)
        with log_context.conversation(cid), self._hub.listen(cid) as events:
            conversation = await self._store.load(cid)
            await send_frame(ws, session_frame(token, self._sms))
            await send_frame(ws, history_frame([m.to_dict() for m in conversation.messages]))
            await send_frame(ws, state_frame(conversation.state.value))
            if opening.notice is not None:
                await send_frame(ws, opening.notice)
            already = {m.id for m in conversation.messages}
            pump = asyncio.create_task(self._pump(ws, events, already))
            try:
                await self._read(ws, token, cid)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _pump(
        self, ws: web.WebSocketResponse, events: asyncio.Queue[Event], already: set[str]
    ) -> None:
        while not ws.closed:
            event = await events.get()
            if event["type"] == "resync":
                await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"resync")
                return
            if event["type"] == "message":
                if event["message"]["id"] in already:
                    continue
                await send_frame(ws, message_frame(event["message"]))
            elif event["type"] == "state":
                await send_frame(ws, state_frame(event["state"]))

    async def _read(self, ws: web.WebSocketResponse, token: str, cid: str) -> None:
        strikes = 0
        async for frame in ws:
            error: FrameError | None
            if frame.type is not WSMsgType.TEXT:
                error = FrameError("unsupported_frame", "only JSON text frames are accepted")
            else:
                error = await self._accept(token, cid, frame.data)
            if error is None:
                strikes = 0
                continue
            strikes += 1
            await send_frame(ws, error_frame(error))
            if strikes >= MAX_STRIKES:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many bad frames")

    async def _accept(self, token: str, cid: str, raw: str) -> FrameError | None:
        try:
            frame = parse_client_frame(raw)
        except FrameError as error:
            return error
        dedup_id = f"{token}:{frame.client_id}" if frame.client_id else secrets.token_hex(16)
        try:
            text = frame.text
            if self._links is not None:  # a typed verification code is never stored
                text = await self._links.seal_code(cid, text)
            await self._handle(
                InboundMessage(
                    Address(Channel.WEBCHAT, token), text, dedup_id=dedup_id, customer_id=cid
                )
            )
        except RateLimitedError as error:
            return FrameError(
                "rate_limited",
                f"too many messages; wait {error.retry_after_s} s, then send it again",
            )
        except Exception:
            log.exception("web chat message could not be stored")
            return FrameError("unavailable", "the message could not be stored; try again")
        return None


async def send_frame(ws: web.WebSocketResponse, frame: ServerFrame) -> None:
    """Send one server frame as JSON text."""
    await ws.send_json(frame)
