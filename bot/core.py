"""The core of one process, wired in one place.

:func:`build_core` is the only wiring of the core's services: the composition root
(:mod:`omnibot.app`) adds the channels around it, and the tests build it the same way with a
recording channel, scripted intents and a log desk in place of the vendors. What the settings
decide arrives as a :class:`CoreConfig`, so the core never reads configuration.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import redis.asyncio as redis

from bot.contracts import AgentDesk, IntentClassifier, Responder, Sender, Understanding
from bot.delivery.consent import Consent
from bot.delivery.outbox import Outbox
from bot.delivery.records import Deliveries
from bot.desk.handoff import Handoff
from bot.desk.hours import AgentHours
from bot.desk.queue import DeskQueue
from bot.desk.tickets import Tickets
from bot.identity.code_budget import CodeBudget
from bot.identity.link_base import LinkingSetup
from bot.identity.linking import Linking
from bot.identity.merge import Merger
from bot.identity.verification import Identity
from bot.insight.csat import Surveys
from bot.insight.csat_rules import QUIET_S as CSAT_QUIET_S
from bot.insight.journal import Journal
from bot.metrics import Metrics
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.reading import SingleReading
from bot.pipeline.stream import MAX_CONCURRENT, WorkStream
from bot.storage.hub import EventHub
from bot.storage.store import RATE_LIMIT, Store
from bot.texts import Texts

RETENTION_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class CoreConfig:
    """What the settings decide about the core (each default is the setting's default)."""

    retention_days: int = RETENTION_DAYS
    rate_limit: tuple[int, int] = RATE_LIMIT  # messages a customer may send, per seconds
    concurrency: int = MAX_CONCURRENT  # conversations processed at a time in this process
    texts: Texts = field(default_factory=Texts)  # what the customer is told
    agent_hours: AgentHours | None = None  # None: agents are always in
    opt_out_channels: Collection[str] | None = None  # None: every channel's customers may
    code_budget: CodeBudget = field(default_factory=CodeBudget)
    linking: LinkingSetup | None = None  # None: no carrying conversations across channels
    csat_after_bot: bool = False  # surveys after conversations the bot settled alone too
    csat_quiet_s: float = CSAT_QUIET_S  # after the bot's last answer, before its survey
    # the shop's own patterns masked with the built-in kinds (the journal's unsure messages)
    redact_patterns: Sequence[re.Pattern[str]] = ()


@dataclass(frozen=True, kw_only=True)
class Core:
    """The core services of one process, on one Redis client."""

    metrics: Metrics
    store: Store
    deliveries: Deliveries
    consent: Consent
    tickets: Tickets
    hub: EventHub
    desk: AgentDesk
    desk_queue: DeskQueue
    outbox: Outbox
    handoff: Handoff
    merger: Merger
    surveys: Surveys
    journal: Journal
    linking: Linking | None
    dispatcher: Dispatcher
    stream: WorkStream


def build_core(
    client: redis.Redis,
    *,
    classifier: IntentClassifier,
    responder: Responder,
    desk: AgentDesk,
    reader: Understanding | None = None,
    senders: Mapping[str, Sender],
    metrics: Metrics,
    config: CoreConfig | None = None,
    outbox_type: type[Outbox] = Outbox,
) -> Core:
    """The core on ``client``: ``reader`` reads messages with their conversation (by default
    each is one request for ``classifier``); ``senders`` are the channels that need a vendor
    call to send (web chat needs none: its delivery is the event stream); ``outbox_type`` lets
    a test wait for sends."""
    config = config or CoreConfig()
    store = Store(client, config.retention_days, config.rate_limit)
    deliveries = Deliveries(client, config.retention_days)
    consent = Consent(client)
    tickets = Tickets(client, config.retention_days)
    desk_queue = DeskQueue(client, store, tickets, desk, deliveries)
    outbox = outbox_type(
        client,
        store,
        deliveries,
        senders,
        metrics,
        opt_out_channels=config.opt_out_channels,
        desk=desk_queue,
        texts=config.texts,
    )
    handoff = Handoff(
        store,
        tickets,
        desk_queue,
        outbox,
        metrics,
        config.agent_hours,
        config.texts,
        config.redact_patterns,
    )
    merger = Merger(client, store, tickets, desk_queue, texts=config.texts)
    surveys = Surveys(
        client, store, outbox, after_bot=config.csat_after_bot, quiet_s=config.csat_quiet_s
    )
    journal = Journal(client, config.retention_days)
    linking = _linking(client, config, store, merger, outbox, consent, metrics, journal)
    dispatcher = Dispatcher(
        store,
        consent,
        reader or SingleReading(classifier),
        responder,
        handoff,
        outbox,
        metrics,
        config.texts,
        linking,
        config.redact_patterns,
        surveys,
    )
    return Core(
        metrics=metrics,
        store=store,
        deliveries=deliveries,
        consent=consent,
        tickets=tickets,
        hub=EventHub(client),
        desk=desk,
        desk_queue=desk_queue,
        outbox=outbox,
        handoff=handoff,
        merger=merger,
        surveys=surveys,
        journal=journal,
        linking=linking,
        dispatcher=dispatcher,
        stream=WorkStream(dispatcher, client, config.concurrency),
    )


def _linking(
    client: redis.Redis,
    config: CoreConfig,
    store: Store,
    merger: Merger,
    outbox: Outbox,
    consent: Consent,
    metrics: Metrics,
    journal: Journal,
) -> Linking | None:
    """Carrying conversations across channels, when the config switches it on."""
    if config.linking is None:
        return None
    identity = Identity(client, config.code_budget, metrics)
    return Linking(
        store,
        identity,
        merger,
        outbox,
        consent,
        config.linking,
        metrics,
        texts=config.texts.linking,
        journal=journal,
    )
