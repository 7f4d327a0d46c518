"""``/healthz`` and ``/metrics`` (and, for an answer process with ``METRICS_PORT``, its own
``/metrics`` listener: :class:`MetricsListener`)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable
from typing import TypeVar
from wsgiref.simple_server import WSGIServer

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.exposition import start_http_server

from bot.insight.gauges import ReportGauges
from connectors.slack.desk import SlackDesk
from omnibot.answer_status import fresh_consumers, live_statuses, models_agree, summary
from omnibot.roles import ALIVE_S, REDIS, ROLE
from omnibot.services import SERVICES, Services

HEALTH_TIMEOUT_S = 2.0
REPORT_GAUGES = web.AppKey("report_gauges", ReportGauges)  # the report's figures at /metrics

T = TypeVar("T")

log = logging.getLogger("omnibot")


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers, 503 when it does not; the process's role, whether any answer
    process is alive (``answering``), which intent model serves, where its fine-tuning stands,
    and the help-centre index (articles, passages, state). A process that answers says its
    own; a front says what the live answer processes publish (:func:`answering_side`)."""
    services = request.app[SERVICES]
    role = request.app[ROLE]
    ok = await _within(services.store.ping()) or False
    client = request.app[REDIS]
    consumers = (await _within(fresh_consumers(client, ALIVE_S)) or []) if ok else []
    body: dict[str, object] = {
        "status": "ok" if ok else "unavailable",
        "redis": "ok" if ok else "down",
        "role": str(role),
        # a front process alone still accepts and stores; answers come once one is up
        "answering": "up" if consumers else "down",
        "answer_processes": len(consumers),
    }
    if role.answers:
        body.update(model_status(services))
    else:
        body.update(await answering_side(client, consumers))
    slack = await slack_health(services)
    if slack is not None:  # the desk's state; the service answers customers without it
        body["slack"] = slack
    return web.json_response({**body, "pid": os.getpid()}, status=200 if ok else 503)


async def answering_side(client: redis.Redis, consumers: list[str]) -> dict[str, object]:
    """A front's report of the answer processes: the top level from the one that speaks for
    most (:func:`omnibot.answer_status.summary`), each under ``answerers``, and whether their
    models agree (False mid-swap)."""
    statuses = (await _within(live_statuses(client, consumers)) or []) if consumers else []
    return {
        **summary(statuses),
        "answerers": statuses,
        "models_agree": models_agree(statuses),
    }


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
    """Prometheus text format: the counters of every process of the service in multiprocess
    mode (:meth:`bot.metrics.Metrics.scraped`), the report's gauges read again when a minute
    old."""
    if REPORT_GAUGES in request.app:
        await request.app[REPORT_GAUGES].refresh()
    # every process's counters in multiprocess mode (omnibot serve's split), else this one's
    response = web.Response(body=generate_latest(request.app[SERVICES].metrics.scraped()))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


class MetricsListener:
    """An answer process's own ``/metrics`` on ``port`` (``METRICS_PORT``): prometheus_client's
    HTTP server, in a thread of its own, for answer processes on another machine than the
    front (whose ``/metrics`` sums only its own machine's processes)."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self.port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Listen (``port`` 0: any free port, then known as :attr:`port`)."""
        self._server, self._thread = start_http_server(
            self.port, addr=self._host, registry=self._registry
        )
        self.port = self._server.server_port
        log.info("answer process metrics on http://%s:%d/metrics", self._host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await asyncio.to_thread(self._server.shutdown)
            self._server.server_close()
