"""The web chat: the demo page, the widget's files and the ``/webchat/ws`` WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from bot import background
from bot.contracts import InboundHandler, Sent, Unsure, WebLinking
from bot.events import Event
from bot.models import Address, Channel, InboundMessage, Message
from bot.pipeline import log_context
from bot.storage.hub import EventHub
from bot.storage.limits import RateLimiter
from bot.storage.store import RateLimitedError, Store
from connectors.webchat.frames import (
    FrameError,
    ServerFrame,
    error_frame,
    history_frame,
    link_frame,
    message_frame,
    parse_client_frame,
    session_frame,
    state_frame,
)
from connectors.webchat.sockets import REFRESH_S, SocketCap

STATIC_DIR = Path(__file__).resolve().parent / "static"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_FRAME_BYTES = 16 * 1024
MAX_STRIKES = 10  # refused frames in a row before the socket is closed
HEARTBEAT_S = 30.0

CONFIRM = "1"  # ?confirm=1: the visitor chose to switch to the link's conversation
LINK_REFUSED = FrameError(
    "link_invalid", "This link has expired or was already used. You can chat here as usual."
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Session = tuple[str, str]  # the session token and its customer id


@dataclass(frozen=True)
class Opening:
    """The session a socket opens on, and what became of the link it came with, if any."""

    token: str
    cid: str
    notice: ServerFrame | None = None


@dataclass(frozen=True)
class Plan:
    """What a handshake asks for: the session it resumes, a link, and whether to redeem it."""

    resumed: Session | None
    link: str | None
    redeem: bool

    @property
    def new_session(self) -> bool:
        """Whether a new session is opened (counted against ``SESSIONS_PER_MINUTE``)."""
        return self.resumed is None or self.redeem


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
        self._store = store
        self._links = links
        self._cap = socket_cap
        self._held: dict[web.WebSocketResponse, tuple[str, str]] = {}
        self._refresher: asyncio.Task[None] | None = None
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
        plan = await _unless_redis_fails(self._plan(request))
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
            await self._converse(ws, await self._open(plan), ip)
        except Exception as error:  # e.g. Redis restarting: the widget reconnects and resends
            log.warning("web chat session interrupted: %r", error)
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"try again")
        finally:
            self._sockets.discard(ws)

    async def _plan(self, request: web.Request) -> Plan:
        """The session a handshake resumes and the link it carries: a link is redeemed by a
        visitor without a session of their own, or by one who chose to switch (``confirm``)."""
        resumed = await self._resume(request.query.get("token"))
        link = request.query.get("continue") or None
        confirmed = request.query.get("confirm") == CONFIRM
        return Plan(resumed, link, link is not None and (resumed is None or confirmed))

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

    async def _converse(self, ws: web.WebSocketResponse, opening: Opening, ip: str | None) -> None:
        token, cid = opening.token, opening.cid
        if ip:
            await self._store.seen_from(cid, ip)
        # every line of this socket's work names its conversation (the pump task inherits it)
        with log_context.conversation(cid), self._hub.listen(cid) as events:
            conversation = await self._store.load(cid)
            await _send(ws, session_frame(token, self._sms))
            await _send(ws, history_frame([m.to_dict() for m in conversation.messages]))
            await _send(ws, state_frame(conversation.state.value))
            if opening.notice is not None:
                await _send(ws, opening.notice)
            already = {m.id for m in conversation.messages}
            pump = asyncio.create_task(self._pump(ws, events, already))
            try:
                await self._read(ws, token, cid)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _open(self, plan: Plan) -> Opening:
        """The session to open: the link's conversation when it is redeemed, else the visitor's
        own (offered the link's when they have one), else a fresh one."""
        if plan.link is not None and self._links is not None:
            if plan.redeem:
                token = secrets.token_urlsafe(24)
                grant = await self._links.open_link(plan.link, Address(Channel.WEBCHAT, token))
                if grant is not None:
                    return Opening(token, grant.cid, link_frame("link_opened", grant.phone))
            elif plan.resumed is not None:
                offered = await self._offer(plan.link, plan.resumed)
                if offered is not None:
                    return offered
        token, cid = plan.resumed or await self._fresh()
        return Opening(token, cid, None if plan.link is None else error_frame(LINK_REFUSED))

    async def _offer(self, link: str, session: Session) -> Opening | None:
        """A visitor with a session of their own keeps it and is offered the link's
        conversation (never switched silently); None when there is no such link now."""
        grant = await self._links.peek_link(link) if self._links is not None else None
        if grant is None or self._links is None:
            return None
        token, cid = session
        if grant.cid != cid:
            return Opening(token, cid, link_frame("link_offer", grant.phone))
        # already on that conversation (its holder, e.g. on a second link): nothing to ask
        await self._links.open_link(link, Address(Channel.WEBCHAT, token))
        return Opening(token, cid, link_frame("link_opened", grant.phone))

    async def _resume(self, token: str | None) -> Session | None:
        """The session a token names, or None (no token, or an unknown or malformed one)."""
        if token and TOKEN_RE.fullmatch(token):
            cid = await self._store.customer_for(Address(Channel.WEBCHAT, token))
            if cid is not None:
                return token, cid
        return None

    async def _fresh(self) -> Session:
        token = secrets.token_urlsafe(24)
        return token, await self._store.resolve(Address(Channel.WEBCHAT, token))

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


async def _send(ws: web.WebSocketResponse, frame: ServerFrame) -> None:
    await ws.send_json(frame)


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
