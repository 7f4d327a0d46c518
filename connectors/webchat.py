"""The web chat: the demo page, the widget's files and the ``/webchat/ws`` WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from bot.contracts import InboundHandler, LinkOpener, Sent, Unsure
from bot.events import Event
from bot.hub import EventHub
from bot.limits import RateLimiter
from bot.models import Address, InboundMessage, Message
from bot.store import RateLimitedError, Store
from connectors.webchat_frames import (
    FrameError,
    ServerFrame,
    error_frame,
    history_frame,
    message_frame,
    parse_client_frame,
    session_frame,
    state_frame,
)

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_FRAME_BYTES = 16 * 1024
MAX_STRIKES = 10  # refused frames in a row before the socket is closed
HEARTBEAT_S = 30.0
CHANNEL = "webchat"

LINK_REFUSED = FrameError(
    "link_invalid", "This link has expired or was already used. You can chat here as usual."
)

log = logging.getLogger(__name__)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class WebChatConnector:
    """Serves the widget and carries web chat conversations over WebSockets."""

    channel: ClassVar[str] = CHANNEL

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        handle: InboundHandler,
        allowed_origins: tuple[str, ...] = (),
        public_url: str | None = None,
        new_sessions: RateLimiter | None = None,
        open_link: LinkOpener | None = None,
        sms: bool = False,
    ) -> None:
        """``new_sessions`` limits the sessions one IP address may open; ``open_link`` takes
        a page opened with ``?continue=<token>`` (texted to an SMS customer) to that
        customer's conversation; ``sms`` says visitors can carry on by SMS."""
        self._store = store
        self._open_link = open_link
        self._sms = sms
        self._new_sessions = new_sessions
        self._hub = hub
        self._handle = handle
        self._allowed = {origin_of(o) for o in allowed_origins}
        self._public_origin = origin_of(public_url) if public_url else None
        self._sockets: set[web.WebSocketResponse] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        """The demo page, the WebSocket and the widget's static files."""
        return [
            web.get("/", self.index),
            web.get("/webchat/ws", self.websocket),
            web.static("/webchat", STATIC_DIR),
        ]

    async def send(
        self, to: Address, message: Message, unsure: Unsure | None = None
    ) -> Sent | None:
        """Nothing to do: every stored message reaches open sockets through the event hub."""
        return None

    async def index(self, request: web.Request) -> web.FileResponse:
        """The demo shop page with the embedded widget."""
        return web.FileResponse(STATIC_DIR / "index.html")

    def origin_allowed(self, request: web.Request) -> bool:
        """Same origin (``PUBLIC_URL``'s, else the request's Host) or one listed as allowed.

        A request without Origin is not from a browser page, so it cannot be a cross-site
        hijack, and is let through.
        """
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        own = self._public_origin or f"{request.scheme}://{request.host}".lower()
        return origin.lower().rstrip("/") in {own, *self._allowed}

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Session, history and state frames, then the conversation both ways."""
        if not self.origin_allowed(request):
            raise web.HTTPForbidden(text="origin not allowed")
        await self._limit_new_session(request)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._converse(
                ws, request.query.get("token"), request.query.get("continue"), request.remote
            )
        except Exception as error:  # e.g. Redis restarting: the widget reconnects and resends
            log.warning("web chat session interrupted: %r", error)
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"try again")
        finally:
            self._sockets.discard(ws)
        return ws

    async def _limit_new_session(self, request: web.Request) -> None:
        """429 for a new session (no token) from an address that opened too many."""
        if self._new_sessions is None or request.query.get("token"):
            return
        try:
            wait = await self._new_sessions.retry_after(request.remote or "unknown")
        except Exception as error:  # Redis unavailable: refuse cleanly, the widget retries
            log.warning("new web chat session refused: %r", error)
            raise web.HTTPServiceUnavailable(
                text="try again shortly", headers={"Retry-After": "2"}
            ) from None
        if wait is not None:
            raise web.HTTPTooManyRequests(
                text="too many new chat sessions from this address",
                headers={"Retry-After": str(wait)},
            )

    async def close_all(self) -> None:
        """Close every open socket with 1012 (service restart): the widget reconnects at once,
        to any process, resumes with its token and resends what was not acknowledged."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"restarting")

    async def _converse(
        self,
        ws: web.WebSocketResponse,
        requested: str | None,
        link: str | None,
        ip: str | None,
    ) -> None:
        opened = await self._continue(link) if link else None
        token, cid = opened or await self._session(requested)
        if ip:
            await self._store.seen_from(cid, ip)
        with self._hub.listen(cid) as events:
            conversation = await self._store.load(cid)
            await _send(ws, session_frame(token, self._sms))
            await _send(ws, history_frame([m.to_dict() for m in conversation.messages]))
            await _send(ws, state_frame(conversation.state.value))
            if link and opened is None:
                await _send(ws, error_frame(LINK_REFUSED))
            already = {m.id for m in conversation.messages}
            pump = asyncio.create_task(self._pump(ws, events, already))
            try:
                await self._read(ws, token, cid)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _continue(self, link: str) -> tuple[str, str] | None:
        """A new session on the conversation a texted link opens (None: no such link now)."""
        if self._open_link is None:
            return None
        token = secrets.token_urlsafe(24)
        cid = await self._open_link(link, Address(CHANNEL, token))
        return None if cid is None else (token, cid)

    async def _session(self, token: str | None) -> tuple[str, str]:
        if token and TOKEN_RE.fullmatch(token):
            cid = await self._store.customer_for(Address(CHANNEL, token))
            if cid is not None:
                return token, cid
        token = secrets.token_urlsafe(24)
        return token, await self._store.resolve(Address(CHANNEL, token))

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
                await _send(ws, message_frame(event["message"]))
            elif event["type"] == "state":
                await _send(ws, state_frame(event["state"]))

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
            await _send(ws, error_frame(error))
            if strikes >= MAX_STRIKES:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many bad frames")

    async def _accept(self, token: str, cid: str, raw: str) -> FrameError | None:
        try:
            frame = parse_client_frame(raw)
        except FrameError as error:
            return error
        dedup_id = f"{token}:{frame.client_id}" if frame.client_id else secrets.token_hex(16)
        try:
            await self._handle(
                InboundMessage(
                    Address(CHANNEL, token), frame.text, dedup_id=dedup_id, customer_id=cid
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


async def _send(ws: web.WebSocketResponse, frame: ServerFrame) -> None:
    await ws.send_json(frame)
