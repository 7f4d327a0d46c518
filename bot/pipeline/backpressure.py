"""Shedding load at the edge: a process answers webhooks with 503 and ``Retry-After`` once too
many are in flight, instead of letting every one of them time out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

MAX_IN_FLIGHT = 256  # webhook requests (POST) one process works on at once
RETRY_AFTER_S = 1

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def shed_load(limit: int = MAX_IN_FLIGHT) -> Middleware:
    """A middleware refusing POSTs beyond ``limit`` in flight (GETs, e.g. WebSockets, pass)."""
    in_flight = 0

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal in_flight
        if request.method != "POST":
            return await handler(request)
        if in_flight >= limit:
            raise web.HTTPServiceUnavailable(
                text="overloaded; try again", headers={"Retry-After": str(RETRY_AFTER_S)}
            )
        in_flight += 1
        try:
            return await handler(request)
        finally:
            in_flight -= 1

    return middleware
