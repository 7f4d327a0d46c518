"""Load shedding: webhooks beyond the in-flight limit get 503 with Retry-After at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.pipeline.backpressure import RETRY_AFTER_S, shed_load


async def test_posts_beyond_the_limit_are_refused_and_others_pass(
    aiohttp_client: Callable[..., Awaitable[Any]],
) -> None:
    release = asyncio.Event()
    in_flight: list[web.Request] = []
    both_in = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        in_flight.append(request)
        if len(in_flight) == 2:
            both_in.set()
        await release.wait()
        return web.Response(text="done")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="page")

    app = web.Application(middlewares=[shed_load(limit=2)])
    app.router.add_post("/hook", slow)
    app.router.add_get("/", page)
    client = await aiohttp_client(app)
    held = [asyncio.create_task(client.post("/hook")) for _ in range(2)]
    await asyncio.wait_for(both_in.wait(), 10)  # both requests are counted in flight
    refused = await client.post("/hook")
    assert refused.status == 503
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert (await client.get("/")).status == 200  # GETs (pages, sockets) are not counted
    release.set()
    assert [response.status for response in await asyncio.gather(*held)] == [200, 200]
    assert (await client.post("/hook")).status == 200
