"""The local agent desk: ``GET /agent``, the desk when Slack is not configured.

Routes: the page (``/agent``), its login and logout (``POST /agent/login``,
``POST /agent/logout``), the ``/agent/ws`` WebSocket (frames in
:mod:`connectors.console.frames`, one socket per agent in
:mod:`connectors.console.desk_socket`) and the page's static files under ``/agent/static/``.
Who may use it is :mod:`connectors.console.auth`'s decision: always the token. The
tickets stay in the core: the console reads the store and the desk's data and acts through
the core's :class:`~bot.contracts.DeskActions`. Personal data in the texts it shows is
masked (:mod:`connectors.console.masking`); an agent may reveal one message's original
(:mod:`connectors.console.reveal_api`), which is recorded.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import redis.asyncio as redis
from aiohttp import web

from bot.contracts import DeskActions
from bot.desk.tickets import Tickets
from bot.identity.privacy import Privacy
from bot.insight.journal import Journal
from bot.insight.report_source import ReportSource
from bot.storage.hub import EventHub
from bot.storage.store import Store
from connectors.console.auth import (
    ORIGIN_TEXT,
    REALM,
    SIGN_IN_TEXT,
    AccessDeniedError,
    Guard,
)
from connectors.console.desk_socket import LIST_MAX_AGE_S, ConsoleSocket, TicketBoard
from connectors.console.masking import Masker
from connectors.console.privacy_api import PrivacyApi
from connectors.console.report_api import TodayApi
from connectors.console.reveal_api import RevealApi
from connectors.console.sessions import Attempts, Sessions

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_FRAME_BYTES = 64 * 1024
HEARTBEAT_S = 30.0
FORM_TYPE = "application/x-www-form-urlencoded"  # what the login form posts
FORM_CHARSETS = ("utf-8", "utf8", "us-ascii", "ascii")
FORM_TYPE_TEXT = f"post the login form as {FORM_TYPE} in UTF-8"
BAD_FORM_TEXT = "the login form could not be read"
UNAVAILABLE_TEXT = "The agent console cannot reach its data right now; try again shortly."
# The pages' {{placeholders}}; {{root}} is where the browser sees the console (PUBLIC_URL's
# path prefix included), so links and redirects hold behind a proxy too.
SIGNOUT_FORM = (
    '<form class="ac-signout" method="post" action="{{root}}/logout">'
    '<button type="submit" class="ac-button ac-on-accent">Sign out</button></form>'
)
LOGIN_ERROR = '<p class="ac-login-error" role="alert">{text}</p>'
LOGIN_WRONG_TEXT = "That token is not right. Try again."
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would also blank the Origin of our POSTs
    "Cache-Control": "no-store",
}

T = TypeVar("T")


class AgentConsole:
    """Serves the console page and its WebSocket; acts through the core's desk actions."""

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        actions: DeskActions,
        token: str,
        public_url: str | None,
        *,
        tickets: Tickets,
        client: redis.Redis,
        journal: Journal | None = None,
        patterns: Sequence[re.Pattern[str]] = (),
    ) -> None:
        """``token`` is the console's (see :func:`connectors.console.token.console_token`);
        ``client`` keeps the sessions and sign-in attempts; ``journal`` records reveals;
        ``patterns`` are the shop's own redaction patterns, masked with the built-in kinds."""
        self._store = store
        self._hub = hub
        self._actions = actions
        self._tickets = tickets
        self._guard = Guard(token, public_url, Sessions(client, token), Attempts(client))
        self._board = TicketBoard(store, tickets, LIST_MAX_AGE_S, Masker(patterns))
        self._reveal = RevealApi(store, tickets, journal or Journal(client), self._guard)
        self._privacy = PrivacyApi(Privacy(client, store), self._guard)
        self._today = TodayApi(ReportSource(client), self._guard)
        self._console_html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        self._login_html = (STATIC_DIR / "login.html").read_text(encoding="utf-8")

    def routes(self) -> list[web.AbstractRouteDef]:
        """The page, login and logout, the WebSocket, the static files, the customer data
        API (:mod:`connectors.console.privacy_api`), today's figures
        (:mod:`connectors.console.report_api`) and a message's original
        (:mod:`connectors.console.reveal_api`)."""
        return [
            web.get("/agent", self.page),
            web.post("/agent/login", self.login),
            web.post("/agent/logout", self.logout),
            web.get("/agent/ws", self.websocket),
            web.static("/agent/static", STATIC_DIR),
            *self._privacy.routes(),
            *self._today.routes(),
            *self._reveal.routes(),
        ]

    async def page(self, request: web.Request) -> web.Response:
        """The console, or the login form while the request is not signed in."""
        try:
            await self._admit(request)
        except AccessDeniedError as denied:
            return self._login_page(denied)
        return _html(self._render(self._console_html, signout=SIGNOUT_FORM))

    async def login(self, request: web.Request) -> web.Response:
        """Check the posted token; on success start a session and go to the console."""
        if not self._guard.origin_allowed(request):
            raise web.HTTPForbidden(text=ORIGIN_TEXT)
        given = await _posted_token(request)
        try:
            await _available(self._guard.verify(request, given))
        except AccessDeniedError as denied:
            return self._login_page(denied)
        redirect = web.HTTPSeeOther(self._guard.root)  # aiohttp wants these raised
        await _available(self._guard.start_session(request, redirect))
        raise redirect

    async def logout(self, request: web.Request) -> web.Response:
        """Revoke the session, forget its cookie and go back to the login form."""
        if not self._guard.origin_allowed(request):
            raise web.HTTPForbidden(text=ORIGIN_TEXT)
        redirect = web.HTTPSeeOther(self._guard.root)
        await _available(self._guard.end_session(request, redirect))
        raise redirect

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """The list, the followed conversation and the agent's actions, as JSON frames."""
        if not self._guard.origin_allowed(request, required=True):
            raise web.HTTPForbidden(text=ORIGIN_TEXT)
        try:
            session = await self._admit(request)
        except AccessDeniedError as denied:
            raise _refusal(denied) from None
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        alive = partial(self._guard.session_alive, session) if session else None
        await ConsoleSocket(
            ws, self._store, self._tickets, self._hub, self._actions, self._board, alive
        ).run()
        return ws

    async def _admit(self, request: web.Request) -> str | None:
        """:meth:`Guard.check`, with Redis trouble as a 503 rather than a 500."""
        return await _available(self._guard.check(request))

    def _login_page(self, denied: AccessDeniedError) -> web.Response:
        """The login form; it says what went wrong unless the token was simply missing."""
        text = LOGIN_WRONG_TEXT if denied.status == 401 else denied.reason
        error = "" if denied.reason == SIGN_IN_TEXT else LOGIN_ERROR.format(text=html.escape(text))
        # 401 tells scripts what is missing; a Bearer challenge opens no browser dialog.
        response = _html(self._render(self._login_html, error=error), status=denied.status)
        response.headers.update(_challenge(denied))
        return response

    def _render(self, template: str, **parts: str) -> str:
        """Fill a page's ``{{name}}`` placeholders (``parts`` are trusted HTML)."""
        for name, value in parts.items():
            template = template.replace("{{" + name + "}}", value)
        return template.replace("{{root}}", html.escape(self._guard.root))


async def _posted_token(request: web.Request) -> str | None:
    """The login form's token; 415 for another body type or charset, 400 for an unreadable
    body (never a 500 from a charset Python does not know)."""
    charset = (request.charset or "utf-8").lower()
    if request.content_type != FORM_TYPE or charset not in FORM_CHARSETS:
        raise web.HTTPUnsupportedMediaType(text=FORM_TYPE_TEXT)
    try:
        form = await request.post()
    except ValueError:  # UnicodeDecodeError included
        raise web.HTTPBadRequest(text=BAD_FORM_TEXT) from None
    given = form.get("token")
    return given.strip() if isinstance(given, str) else None


async def _available(step: Awaitable[T]) -> T:
    """Await ``step``; Redis down or timing out becomes a 503."""
    try:
        return await step
    except (redis.ConnectionError, redis.TimeoutError):
        raise web.HTTPServiceUnavailable(text=UNAVAILABLE_TEXT) from None


def _refusal(denied: AccessDeniedError) -> web.HTTPException:
    """A refused WebSocket handshake as its HTTP error."""
    if denied.status == 429:
        return web.HTTPTooManyRequests(text=denied.reason, headers=_challenge(denied))
    if denied.status == 401:
        return web.HTTPUnauthorized(text=denied.reason, headers=_challenge(denied))
    return web.HTTPForbidden(text=denied.reason)


def _challenge(denied: AccessDeniedError) -> dict[str, str]:
    if denied.retry_after is not None:
        return {"Retry-After": str(denied.retry_after)}
    return {"WWW-Authenticate": REALM} if denied.status == 401 else {}


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS
    )
