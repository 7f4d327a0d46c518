"""The composition root: builds the service from settings and wires connectors and intents."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, fields
from typing import Any

import redis.asyncio as redis
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import background
from bot.background import Lifecycle
from bot.contracts import AgentDesk, Connector, IntentClassifier, Responder
from bot.core import Core, CoreConfig, build_core
from bot.delivery.records import DeliveryRecord
from bot.desk.actions import HandoffActions
from bot.identity.linking import LinkingSetup
from bot.identity.verification import CodeBudget
from bot.metrics import Metrics
from bot.models import CHANNELS, Channel
from bot.pipeline.backpressure import shed_load
from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis
from bot.storage.limits import RateLimiter
from bot.storage.supervisor import RedisSupervisor
from bot.texts import Texts
from connectors.console.console import AgentConsole
from connectors.console.log_desk import LogDesk
from connectors.console.token import TokenError, console_token
from connectors.slack.desk import SlackDesk
from connectors.slack.events import SlackEvents
from connectors.sms.connector import SmsConnector, SmsSender, TwilioAccount
from connectors.sms.twilio_api import TwilioMessages
from connectors.webchat.connector import WebChatConnector
from connectors.webchat.sockets import SocketCap
from intents.action_runner import ActionRunner, InProcessActions, RemoteActions
from intents.build import BuildOptions, build_classifier
from intents.members import TrainingConfig
from intents.rasa_project import load_intents, report_lines
from intents.responder import CatalogueResponder
from omnibot.proxies import trusted_proxies
from omnibot.settings import Settings, SettingsError

HEALTH_TIMEOUT_S = 2.0

log = logging.getLogger("omnibot")


@dataclass(frozen=True)
class Intents:
    """The intent side of the service: a classifier and the responder for its predictions."""

    classifier: IntentClassifier
    responder: Responder


@dataclass(frozen=True, kw_only=True)
class Services(Core):
    """Everything a running app holds, reachable as ``app[SERVICES]``: the core and the
    channels around it."""

    settings: Settings
    intents: Intents
    connectors: dict[str, Connector]
    webchat: WebChatConnector
    sms: SmsConnector | None
    slack_events: SlackEvents | None


SERVICES = web.AppKey("services", Services)


def build_options(settings: Settings) -> BuildOptions:
    """The intent engine's build options from the settings."""
    return BuildOptions(
        encoder=settings.encoder,
        config=TrainingConfig(target_precision=settings.target_precision),
        threshold=settings.confidence_threshold,
    )


def build_intents(settings: Settings, rebuild: bool = False, progress: bool = False) -> Intents:
    """Load the catalogue and the classifier: from the cache, or trained now (blocking)."""
    start = time.perf_counter()
    catalogue, report = load_intents(settings.intents_path)
    if report is not None:  # a Rasa project: say what was imported and what escalates
        log.info(
            "Rasa project %s:\n%s",
            settings.intents_path,
            "\n".join(report_lines(catalogue, report)),
        )
    texts, labels = catalogue.training_data()
    log.info("loading the intent model of %s (%d intents)", settings.intents_path, len(set(labels)))
    classifier = build_classifier(
        texts,
        labels,
        settings.cache_dir,
        build_options(settings),
        rebuild=rebuild,
        progress=progress,
    )
    actions: ActionRunner = (
        RemoteActions(settings.action_endpoint)
        if settings.action_endpoint
        else InProcessActions(orders_path=settings.orders_path)
    )
    log.info("intent model ready in %.1f s", time.perf_counter() - start)
    return Intents(classifier=classifier, responder=CatalogueResponder(catalogue, actions))


def twilio_messages(settings: Settings) -> TwilioMessages:
    """The Twilio REST client for sending (built inside the running event loop)."""
    assert settings.twilio_account_sid is not None
    assert settings.twilio_auth_token is not None
    return TwilioMessages(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_url,
        settings.twilio_from_number,
        settings.twilio_messaging_service_sid,
    )


def check_channels(settings: Settings) -> None:
    """Refuse settings that switch a channel on without what it needs to work."""
    if settings.slack_enabled and not settings.slack_escalation_channel:
        raise SettingsError(
            "SLACK_ESCALATION_CHANNEL", "", "the channel tickets go to when SLACK_BOT_TOKEN is set"
        )
    if not settings.sms_enabled:
        return
    if not settings.twilio_account_sid:
        raise SettingsError(
            "TWILIO_ACCOUNT_SID", "", "the account SID when TWILIO_AUTH_TOKEN is set"
        )
    if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
        raise SettingsError(
            "TWILIO_FROM_NUMBER",
            "",
            "a sender number (or TWILIO_MESSAGING_SERVICE_SID) when TWILIO_AUTH_TOKEN is set",
        )
    if settings.trusted_proxies and not settings.public_url:
        # behind a proxy the request's own URL is not the one Twilio signed
        raise SettingsError(
            "PUBLIC_URL", "", "the URL Twilio calls when omnibot is behind TRUSTED_PROXIES"
        )


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
    services = build_services(settings, client, intents or build_intents(settings), desk)
    app = web.Application(middlewares=middlewares(settings))
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", serve_metrics)
    for connector in services.connectors.values():
        app.router.add_routes(connector.routes())
    if services.slack_events is not None and settings.slack_signing_secret:
        app.router.add_routes(services.slack_events.routes())
    if console_served(settings):
        try:
            console = AgentConsole(
                services.store,
                services.hub,
                HandoffActions(services.store, services.tickets, services.handoff),
                console_token(
                    settings.agent_console_token, settings.data_dir, _console_url(settings)
                ),
                settings.public_url,
                tickets=services.tickets,
                client=client,
            )
        except TokenError as error:
            raise SettingsError(error.name, error.value, error.expected) from None
        app.router.add_routes(console.routes())
    app.on_shutdown.append(lambda app: services.webchat.close_all())
    app.cleanup_ctx.append(
        lambda app: lifecycle(services, client, supervisor, owns_intents=intents is None)
    )
    return app


def _console_url(settings: Settings) -> str:
    """Where an agent opens the local console (for its sign-in link in the log)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    return (settings.public_url or f"http://{host}:{settings.port}") + "/agent"


def build_services(
    settings: Settings, client: redis.Redis, intents: Intents, desk: AgentDesk | None
) -> Services:
    """The core and the channels and desk around it, wired together on one Redis client."""
    slack = _slack_desk(settings)
    sms_out = sms_sender(settings) if settings.sms_enabled else None
    core = build_core(
        client,
        classifier=intents.classifier,
        responder=intents.responder,
        desk=desk or slack or LogDesk(),
        # web chat needs no sender: its delivery is the event stream
        senders={} if sms_out is None else {Channel.SMS: sms_out},
        metrics=Metrics(),
        config=core_config(settings),
    )
    webchat = _webchat_connector(settings, client, core)
    sms = None if sms_out is None else _sms_connector(settings, sms_out, core)
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


def _webchat_connector(settings: Settings, client: redis.Redis, core: Core) -> WebChatConnector:
    return WebChatConnector(
        core.store,
        core.hub,
        core.stream.submit,
        settings.webchat_allowed_origins,
        settings.public_url,
        RateLimiter(client, "sessions", settings.sessions_per_minute, 60),
        core.linking,
        sms=settings.sms_enabled,
        socket_cap=SocketCap(client, settings.sockets_per_address),
    )


@dataclass(frozen=True)
class _SocketMode:
    """Slack's events over Socket Mode, as a part that starts and stops."""

    events: SlackEvents
    app_token: str

    async def start(self) -> None:
        await self.events.connect(self.app_token)

    async def stop(self) -> None:
        await self.events.close()


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
        parts.append(_SocketMode(services.slack_events, app_token))
    return parts


async def lifecycle(
    services: Services,
    client: redis.Redis,
    supervisor: RedisSupervisor | None,
    owns_intents: bool,
) -> AsyncIterator[None]:
    """Start Redis (when embedded) and the background parts; on the way out the exit stack
    stops them in the reverse order, whatever failed."""
    async with AsyncExitStack() as stack:
        if supervisor is not None:
            await background.start(stack, supervisor)
        stack.push_async_callback(client.aclose)
        if services.sms is not None:
            stack.push_async_callback(services.sms.sender.close)
        if owns_intents:
            stack.callback(services.intents.classifier.close)
        for part in _background_parts(services):
            await background.start(stack, part)
        log.info(
            "channels on: %s; agent desk: %s",
            ", ".join(sorted(services.connectors)),
            desk_description(services),
        )
        yield


def _slack_desk(settings: Settings) -> SlackDesk | None:
    """The Slack desk when Slack is configured."""
    if not settings.slack_enabled:
        return None
    assert settings.slack_bot_token is not None
    assert settings.slack_escalation_channel is not None
    return SlackDesk.connect(
        settings.slack_bot_token,
        settings.slack_api_url,
        settings.slack_escalation_channel,
        dict(settings.slack_routes),
        history_url=_console_url(settings) if console_served(settings) else None,
    )


def desk_description(services: Services) -> str:
    """The agent desk as the start-up log names it: Slack's, or the local console's address."""
    if isinstance(services.desk, LogDesk):
        url = _console_url(services.settings)
        return f"the local agent console at {url} (LogDesk: tickets also go to this log)"
    return type(services.desk).__name__


def console_served(settings: Settings) -> bool:
    """Whether ``/agent`` is served: it is the desk without Slack; with Slack, where agents
    read a whole conversation, once an ``AGENT_CONSOLE_TOKEN`` is set for it."""
    return not settings.slack_enabled or settings.agent_console_token is not None


def code_budget(settings: Settings) -> CodeBudget:
    """How many phone codes may be texted, and to which countries."""
    return CodeBudget.build(
        settings.sms_codes_per_hour,
        settings.sms_codes_per_country_hour,
        settings.sms_allowed_countries,
        settings.twilio_from_number,
    )


def _sms_connector(settings: Settings, sender: SmsSender, core: Core) -> SmsConnector:
    assert settings.twilio_auth_token is not None
    metrics, deliveries = core.metrics, core.deliveries

    async def report(sid: str, status: str, code: int | None) -> DeliveryRecord | None:
        metrics.delivery_status.labels(channel=Channel.SMS, status=status).inc()
        return await deliveries.report(Channel.SMS, sid, status, code)

    assert settings.twilio_account_sid is not None
    account = TwilioAccount(
        settings.twilio_account_sid,
        settings.twilio_from_number,
        settings.twilio_messaging_service_sid,
    )
    return SmsConnector(
        sender,
        core.stream.submit,
        report,
        settings.twilio_auth_token,
        settings.public_url,
        account=account,
    )


def sms_sender(settings: Settings) -> SmsSender:
    """What sends SMS with these settings (its Twilio client is made on first use)."""
    return SmsSender(lambda: twilio_messages(settings), settings.public_url)


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers, 503 when it does not."""
    store = request.app[SERVICES].store
    try:
        ok = await asyncio.wait_for(store.ping(), HEALTH_TIMEOUT_S)
    except (TimeoutError, redis.RedisError, OSError):
        ok = False
    status = 200 if ok else 503
    body = {"status": "ok" if ok else "unavailable", "redis": "ok" if ok else "down"}
    slack = await _slack_health(request.app[SERVICES])
    if slack is not None:  # the desk's state; the service answers customers without it
        body["slack"] = slack
    return web.json_response({**body, "pid": os.getpid()}, status=status)


async def _slack_health(services: Services) -> str | None:
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
