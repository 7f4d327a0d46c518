"""One chaos run end to end: Redis, the fake Twilio and the serve processes started, the load
with its chaos, the checks, everything stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp

from bench.chaos.faults import chaos_events, fire_when_due
from bench.chaos.load import CONNECT_TIMEOUT_S, load, plan, report_progress
from bench.chaos.model import Conv, Options, Replies, Run, SetupError
from bench.chaos.processes import make_servers, start_redis, start_servers, stop_servers
from bench.chaos.results import Result, summarize
from bench.chaos.verify import leftovers, read_redis, settle
from bench.questions import answer_kinds
from bot.storage.client import connect
from tests.support.serve_process import ServeError
from tests.support.twilio_fake import FakeTwilio

REQUEST_TIMEOUT_S = 10.0  # one webhook post


async def exercise(run: Run, conversations: Sequence[Conv]) -> Result:
    """Load with chaos, settle, read Redis back, check."""
    helpers = [asyncio.create_task(run.replies.follow()), asyncio.create_task(report_progress(run))]
    chaos = [asyncio.create_task(fire_when_due(run, e, conversations)) for e in run.events]
    client = connect(run.redis.url)
    try:
        await load(run, conversations)
        await asyncio.gather(*chaos)  # a restart may still be under way
        await asyncio.gather(*run.probing)  # conversations an event began
        checked = [*conversations, *run.probes]
        settle_s = await settle(client, run.options.settle)
        stored = await read_redis(client, checked)
        left = await leftovers(client)
    finally:
        for task in helpers + chaos + run.probing:
            task.cancel()
        await asyncio.gather(*helpers, *chaos, *run.probing, return_exceptions=True)
        await client.aclose()
    return summarize(run, checked, stored, settle_s, left)


@contextlib.asynccontextmanager
async def client_sessions(
    concurrency: int,
) -> AsyncIterator[tuple[aiohttp.ClientSession, aiohttp.ClientSession]]:
    """Two HTTP clients: for webhooks and health checks (a timeout per request), and for the
    web chat's sockets (none: a socket lives as long as its conversation)."""
    webhooks = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    sockets = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(
            timeout=webhooks, connector=aiohttp.TCPConnector(limit=concurrency + 16)
        ) as http,
        aiohttp.ClientSession(
            timeout=sockets, connector=aiohttp.TCPConnector(limit=2 * concurrency + 16)
        ) as ws,
    ):
        yield http, ws


async def run_suite(options: Options, workdir: Path, data: Path) -> Result:
    """Start Redis, the fake and the serve processes (with ``--split`` the fronts and the
    answer processes), exercise them, stop everything."""
    redis_server = await start_redis(workdir)
    try:
        async with FakeTwilio() as fake, client_sessions(options.concurrency) as (http, ws):
            conversations = plan(options)
            servers, answerers = make_servers(options, workdir, data, redis_server.url, fake.url)
            run = Run(
                options=options,
                workdir=workdir,
                servers=servers,
                redis=redis_server,
                fake=fake,
                http=http,
                sockets=ws,
                replies=Replies(fake),
                answers=answer_kinds(),
                events=chaos_events(options),
                total=sum(len(c.asks) for c in conversations),
                answerers=answerers,
            )
            try:
                try:
                    await start_servers(run)
                except ServeError as error:
                    raise SetupError(error.headline) from None
                return await exercise(run, conversations)
            finally:
                await stop_servers(servers + answerers)
    finally:
        await redis_server.stop()
