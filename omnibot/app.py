"""The composition root: builds the service from settings and wires connectors and intents
(the intent side in :mod:`omnibot.engine`, the channels and desks in :mod:`omnibot.channels`).

What one process runs depends on its role (:mod:`omnibot.roles`): a front process imports no
module of the intent model (they are imported here only when the role answers), serves HTTP and
relays events; an answer process consumes the work stream and serves no route.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import redis.asyncio as redis
from aiohttp import web
from aiohttp.typedefs import Middleware

from bot import background
from bot.background import Lifecycle
from bot.contracts import AgentDesk
from bot.core import Core, CoreConfig, build_core
from bot.desk.actions import HandoffActions
from bot.identity.link_base import LinkingSetup
from bot.insight.gauges import ReportGauges
from bot.insight.report_source import ReportSource
from bot.metrics import Metrics
from bot.models import Channel
from bot.models.channels import CHANNELS
from bot.pipeline.backpressure import shed_load
from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis
from bot.storage.supervisor import RedisSupervisor
from bot.texts import Texts
from connectors.console.log_desk import LogDesk
from connectors.request_id import request_ids
from connectors.slack.events import SlackEvents
from omnibot.channels import (
    SocketMode,
    agent_console,
    check_channels,
    code_budget,
    console_served,
    console_url,
    slack_desk,
    sms_connector,
    sms_sender,
    webchat_connector,
)
from omnibot.health import (
    REPORT_GAUGES,
    MetricsListener,
    healthz,
    model_status,
    serve_metrics,
)
from omnibot.proxies import trusted_proxies
from omnibot.roles import REDIS, ROLE, AnswerBeat, NotAnswering, Role, processing_concurrency
from omnibot.services import SERVICES, Services
from omnibot.settings import Settings

if TYPE_CHECKING:  # the model's libraries: imported at run time only where the role answers
    from intents.knowledge.service import KnowledgeService
    from omnibot.engine import Intents
    from omnibot.swap import SwappableIntents
    from omnibot.tuning_job import TuningJob

log = logging.getLogger("omnibot")


def middlewares(settings: Settings) -> list[Middleware]:
    """The request's id first (every later part, and the load shedder's 503s, carry it), the
    client's address from trusted proxies next (every later part keys on it), then load
    shedding."""
    chain = [shed_load()]
    if settings.trusted_proxies:
        chain.insert(0, trusted_proxies(settings.trusted_proxies, settings.trusted_proxy_header))
    return [request_ids(), *chain]


def create_app(
    settings: Settings,
    intents: Intents | None = None,
    desk: AgentDesk | None = None,
    role: Role | None = None,
) -> web.Application:
    """The aiohttp application; Redis (embedded unless ``REDIS_URL``) starts with it.

    ``intents`` and ``desk`` replace what the settings would build (tests share one engine);
    ``role`` replaces ``ROLE``. An answer process's app has no route: it is run without a
    listener (:func:`omnibot.cli.serve`), for its start-up and clean-up only.
    """
    role = (settings.role if role is None else role).in_process
    check_channels(settings)
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    supervisor = RedisSupervisor(embedded) if embedded is not None else None
    url = settings.redis_url or (embedded.url if embedded else "")
    client = connect(url, settings.redis_cluster)
    swap = _swappable(settings, intents) if role.answers else None
    # intents given by the caller are the caller's choice: no tuning replaces them
    services = build_services(settings, client, swap, desk, tune=intents is None)
    app = web.Application(middlewares=middlewares(settings))
    app[SERVICES] = services
    app[ROLE] = role
    app[REDIS] = client
    if role.listens:
        add_routes(app, settings, services, client)
    app.on_shutdown.append(lambda app: services.webchat.close_all())
    # intents given by the caller keep their articles as they are (tests share them)
    knowledge = swap.current.knowledge if swap is not None and intents is None else None
    app.cleanup_ctx.append(lambda app: lifecycle(services, client, supervisor, knowledge, role))
    return app


def _swappable(settings: Settings, intents: Intents | None) -> SwappableIntents:
    """The intent side of a process that answers: ``intents``, or built from the settings
    (the help-centre index builds in the background once the app starts: answers never wait)."""
    from omnibot.engine import build_intents  # never in a front process
    from omnibot.swap import SwappableIntents

    built = intents or build_intents(settings, knowledge_now=False)
    return SwappableIntents(built, owns_first=intents is None)


def add_routes(
    app: web.Application, settings: Settings, services: Services, client: redis.Redis
) -> None:
    """The HTTP surface: health, metrics, the channels' webhooks and sockets, the desks."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", serve_metrics)
    gauges = ReportGauges(ReportSource(client, settings.retention_days))
    services.metrics.collect_also(gauges)  # read from Redis: the front's own, never summed
    app[REPORT_GAUGES] = gauges
    for connector in services.connectors.values():
        app.router.add_routes(connector.routes())
    if services.slack_events is not None and settings.slack_signing_secret:
        app.router.add_routes(services.slack_events.routes())
    if console_served(settings):
        app.router.add_routes(agent_console(settings, services, client).routes())


def build_services(
    settings: Settings,
    client: redis.Redis,
    intents: SwappableIntents | None,
    desk: AgentDesk | None,
    tune: bool = False,
) -> Services:
    """The core and the channels and desk around it, wired together on one Redis client.

    The core reads, classifies and answers through ``intents`` (None: a front process, which
    never does), so that with ``tune`` a model tuned in the background
    (:func:`omnibot.tuning_job.background_tuning`) replaces the one it started with."""
    slack = slack_desk(settings)
    sms_out = sms_sender(settings) if settings.sms_enabled else None
    side = NotAnswering() if intents is None else intents
    core = build_core(
        client,
        classifier=side,
        responder=side,
        reader=side,
        desk=desk or slack or LogDesk(),
        # web chat needs no sender: its delivery is the event stream
        senders={} if sms_out is None else {Channel.SMS: sms_out},
        metrics=Metrics(),
        config=core_config(settings),
    )
    webchat = webchat_connector(settings, client, core)
    sms = None if sms_out is None else sms_connector(settings, sms_out, core)
    events = (
        None
        if slack is None
        else SlackEvents(
            slack.client,
            settings.slack_signing_secret,
            core.tickets,
            HandoffActions(core.store, core.tickets, core.handoff, core.surveys),
        )
    )
    return Services(
        **_parts(core),
        settings=settings,
        intents=intents,
        connectors={c.channel: c for c in (webchat, sms) if c is not None},
        webchat=webchat,
        sms=sms,
        slack_events=events,
        tuning=_tuning(settings, client, intents) if tune else None,
    )


def _tuning(
    settings: Settings, client: redis.Redis, intents: SwappableIntents | None
) -> TuningJob | None:
    """The background fine-tuning of a process that answers (None in a front process)."""
    if intents is None:
        return None
    from omnibot.tuning_job import background_tuning  # never in a front process

    return background_tuning(settings, client, intents)


def core_config(settings: Settings) -> CoreConfig:
    """What the settings decide about the core."""
    texts = Texts(help=settings.sms_help_text)
    return CoreConfig(
        retention_days=settings.retention_days,
        redact_patterns=settings.redact_patterns,
        csat_after_bot=settings.csat_after_bot,
        rate_limit=(settings.messages_per_minute, 60),
        concurrency=processing_concurrency(
            settings.role.in_process, settings.processing_concurrency
        ),
        texts=texts,
        agent_hours=settings.agent_hours,
        # only the channels with opt-outs (SMS STOP) ask the deliveries' consent
        opt_out_channels=frozenset(c for c, info in CHANNELS.items() if info.opt_out),
        code_budget=code_budget(settings),
        linking=LinkingSetup(
            settings.sms_enabled, settings.twilio_from_number, settings.public_url
        ),
    )


def _parts(core: Core) -> dict[str, Any]:
    """The core's services by field name (a :class:`Services` holds them too)."""
    return {field.name: getattr(core, field.name) for field in fields(core)}


def _background_parts(services: Services, client: redis.Redis, role: Role) -> list[Lifecycle]:
    """The parts with background work a process of ``role`` runs, in the order they start
    (they stop in reverse: the inputs first, Redis's listeners last).

    A front process relays events to sockets (the hub) and takes Slack's Socket Mode events;
    it sends at once what it writes itself (an agent's reply, a STOP confirmation) through
    the same outbox and desk queue, but their sweepers (retries, a dead process's leftovers),
    the merges' resumption and the work stream run where the role answers: the model's CPU
    stays out of the process whose acknowledgements customers wait for."""
    parts: list[Lifecycle] = []
    if role.listens:
        parts.append(services.hub)
    if role.answers:
        # the beat carries this process's model status: a front's /healthz reports it
        beat = AnswerBeat(client, services.stream.consumer, status=lambda: model_status(services))
        parts += [services.desk_queue, services.outbox, services.stream, services.merger, beat]
        parts.append(services.surveys)  # after-bot surveys' sweeper (idle when they are off)
    port = services.settings.metrics_port
    if not role.listens and port is not None:  # an answer process's own /metrics
        parts.append(MetricsListener(services.metrics.scraped(), services.settings.host, port))
    app_token = services.settings.slack_app_token
    if role.listens and services.slack_events is not None and app_token:
        parts.append(SocketMode(services.slack_events, app_token))
    if services.tuning is not None:  # last: it stops first, ending its child process
        parts.append(services.tuning)
    return parts


async def lifecycle(
    services: Services,
    client: redis.Redis,
    supervisor: RedisSupervisor | None,
    knowledge: KnowledgeService | None = None,
    role: Role = Role.ALL,
) -> AsyncIterator[None]:
    """Start Redis (when embedded) and the background parts of ``role`` (``knowledge``: the
    help-centre index kept in step with its folder); on the way out the exit stack stops them
    in the reverse order, whatever failed."""
    async with AsyncExitStack() as stack:
        if supervisor is not None:
            await background.start(stack, supervisor)
        stack.push_async_callback(client.aclose)
        if services.sms is not None:
            stack.push_async_callback(services.sms.sender.close)
        if services.intents is not None:
            stack.callback(services.intents.close)  # the models it owns
        if not role.answers:  # sends it began itself finish before the clients close
            stack.push_async_callback(services.outbox.settle)
        if knowledge is not None:
            # started and stopped with the app, never closed by it: the process shares one
            # service per folder (omnibot.engine), and another app may be serving from it
            await background.start(stack, knowledge)
        for part in _background_parts(services, client, role):
            await background.start(stack, part)
        log.info(
            "%s process: channels on: %s; agent desk: %s",
            role,
            ", ".join(sorted(services.connectors)),
            desk_description(services),
        )
        yield


def desk_description(services: Services) -> str:
    """The agent desk as the start-up log names it: Slack's, or the local console's address."""
    if isinstance(services.desk, LogDesk):
        url = console_url(services.settings)
        return f"the local agent console at {url} (LogDesk: tickets also go to this log)"
    return type(services.desk).__name__
