"""Every HTTP request is named in its log lines and its response, with a sane id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.pipeline.log_context import ContextFilter, request_id
from connectors.request_id import HEADER, MAX_ID_CHARS, request_id_for, request_ids

ClientFactory = Callable[..., Awaitable[Any]]
log = logging.getLogger("omnibot.test")


def small_app() -> web.Application:
    """Routes that log, refuse, hand work to a task and upgrade to a WebSocket."""

    async def hello(request: web.Request) -> web.Response:
        log.info("hello")
        return web.Response(text=request_id() or "")

    async def refused(request: web.Request) -> web.Response:
        raise web.HTTPForbidden(text="no")

    async def later(request: web.Request) -> web.Response:
        async def work() -> None:
            await asyncio.sleep(0)
            log.info("from a task")

        await asyncio.create_task(work())
        return web.Response()

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(request_id() or "")
        await ws.close()
        return ws

    app = web.Application(middlewares=[request_ids()])
    app.router.add_get("/hello", hello)
    app.router.add_get("/refused", refused)
    app.router.add_get("/later", later)
    app.router.add_get("/ws", socket)
    return app


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Callable[[], list[object]]:
    """The request ids of the test logger's records, stamped as the service's handlers do."""
    caplog.set_level(logging.INFO, logger="omnibot.test")
    caplog.handler.addFilter(ContextFilter())
    return lambda: [getattr(record, "request", None) for record in caplog.records]


@pytest.mark.parametrize(
    "sent",
    ["", " ", "a b", 'x"y', "x" * (MAX_ID_CHARS + 1), "id\u00e9", "+15557654321", None],
)
def test_an_insane_request_id_is_replaced(sent: str | None) -> None:
    made = request_id_for(sent)
    assert made != sent
    assert len(made) == 16
    assert int(made, 16) >= 0


@pytest.mark.parametrize("sent", ["abc", "5f0c-1d2e:7.a_b", "x" * MAX_ID_CHARS])
def test_a_sane_request_id_is_kept(sent: str) -> None:
    assert request_id_for(sent) == sent


async def test_the_id_is_in_the_log_lines_and_the_response(
    aiohttp_client: ClientFactory, logged: Callable[[], list[object]]
) -> None:
    client = await aiohttp_client(small_app())
    response = await client.get("/hello", headers={HEADER: "edge-42"})
    assert response.headers[HEADER] == "edge-42"
    assert await response.text() == "edge-42"
    fresh = await client.get("/hello", headers={HEADER: "bad id"})
    assert fresh.headers[HEADER] != "bad id"
    assert logged() == ["edge-42", fresh.headers[HEADER]]
    assert request_id() is None  # nothing leaked into the test's own context


async def test_a_refusal_and_work_in_a_task_carry_the_id(
    aiohttp_client: ClientFactory, logged: Callable[[], list[object]]
) -> None:
    client = await aiohttp_client(small_app())
    refused = await client.get("/refused", headers={HEADER: "r-1"})
    assert (refused.status, refused.headers[HEADER]) == (403, "r-1")
    later = await client.get("/later")
    assert logged() == [later.headers[HEADER]]


async def test_a_websocket_is_handled_under_its_request_id(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(small_app())
    async with client.ws_connect("/ws", headers={HEADER: "ws-7"}) as ws:
        assert await ws.receive_str() == "ws-7"
