"""``/healthz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import os

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors.slack.desk import SlackDesk
from omnibot.services import SERVICES, Services

HEALTH_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers, 503 when it does not; which intent model serves, where its
    fine-tuning stands, and the help-centre index (articles, passages, state)."""
    store = request.app[SERVICES].store
    try:
        ok = await asyncio.wait_for(store.ping(), HEALTH_TIMEOUT_S)
    except (TimeoutError, redis.RedisError, OSError):
        ok = False
    status = 200 if ok else 503
    body: dict[str, object] = {
        "status": "ok" if ok else "unavailable",
        "redis": "ok" if ok else "down",
    }
    services = request.app[SERVICES]
    body["model"] = services.intents.model_name
    body["tuning"] = tuning_status(services)
    knowledge = services.intents.current.knowledge
    if knowledge is not None:  # the help-centre articles answered from
        body["knowledge"] = knowledge.status()
    slack = await slack_health(services)
    if slack is not None:  # the desk's state; the service answers customers without it
        body["slack"] = slack
    return web.json_response({**body, "pid": os.getpid()}, status=status)


def tuning_status(services: Services) -> str:
    """``off``, ``waiting`` (another process tunes), ``running``, ``done`` or ``failed: why``."""
    if services.tuning is not None:
        return services.tuning.status
    if services.intents.model_name.startswith("tuned"):
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
    """Prometheus text format."""
    response = web.Response(body=generate_latest(request.app[SERVICES].metrics.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
