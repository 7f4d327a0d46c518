"""A request id for every HTTP request: in the log lines of its handling and its response.

An incoming ``X-Request-ID`` (set by a proxy or load balancer, so one id follows a request
through every hop) is kept when it is a sane token: 1 to :data:`MAX_ID_CHARS` letters, digits
and ``.`` ``_`` ``:`` ``-``. Anything else (too long, spaces, quotes, a header injection try)
is replaced by a fresh random id, never logged as sent. The id is echoed in the response's
``X-Request-ID`` (a WebSocket handshake's response is sent before the handler returns, so it
carries none; its id is in the log lines).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.pipeline import log_context

HEADER = "X-Request-ID"
MAX_ID_CHARS = 128
SANE_ID_RE = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_ID_CHARS}}}")
NEW_ID_BYTES = 8  # 16 hex characters: unique enough to find one request's lines

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_id_for(sent: str | None) -> str:
    """``sent`` when it is a sane token, else a new random id."""
    if sent is not None and SANE_ID_RE.fullmatch(sent):
        return sent
    return secrets.token_hex(NEW_ID_BYTES)


def request_ids() -> Middleware:
    """A middleware naming each request (:func:`request_id_for` its ``X-Request-ID``) in the
    log context while it is handled, and in its response (errors too)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rid = request_id_for(request.headers.get(HEADER))
        with log_context.request(rid):
            try:
                response = await handler(request)
            except web.HTTPException as error:  # a response raised, e.g. 403, 429
                error.headers[HEADER] = rid
                raise
        if not response.prepared:  # a streamed or WebSocket response sent its headers already
            response.headers[HEADER] = rid
        return response

    return middleware
