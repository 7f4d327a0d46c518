"""The composition root: builds the service from settings and wires connectors and intents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.contracts import AgentDesk, Connector, IntentClassifier, Responder
from bot.dispatcher import Dispatcher
from bot.embedded_redis import EmbeddedRedis
from bot.handoff import Handoff
from bot.hub import EventHub
from bot.outbox import Outbox
from bot.settings import Settings
from bot.store import Store
from connectors.console_desk import ConsoleDesk
from connectors.webchat import WebChatConnector
from intents.action_runner import ActionRunner, InProcessActions, RemoteActions
from intents.build import BuildOptions, build_classifier
from intents.catalogue import load_catalogue
from intents.members import EngineConfig
from intents.responder import CatalogueResponder

HEALTH_TIMEOUT_S = 2.0
REDIS_POOL_SIZE = 200


@dataclass(frozen=True)
class Engine:
    """The intent side of the service: a classifier and the responder for its predictions."""

    classifier: IntentClassifier
    responder: Responder


@dataclass(frozen=True)
class Services:
    """Everything a running app holds, reachable as ``app[SERVICES]``."""

    settings: Settings
    store: Store
    hub: EventHub
    dispatcher: Dispatcher
    handoff: Handoff
    desk: AgentDesk
    connectors: dict[str, Connector]


SERVICES = web.AppKey("services", Services)


def build_options(settings: Settings) -> BuildOptions:
    """The intent engine's build options from the settings."""
    return BuildOptions(encoder=settings.encoder,
                        config=EngineConfig(target_precision=settings.target_precision),
                        threshold=settings.confidence_threshold)


def build_engine(settings: Settings, rebuild: bool = False, progress: bool = False) -> Engine:
    """Load the catalogue and the classifier: from the cache, or trained now (blocking)."""
    catalogue = load_catalogue(settings.intents_path)
    texts, labels = catalogue.training_data()
    classifier = build_classifier(texts, labels, settings.cache_dir, build_options(settings),
                                  rebuild=rebuild, progress=progress)
    actions: ActionRunner = (RemoteActions(settings.action_endpoint) if settings.action_endpoint
                             else InProcessActions())
    return Engine(classifier=classifier, responder=CatalogueResponder(catalogue, actions))


def create_app(settings: Settings, engine: Engine | None = None,
               desk: AgentDesk | None = None) -> web.Application:
    """The aiohttp application; Redis (embedded unless ``REDIS_URL``) starts with it."""
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    url = settings.redis_url or (embedded.url if embedded else "")
    client = redis.Redis.from_url(url, decode_responses=True, max_connections=REDIS_POOL_SIZE)
    engine = engine or build_engine(settings)
    store = Store(client, settings.retention_days)
    hub = EventHub(client)
    connectors: dict[str, Connector] = {}
    outbox = Outbox(store, connectors)
    desk = desk or ConsoleDesk()
    handoff = Handoff(store, desk, outbox)
    dispatcher = Dispatcher(store, engine.classifier, engine.responder, handoff, outbox)
    webchat = WebChatConnector(store, hub, dispatcher.handle, settings.webchat_allowed_origins,
                               settings.public_url)
    connectors[webchat.channel] = webchat

    app = web.Application()
    app[SERVICES] = Services(settings, store, hub, dispatcher, handoff, desk, connectors)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for connector in connectors.values():
        app.router.add_routes(connector.routes())

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if embedded is not None:
            await embedded.start()
        try:
            await hub.start()
            yield
            await hub.stop()
        finally:
            await client.aclose()
            if embedded is not None:
                await embedded.stop()

    app.cleanup_ctx.append(lifecycle)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers, 503 when it does not."""
    store = request.app[SERVICES].store
    try:
        ok = await asyncio.wait_for(store.ping(), HEALTH_TIMEOUT_S)
    except (TimeoutError, redis.RedisError, OSError):
        ok = False
    status = 200 if ok else 503
    return web.json_response({"status": "ok" if ok else "unavailable",
                              "redis": "ok" if ok else "down"}, status=status)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    response = web.Response(body=generate_latest())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
