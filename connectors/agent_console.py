"""The local agent desk: ``GET /agent``, the desk when Slack is not configured.

Routes: the page (``/agent``), its login and logout (``POST /agent/login``,
``POST /agent/logout``, used when ``AGENT_CONSOLE_TOKEN`` is set), the ``/agent/ws``
WebSocket (frames in :mod:`connectors.agent_console_frames`, one socket per agent in
:mod:`connectors.agent_console_socket`) and the page's static files under ``/agent/static/``.
Who may use it is :mod:`connectors.agent_console_auth`'s decision. The tickets stay in the
core: the console reads the store and the desk's data and acts through :class:`Handoff`.
"""

from __future__ import annotations

import asyncio
import html
import logging
from pathlib import Path

from aiohttp import web

from bot.handoff import Handoff
from bot.hub import EventHub
from bot.store import Store
from bot.tickets import Tickets
from connectors.agent_console_auth import ORIGIN_TEXT, REALM, AccessDeniedError, Guard
from connectors.agent_console_socket import ConsoleSocket, TicketBoard

STATIC_DIR = Path(__file__).resolve().parent / "agent_console_static"
MAX_FRAME_BYTES = 64 * 1024
HEARTBEAT_S = 30.0
FAILED_LOGIN_DELAY_S = 0.5  # slows guessing; the token itself should be long and random
# The pages' {{placeholders}}; {{root}} is where the browser sees the console (PUBLIC_URL's
# path prefix included), so links and redirects hold behind a proxy too.
SIGNOUT_FORM = (
    '<form class="ac-signout" method="post" action="{{root}}/logout">'
    '<button type="submit" class="ac-button ac-on-accent">Sign out</button></form>'
)
LOGIN_ERROR = '<p class="ac-login-error" role="alert">That token is not right. Try again.</p>'
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would also blank the Origin of our POSTs
    "Cache-Control": "no-store",
}

log = logging.getLogger(__name__)


class AgentConsole:
    """Serves the console page and its WebSocket; acts through the hand-off."""

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        handoff: Handoff,
        token: str | None,
        public_url: str | None,
        *,
        tickets: Tickets,
    ) -> None:
        self._store = store
        self._hub = hub
        self._handoff = handoff
        self._tickets = tickets
        self._guard = Guard(token, public_url)
        self._board = TicketBoard(store, tickets)
        self._console_html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        self._login_html = (STATIC_DIR / "login.html").read_text(encoding="utf-8")

    def routes(self) -> list[web.AbstractRouteDef]:
        """The page, login and logout, the WebSocket and the static files."""
        return [
            web.get("/agent", self.page),
            web.post("/agent/login", self.login),
            web.post("/agent/logout", self.logout),
            web.get("/agent/ws", self.websocket),
            web.static("/agent/static", STATIC_DIR),
        ]

    async def page(self, request: web.Request) -> web.Response:
        """The console, or the login form while the token is missing."""
        try:
            self._guard.check(request)
        except AccessDeniedError as denied:
            if denied.status == 401:
                return self._login_page()
            raise web.HTTPForbidden(text=denied.reason) from None
        signout = SIGNOUT_FORM if self._guard.needs_token else ""
        return _html(self._render(self._console_html, signout=signout))

    async def login(self, request: web.Request) -> web.Response:
        """Check the posted token; on success set the session cookie and go to the console."""
        if not self._guard.origin_allowed(request):
            raise web.HTTPForbidden(text=ORIGIN_TEXT)
        if not self._guard.needs_token:
            raise web.HTTPSeeOther(self._guard.root)
        form = await request.post()
        given = form.get("token")
        if not isinstance(given, str) or not self._guard.token_matches(given.strip()):
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)
            log.warning("agent console: wrong token from %s", request.remote)
            return self._login_page(failed=True)
        redirect = web.HTTPSeeOther(self._guard.root)  # aiohttp wants these raised
        self._guard.start_session(request, redirect)
        raise redirect

    async def logout(self, request: web.Request) -> web.Response:
        """Forget the session cookie and go back to the login form."""
        if not self._guard.origin_allowed(request):
            raise web.HTTPForbidden(text=ORIGIN_TEXT)
        redirect = web.HTTPSeeOther(self._guard.root)
        self._guard.end_session(request, redirect)
        raise redirect

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """The list, the followed conversation and the agent's actions, as JSON frames."""
        try:
            self._guard.check(request)
        except AccessDeniedError as denied:
            if denied.status == 401:
                raise web.HTTPUnauthorized(
                    text=denied.reason, headers={"WWW-Authenticate": REALM}
                ) from None
            raise web.HTTPForbidden(text=denied.reason) from None
        if not self._guard.origin_allowed(request):
            raise web.HTTPForbidden(text=ORIGIN_TEXT)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        await ConsoleSocket(
            ws, self._store, self._tickets, self._hub, self._handoff, self._board
        ).run()
        return ws

    def _login_page(self, failed: bool = False) -> web.Response:
        page = self._render(self._login_html, error=LOGIN_ERROR if failed else "")
        # 401 tells scripts what is missing; a Bearer challenge opens no browser dialog.
        response = _html(page, status=401)
        response.headers["WWW-Authenticate"] = REALM
        return response

    def _render(self, template: str, **parts: str) -> str:
        """Fill a page's ``{{name}}`` placeholders (``parts`` are trusted HTML)."""
        for name, value in parts.items():
            template = template.replace("{{" + name + "}}", value)
        return template.replace("{{root}}", html.escape(self._guard.root))


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS
    )
