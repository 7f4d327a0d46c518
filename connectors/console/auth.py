"""Who may use the agent console.

Always the token (``AGENT_CONSOLE_TOKEN``, or the one generated into the data directory, see
:mod:`connectors.console.token`): there is no "this machine only" mode, since behind a
reverse proxy every request looks local. A request brings it as a bearer ``Authorization``
header (scripts), or brings the session cookie the login form sets (browsers). A session is
random and lives in Redis (:class:`~connectors.console.sessions.Sessions`): it expires,
and Sign out revokes it. The cookie is ``HttpOnly``, ``SameSite=Strict`` and scoped to the
console's path; the token only ever travels in a POST body or a header, never in a URL.

Every presented token, and every session cookie that is not live, counts as a sign-in attempt
of the client's address (``request.remote``); past the limit the address gets 429 with
``Retry-After``, right token or not, until its window ends.

Browsers send cookies with cross-site WebSocket handshakes, so a handshake must carry the
service's own ``Origin`` (cross-site WebSocket hijacking); one without an ``Origin`` is refused
too. Posts (login, logout) with a foreign ``Origin`` are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web

from connectors.console.sessions import Attempts, Sessions
from connectors.console.token import MIN_TOKEN_CHARS, check_token
from connectors.webchat.connector import origin_of

SESSION_COOKIE = "omnibot_agent"
CONSOLE_PATH = "/agent"
REALM = 'Bearer realm="omnibot agent console"'

SIGN_IN_TEXT = "The agent console needs its token (AGENT_CONSOLE_TOKEN, or the generated one)."
WRONG_TEXT = "That token is not right."
TOO_MANY_TEXT = "Too many wrong sign-ins from your address; try again in {seconds} s."
ORIGIN_TEXT = "origin not allowed"
CALLER_DIGITS = 8  # of a session's fingerprint: tells sessions apart, leads back to no cookie

log = logging.getLogger(__name__)


class AccessDeniedError(Exception):
    """A request may not use the console: 401 asks for the token, 403 refuses outright,
    429 says to wait ``retry_after`` seconds."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class Guard:
    """Checks the console's requests against the token and the sessions."""

    def __init__(
        self, token: str, public_url: str | None, sessions: Sessions, attempts: Attempts
    ) -> None:
        check_token(token)
        self._token = _bytes(token)
        self._sessions = sessions
        self._attempts = attempts
        self._public_url = public_url
        self._public_origin = origin_of(public_url) if public_url else None
        prefix = urlsplit(public_url).path.rstrip("/") if public_url else ""
        self.root = prefix + CONSOLE_PATH  # where the browser sees the console

    async def check(self, request: web.Request) -> str | None:
        """Let ``request`` in or raise :class:`AccessDeniedError`; the session it came with
        (None when it brought the token itself)."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and await self._sessions.valid(cookie):
            return cookie
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            await self.verify(request, value.strip())
            return None
        if cookie:  # expired, revoked or made up: an attempt like a wrong token
            await self.verify(request, None)
        raise AccessDeniedError(401, SIGN_IN_TEXT)

    async def verify(self, request: web.Request, given: str | None) -> None:
        """Count an attempt with ``given`` (None: none) and check it: 429 over the limit,
        401 when wrong."""
        retry_after = await self._attempts.begin(request.remote)
        if retry_after is not None:
            text = TOO_MANY_TEXT.format(seconds=retry_after)
            raise AccessDeniedError(429, text, retry_after)
        if given is None or not self.token_matches(given):
            log.warning("agent console: a wrong token or session from %s", request.remote)
            raise AccessDeniedError(401, WRONG_TEXT)
        await self._attempts.succeeded(request.remote)

    async def session_alive(self, session: str) -> bool:
        """Whether a session let in earlier is still live (not signed out, not expired)."""
        return await self._sessions.valid(session)

    def token_matches(self, given: str) -> bool:
        """Whether ``given`` is the token (in constant time; short ones never are)."""
        return len(given) >= MIN_TOKEN_CHARS and hmac.compare_digest(_bytes(given), self._token)

    def origin_allowed(self, request: web.Request, required: bool = False) -> bool:
        """Same origin (``PUBLIC_URL``'s, else the request's Host); a request without an
        Origin passes unless ``required`` (WebSocket handshakes)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return not required
        own = self._public_origin or f"{request.scheme}://{request.host}".lower()
        return origin.lower().rstrip("/") == own

    async def start_session(self, request: web.Request, response: web.StreamResponse) -> None:
        """Start a session and give the browser its cookie."""
        response.set_cookie(
            SESSION_COOKIE,
            await self._sessions.start(),
            path=self.root,  # no max_age: gone when the browser closes (Redis expires it too)
            httponly=True,
            samesite="Strict",
            secure=self._secure(request),
        )

    async def end_session(self, request: web.Request, response: web.StreamResponse) -> None:
        """Revoke the request's session and make the browser forget its cookie."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await self._sessions.end(cookie)
        response.del_cookie(
            SESSION_COOKIE,
            path=self.root,
            httponly=True,
            samesite="Strict",
            secure=self._secure(request),
        )

    def _secure(self, request: web.Request) -> bool:
        return request.secure or bool(
            self._public_url and self._public_url.lower().startswith("https:")
        )


def caller(session: str | None) -> str:
    """Who made a request, for audit lines and the journal: ``console session <fingerprint>``
    (a hash of the session's id, never the id) or ``console token`` (no session: the token
    itself, as scripts send it)."""
    if session is None:
        return "console token"
    digest = hashlib.sha256(_bytes(session)).hexdigest()[:CALLER_DIGITS]
    return f"console session {digest}"


def _bytes(text: str) -> bytes:
    # Headers may hold undecodable bytes (kept as surrogates): compare them, never crash.
    return text.encode("utf-8", "surrogateescape")
