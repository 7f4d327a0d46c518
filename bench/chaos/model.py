"""The chaos suite's options and the state a run shares: conversations and their questions,
the serve processes, the chaos events, the fake Twilio's replies."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.questions import Question
from bot.storage.embedded import EmbeddedRedis
from tests.support.serve_process import ServeProcess
from tests.support.twilio_fake import Call, FakeTwilio

REPLY_POLL_S = 0.02

Frame = dict[str, Any]


@dataclass(frozen=True)
class Options:
    """What to run (the command line's options; see ``python -m bench.chaos --help``)."""

    conversations: int = 1000
    messages: int = 10
    sms_share: float = 0.2
    concurrency: int = 64
    servers: int = 3
    split: bool = False
    answerers: int = 2
    processing_concurrency: int = 16
    kill_at: float = 0.2
    restart_after: float = 5.0
    redis_at: float = 0.4
    redis_down: float = 2.0
    vendor_at: float = 0.6
    answer_kill_at: float = 0.3
    answers_down_at: float = 0.5
    answers_down: float = 20.0
    vendor_outage: float = 30.0
    stall: float = 45.0
    give_up: float = 150.0
    settle: float = 90.0
    max_recovery: float = 30.0
    data_dir: Path = Path("var")
    workdir: Path | None = None
    seed: int = 0
    json: bool = False


class SetupError(Exception):
    """Redis, the fake or a serve process could not be started."""


class GiveUpError(Exception):
    """A conversation that cannot go on; the message says why."""


@dataclass
class Ask:
    """One question of a conversation and what became of it (``time.monotonic()`` times)."""

    index: int
    question: Question
    client_id: str  # web chat: the frame's id; SMS: the MessageSid
    first_sent: float = math.nan
    acked: bool = False
    answered_at: float = math.nan
    answer: str | None = None
    kind: str | None = None  # questions.kind_of: answer, wrong_intent, rephrase, handoff, other
    failures: list[float] = field(default_factory=list)  # each reconnect or re-post it needed
    acked_at: float = math.nan  # when the client first saw it acknowledged

    def ack(self) -> None:
        """Mark it acknowledged (the time of the first acknowledgement kept)."""
        self.acked = True
        if math.isnan(self.acked_at):
            self.acked_at = time.monotonic()

    @property
    def text(self) -> str:
        """The text as the service stores it (stripped)."""
        return self.question.text.strip()

    @property
    def sent(self) -> bool:
        """Whether the client sent it at least once."""
        return not math.isnan(self.first_sent)

    @property
    def answered(self) -> bool:
        """Whether its answer reached the client."""
        return self.answer is not None

    @property
    def latency(self) -> float:
        """Seconds from the first send to the answer (NaN when unanswered)."""
        return self.answered_at - self.first_sent


@dataclass
class Conv:
    """One customer: web chat (``address`` the session token, once known) or SMS (the number)."""

    number: int
    channel: str
    asks: list[Ask]
    address: str | None = None
    gave_up: str | None = None


@dataclass
class Server:
    """One ``omnibot serve`` process of ``role`` (``all``, ``front`` or ``answer``, which
    listens on no port): its port, environment, log, and whether it is up."""

    index: int
    port: int
    env: dict[str, str]
    log_path: Path
    role: str = "all"
    process: ServeProcess | None = None
    alive: bool = False
    sockets: int = 0  # web chat visitors connected to it now

    @property
    def root(self) -> str:
        """The HTTP root URL."""
        return f"http://127.0.0.1:{self.port}"


Detail = dict[str, float | int | str]  # what an event records beside its timing


@dataclass
class Event:
    """One chaos event, when it fired and ended, and what it did."""

    name: str
    share: float  # fires once this share of all questions is answered
    fired_at: float = math.nan
    ended_at: float = math.nan
    detail: Detail = field(default_factory=dict)
    done: bool = False  # its action finished (a restart included)

    @property
    def fired(self) -> bool:
        """Whether it fired."""
        return not math.isnan(self.fired_at)

    @property
    def ended(self) -> float:
        """When it ended (when it fired, for one with no end of its own)."""
        return self.ended_at if not math.isnan(self.ended_at) else self.fired_at


class Replies:
    """The fake Twilio's message-create calls that succeeded (201), by number, as they come."""

    def __init__(self, fake: FakeTwilio) -> None:
        self._fake = fake
        self._seen = 0
        self.by_number: defaultdict[str, list[Call]] = defaultdict(list)
        self._changed = asyncio.Event()

    async def follow(self) -> None:
        """Sort new calls by number and wake the waiters (runs until cancelled)."""
        while True:
            calls = self._fake.calls[self._seen :]
            self._seen += len(calls)
            for call in calls:
                if call.status == 201:
                    self.by_number[call["To"]].append(call)
            if calls:
                self._changed.set()
                self._changed = asyncio.Event()
            await asyncio.sleep(REPLY_POLL_S)

    async def wait(self, number: str, count: int, deadline: float) -> Call | None:
        """The ``count``-th message sent to ``number``, once it is (None at ``deadline``)."""
        while len(self.by_number[number]) < count:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                return None
        return self.by_number[number][count - 1]


@dataclass
class Run:
    """What the load, the chaos and the checks share."""

    options: Options
    workdir: Path
    servers: list[Server]  # the processes that listen: the load's web chat and webhooks
    redis: EmbeddedRedis
    fake: FakeTwilio
    http: aiohttp.ClientSession  # webhooks and health checks (a timeout per request)
    sockets: aiohttp.ClientSession  # web chat (no total timeout)
    replies: Replies
    answers: dict[str, str]
    events: list[Event]
    total: int
    started: float = math.nan
    load_ended: float = math.nan
    answered: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    turn: int = 0
    answerers: list[Server] = field(default_factory=list)  # --split: the answer processes
    probes: list[Conv] = field(default_factory=list)  # conversations begun by an event
    probing: list[asyncio.Task[None]] = field(default_factory=list)  # and their tasks

    @property
    def load_done(self) -> bool:
        """Whether every conversation has finished."""
        return not math.isnan(self.load_ended)

    def cause(self, at: float) -> str:
        """The latest chaos event fired before ``at`` ("none" before the first)."""
        fired = [e for e in self.events if e.fired and e.fired_at <= at]
        return max(fired, key=lambda e: e.fired_at).name if fired else "none"

    def pick(self, avoid: int | None) -> Server:
        """The next live process round robin, another than ``avoid`` when there is one."""
        live = [server for server in self.servers if server.alive] or self.servers
        choices = [server for server in live if server.index != avoid] or live
        self.turn += 1
        return choices[self.turn % len(choices)]


@dataclass
class Link:
    """A web chat visitor's socket, and the process it was last connected to."""

    ws: aiohttp.ClientWebSocketResponse | None = None
    server: Server | None = None
    last: int | None = None

    async def close(self) -> None:
        """Close the socket (if any)."""
        if self.ws is not None and self.server is not None:
            self.server.sockets -= 1
        ws, self.ws, self.server = self.ws, None, None
        if ws is not None:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                await ws.close()


@dataclass(frozen=True)
class Stored:
    """A conversation as Redis holds it (``cid`` None: its address links to no customer)."""

    cid: str | None
    history: list[Frame]
    meta: dict[str, str]
