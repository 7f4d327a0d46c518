"""Who may use the agent console.

With ``AGENT_CONSOLE_TOKEN`` set, every page and WebSocket request needs it: as a bearer
``Authorization`` header (scripts), or as the session cookie the login form sets (browsers).
The cookie holds an HMAC of the token, not the token; it is ``HttpOnly`` (page scripts never
see it), ``SameSite=Strict`` and scoped to the console's path, and the token only ever travels
in a POST body, so it stays out of URLs and access logs.

Without a token the console answers this machine only: a loopback peer that named a loopback
host (a DNS-rebound name is refused), and never a request that came through a proxy or a
service with a ``PUBLIC_URL`` (behind a reverse proxy every request looks like loopback).

Browsers send cookies with cross-site WebSocket handshakes, so the handshake's ``Origin`` must
be the service's own as well (cross-site WebSocket hijacking).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from connectors.webchat import origin_of

SESSION_COOKIE = "omnibot_agent"
SESSION_CONTEXT = b"omnibot agent console session v1"
CONSOLE_PATH = "/agent"
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")
LOOPBACK_NAMES = ("localhost", "localhost.")
REALM = 'Bearer realm="omnibot agent console"'

SET_IT_TEXT = "Set AGENT_CONSOLE_TOKEN to a long random secret to use it from elsewhere."
NOT_LOCAL_TEXT = (
    "The agent console answers this machine only (127.0.0.1 or ::1) while "
    f"AGENT_CONSOLE_TOKEN is not set. {SET_IT_TEXT}"
)
PROXIED_TEXT = (
    "This request came through a proxy, where every request looks local, so the "
    f"agent console needs AGENT_CONSOLE_TOKEN. {SET_IT_TEXT}"
)
PUBLIC_TEXT = (
    "PUBLIC_URL is set, so this service sits behind a proxy or tunnel and the agent "
    f"console needs AGENT_CONSOLE_TOKEN. {SET_IT_TEXT}"
)
SIGN_IN_TEXT = "The agent console needs its token (AGENT_CONSOLE_TOKEN)."
ORIGIN_TEXT = "origin not allowed"


class AccessDeniedError(Exception):
    """A request may not use the console: 401 asks for the token, 403 refuses outright."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Guard:
    """Checks the console's requests against the token (or the loopback rule)."""

    def __init__(self, token: str | None, public_url: str | None) -> None:
        self._token = _bytes(token) if token else None
        self._session = (
            hmac.new(self._token, SESSION_CONTEXT, hashlib.sha256).hexdigest()
            if self._token
            else None
        )
        self._public_url = public_url
        self._public_origin = origin_of(public_url) if public_url else None
        prefix = urlsplit(public_url).path.rstrip("/") if public_url else ""
        self.root = prefix + CONSOLE_PATH  # where the browser sees the console

    @property
    def needs_token(self) -> bool:
        """Whether a token is configured (else the loopback rule applies)."""
        return self._token is not None

    def check(self, request: web.Request) -> None:
        """Raise :class:`AccessDeniedError` unless ``request`` may use the console."""
        if self._token is None:
            self._check_local(request)
        elif not self._credential_ok(request):
            raise AccessDeniedError(401, SIGN_IN_TEXT)

    def token_matches(self, given: str) -> bool:
        """Whether ``given`` is the token (in constant time)."""
        return self._token is not None and hmac.compare_digest(_bytes(given), self._token)

    def origin_allowed(self, request: web.Request) -> bool:
        """Same origin (``PUBLIC_URL``'s, else the request's Host), or no Origin at all (not a
        browser page, so not a cross-site hijack)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        own = self._public_origin or f"{request.scheme}://{request.host}".lower()
        return origin.lower().rstrip("/") == own

    def start_session(self, request: web.Request, response: web.StreamResponse) -> None:
        """Give the browser the session cookie (ends when the browser closes)."""
        assert self._session is not None
        response.set_cookie(
            SESSION_COOKIE,
            self._session,
            path=self.root,
            httponly=True,
            samesite="Strict",
            secure=self._secure(request),
        )

    def end_session(self, request: web.Request, response: web.StreamResponse) -> None:
        """Make the browser forget the session cookie."""
        response.del_cookie(
            SESSION_COOKIE,
            path=self.root,
            httponly=True,
            samesite="Strict",
            secure=self._secure(request),
        )

    def _credential_ok(self, request: web.Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return self.token_matches(value.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        return (
            cookie is not None
            and self._session is not None
            and hmac.compare_digest(_bytes(cookie), _bytes(self._session))
        )

    def _check_local(self, request: web.Request) -> None:
        if self._public_url:
            raise AccessDeniedError(403, PUBLIC_TEXT)
        if any(name in request.headers for name in PROXY_HEADERS):
            raise AccessDeniedError(403, PROXIED_TEXT)
        if not (is_loopback_address(request.remote) and is_loopback_host(request.host)):
            raise AccessDeniedError(403, NOT_LOCAL_TEXT)

    def _secure(self, request: web.Request) -> bool:
        return request.secure or bool(
            self._public_url and self._public_url.lower().startswith("https:")
        )


def is_loopback_address(remote: str | None) -> bool:
    """Whether a peer address is 127.0.0.0/8 or ::1 (IPv4-mapped forms included)."""
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_loopback_host(host: str) -> bool:
    """Whether a Host header names this machine (``localhost`` or a loopback address)."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # a malformed Host, e.g. an unclosed "[::1"
        return False
    return name in LOOPBACK_NAMES or is_loopback_address(name)


def _bytes(text: str) -> bytes:
    # Headers may hold undecodable bytes (kept as surrogates): compare them, never crash.
    return text.encode("utf-8", "surrogateescape")
