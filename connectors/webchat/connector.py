"""The web chat: the demo page, the widget's files and the ``/webchat/ws`` WebSocket.

The handshake is checked here (origin, new sessions and open sockets per address); which
session it opens is :mod:`connectors.webchat.sessions`, and the conversation on the open socket
:mod:`connectors.webchat.conversation`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

from bot import background
from bot.contracts import InboundHandler, Sent, Unsure, WebLinking
from bot.models import Address, Channel, Message
from bot.storage.hub import EventHub
from bot.storage.limits import RateLimiter
from bot.storage.store import Store
from connectors.webchat.conversation import Conversations
from connectors.webchat.sessions import Plan, SessionOpener
from connectors.webchat.sockets import REFRESH_S, SocketCap

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_FRAME_BYTES = 16 * 1024
HEARTBEAT_S = 30.0

log = logging.getLogger(__name__)

T = TypeVar("T")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class WebChatConnector:
    """Serves the widget and carries web chat conversations over WebSockets."""

    channel: ClassVar[str] = Channel.WEBCHAT

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        handle: InboundHandler,
        allowed_origins: tuple[str, ...] = (),
        public_url: str | None = None,
        new_sessions: RateLimiter | None = None,
        links: WebLinking | None = None,
        sms: bool = False,
        socket_cap: SocketCap | None = None,
    ) -> None:
        """``new_sessions`` limits the sessions one IP address may open, ``socket_cap`` the
        sockets it holds open; ``links`` takes a page opened with ``?continue=<token>``
        (texted to an SMS customer) to that customer's conversation, and keeps typed codes
        out of the history; ``sms`` says visitors can carry on by SMS."""
        self._sessions = SessionOpener(store, links)
        self._conversations = Conversations(store, hub, handle, links, sms)
        self._cap = socket_cap
        self._held: dict[web.WebSocketResponse, tuple[str, str]] = {}
        self._refresher: asyncio.Task[None] | None = None
        self._new_sessions = new_sessions
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
        plan = await _unless_redis_fails(self._sessions.plan(request.query))
        if plan.new_session:
            await self._limit_new_session(request.remote or "unknown")
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
        await self._hold_socket(ws, request.remote)
        try:
            await ws.prepare(request)
            await self._serve(ws, plan, request.remote)
        finally:
            await self._let_go(ws)
        return ws

    async def _serve(self, ws: web.WebSocketResponse, plan: Plan, ip: str | None) -> None:
        self._sockets.add(ws)
        try:
            opening = await self._sessions.open(plan)
            await self._conversations.converse(ws, opening, ip)
        except Exception as error:  # e.g. Redis restarting: the widget reconnects and resends
            log.warning("web chat session interrupted: %r", error)
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"try again")
        finally:
            self._sockets.discard(ws)

    async def _limit_new_session(self, ip: str) -> None:
        """429 for a new session (whatever the handshake carried) from an address that opened
        too many."""
        if self._new_sessions is None:
            return
        wait = await _unless_redis_fails(self._new_sessions.retry_after(ip))
        if wait is not None:
            raise web.HTTPTooManyRequests(
                text="too many new chat sessions from this address",
                headers={"Retry-After": str(wait)},
            )

    async def _hold_socket(self, ws: web.WebSocketResponse, ip: str | None) -> None:
        """Count the socket against its address's cap (429 when the address holds it)."""
        if self._cap is None or ip is None:
            return
        sid = await _unless_redis_fails(self._cap.hold(ip))
        if sid is None:
            raise web.HTTPTooManyRequests(
                text="too many open chat sockets from this address",
                headers={"Retry-After": str(int(REFRESH_S))},
            )
        self._held[ws] = (ip, sid)
        if self._refresher is None or self._refresher.done():
            # keeps this process's sockets counted while they are open
            self._refresher = background.periodic(
                self._refresh, REFRESH_S, "webchat-sockets", first_wait=True
            )

    async def _let_go(self, ws: web.WebSocketResponse) -> None:
        held = self._held.pop(ws, None)
        if held is not None and self._cap is not None:
            try:
                await self._cap.let_go(*held)
            except Exception as error:  # counted until it goes stale
                log.warning("web chat socket not uncounted: %r", error)

    async def _refresh(self) -> None:
        if self._cap is not None:
            await self._cap.refresh(list(self._held.values()))

    async def close_all(self) -> None:
        """Close every open socket with 1012 (service restart): the widget reconnects at once,
        to any process, resumes with its token and resends what was not acknowledged."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"restarting")
        await background.stop(self._refresher)


async def _unless_redis_fails(step: Awaitable[T]) -> T:
    """``step``'s result; 503 (the widget retries) when Redis cannot answer before the
    handshake."""
    try:
        return await step
    except Exception as error:
        log.warning("web chat handshake refused: %r", error)
        raise web.HTTPServiceUnavailable(
            text="try again shortly", headers={"Retry-After": "2"}
        ) from None
