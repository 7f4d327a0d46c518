"""``/healthz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from typing import TypeVar

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.insight.gauges import ReportGauges
from connectors.slack.desk import SlackDesk
from omnibot.roles import REDIS, ROLE, answering_count
from omnibot.services import SERVICES, Services

HEALTH_TIMEOUT_S = 2.0
REPORT_GAUGES = web.AppKey("report_gauges", ReportGauges)  # the report's figures at /metrics

T = TypeVar("T")


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers, 503 when it does not; the process's role, whether any answer
    process is alive (``answering``), which intent model serves here, where its fine-tuning
    stands, and the help-centre index (articles, passages, state)."""
    services = request.app[SERVICES]
    ok = await _within(services.store.ping()) or False
    answerers = (await _within(answering_count(request.app[REDIS])) or 0) if ok else 0
    body: dict[str, object] = {
        "status": "ok" if ok else "unavailable",
        "redis": "ok" if ok else "down",
        "role": str(request.app[ROLE]),
        # a front process alone still accepts and stores; answers come once one is up
        "answering": "up" if answerers else "down",
        "answer_processes": answerers,
    }
    body.update(model_status(services))
    slack = await slack_health(services)
    if slack is not None:  # the desk's state; the service answers customers without it
        body["slack"] = slack
    return web.json_response({**body, "pid": os.getpid()}, status=200 if ok else 503)


async def _within(call: Awaitable[T]) -> T | None:
    """``call``'s result, None when Redis fails or takes longer than ``HEALTH_TIMEOUT_S``."""
    try:
        return await asyncio.wait_for(call, HEALTH_TIMEOUT_S)
    except (TimeoutError, redis.RedisError, OSError):
        return None


def model_status(services: Services) -> dict[str, object]:
    """The intent model serving in this process (``none`` in a front process), its tuning,
    and the help-centre articles it answers from."""
    if services.intents is None:
        return {"model": "none", "tuning": "off"}
    body: dict[str, object] = {
        "model": services.intents.model_name,
        "tuning": tuning_status(services),
    }
    knowledge = services.intents.current.knowledge
    if knowledge is not None:
        body["knowledge"] = knowledge.status()
    return body


def tuning_status(services: Services) -> str:
    """``off``, ``waiting`` (another process tunes), ``running``, ``done`` or ``failed: why``."""
    if services.tuning is not None:
        return services.tuning.status
    if services.intents is not None and services.intents.model_name.startswith("tuned"):
        return "done"  # tuned before this process started
    return "off"


async def slack_health(services: Services) -> str | None:
    """``"ok"`` or ``"down"`` when the desk is Slack: its events arrive (Socket Mode's
    connection is up) and its Web API answered the last call."""
    if services.slack_events is None:
        return None
    reachable = not isinstance(services.desk, SlackDesk) or services.desk.reachable
    return "ok" if reachable and await services.slack_events.connected() else "down"


async def serve_metrics(request: web.Request) -> web.Response:
    """Prometheus text format (the report's gauges read again when a minute old)."""
    if REPORT_GAUGES in request.app:
        await request.app[REPORT_GAUGES].refresh()
    response = web.Response(body=generate_latest(request.app[SERVICES].metrics.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
