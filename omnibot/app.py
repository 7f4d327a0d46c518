"""The composition root: builds the service from settings and wires connectors and intents
(the intent side in :mod:`omnibot.engine`, the channels and desks in :mod:`omnibot.channels`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import fields
from typing import Any

import redis.asyncio as redis
from aiohttp import web
from aiohttp.typedefs import Middleware

from bot import background
from bot.background import Lifecycle
from bot.contracts import AgentDesk
from bot.core import Core, CoreConfig, build_core
from bot.desk.actions import HandoffActions
from bot.identity.linking import LinkingSetup
from bot.metrics import Metrics
from bot.models import CHANNELS, Channel
from bot.pipeline.backpressure import shed_load
from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis
from bot.storage.supervisor import RedisSupervisor
from bot.texts import Texts
from connectors.console.log_desk import LogDesk
from connectors.slack.events import SlackEvents
from intents.knowledge.service import KnowledgeService
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
from omnibot.engine import Intents, build_intents
from omnibot.health import healthz, serve_metrics
from omnibot.proxies import trusted_proxies
from omnibot.services import SERVICES, Services
from omnibot.settings import Settings
from omnibot.swap import SwappableIntents
from omnibot.tuning_job import background_tuning

log = logging.getLogger("omnibot")


def middlewares(settings: Settings) -> list[Middleware]:
    """The client's address from trusted proxies first (every later part keys on it), then
    load shedding."""
    chain = [shed_load()]
    if settings.trusted_proxies:
        chain.insert(0, trusted_proxies(settings.trusted_proxies, settings.trusted_proxy_header))
    return chain


def create_app(
    settings: Settings, intents: Intents | None = None, desk: AgentDesk | None = None
) -> web.Application:
    """The aiohttp application; Redis (embedded unless ``REDIS_URL``) starts with it.

    ``intents`` and ``desk`` replace what the settings would build (tests share one engine).
    """
    check_channels(settings)
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    supervisor = RedisSupervisor(embedded) if embedded is not None else None
    url = settings.redis_url or (embedded.url if embedded else "")
    client = connect(url, settings.redis_cluster)
    # the help-centre index builds in the background once the app starts: answers never wait
    swap = SwappableIntents(
        intents or build_intents(settings, knowledge_now=False), owns_first=intents is None
    )
    # intents given by the caller are the caller's choice: no tuning replaces them
    services = build_services(settings, client, swap, desk, tune=intents is None)
    app = web.Application(middlewares=middlewares(settings))
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", serve_metrics)
    for connector in services.connectors.values():
        app.router.add_routes(connector.routes())
    if services.slack_events is not None and settings.slack_signing_secret:
        app.router.add_routes(services.slack_events.routes())
    if console_served(settings):
        app.router.add_routes(agent_console(settings, services, client).routes())
    app.on_shutdown.append(lambda app: services.webchat.close_all())
    # intents given by the caller keep their articles as they are (tests share them)
    knowledge = swap.current.knowledge if intents is None else None
    app.cleanup_ctx.append(lambda app: lifecycle(services, client, supervisor, knowledge))
    return app


def build_services(
    settings: Settings,
    client: redis.Redis,
    intents: SwappableIntents,
    desk: AgentDesk | None,
    tune: bool = False,
) -> Services:
    """The core and the channels and desk around it, wired together on one Redis client.

    The core reads, classifies and answers through ``intents``, so that with ``tune`` a
    model tuned in the background (:func:`background_tuning`) replaces the one it started
    with."""
    slack = slack_desk(settings)
    sms_out = sms_sender(settings) if settings.sms_enabled else None
    core = build_core(
        client,
        classifier=intents,
        responder=intents,
        reader=intents,
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
            HandoffActions(core.store, core.tickets, core.handoff),
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
        tuning=background_tuning(settings, client, intents) if tune else None,
    )


def core_config(settings: Settings) -> CoreConfig:
    """What the settings decide about the core."""
    texts = Texts(help=settings.sms_help_text)
    return CoreConfig(
        retention_days=settings.retention_days,
        rate_limit=(settings.messages_per_minute, 60),
        concurrency=settings.processing_concurrency,
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


def _background_parts(services: Services) -> list[Lifecycle]:
    """The parts with background work, in the order they start (they stop in reverse: the
    inputs first, Redis's listeners last)."""
    parts: list[Lifecycle] = [
        services.hub,
        services.desk_queue,
        services.outbox,
        services.stream,
        services.merger,
    ]
    app_token = services.settings.slack_app_token
    if services.slack_events is not None and app_token:
        parts.append(SocketMode(services.slack_events, app_token))
    if services.tuning is not None:  # last: it stops first, ending its child process
        parts.append(services.tuning)
    return parts


async def lifecycle(
    services: Services,
    client: redis.Redis,
    supervisor: RedisSupervisor | None,
    knowledge: KnowledgeService | None = None,
) -> AsyncIterator[None]:
    """Start Redis (when embedded) and the background parts (``knowledge``: the help-centre
    index kept in step with its folder); on the way out the exit stack stops them in the
    reverse order, whatever failed."""
    async with AsyncExitStack() as stack:
        if supervisor is not None:
            await background.start(stack, supervisor)
        stack.push_async_callback(client.aclose)
        if services.sms is not None:
            stack.push_async_callback(services.sms.sender.close)
        stack.callback(services.intents.close)  # the models it owns
        if knowledge is not None:
            stack.callback(knowledge.close)  # after its thread stopped
            await background.start(stack, knowledge)
        for part in _background_parts(services):
            await background.start(stack, part)
        log.info(
            "channels on: %s; agent desk: %s",
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
