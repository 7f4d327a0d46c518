"""The chaos suite's customers: web chat visitors and SMS customers asking closed loop, and
riding out whatever breaks (reconnecting, resending with the same id, re-posting)."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Sequence

import aiohttp

from bench.chaos.model import Ask, Conv, Frame, GiveUpError, Link, Options, Run, Server
from bench.questions import Question, kind_of, questions
from bench.sms_webhooks import make_webhook, post
from connectors.sms.connector import WEBHOOK_PATH
from tests.support.webchat_client import FrameError, opening, receive

CONNECT_TIMEOUT_S = 10.0
WS_CLOSE_TIMEOUT_S = 2.0
RETRY_FIRST_S = 0.2  # reconnects and re-posts back off from here...
RETRY_MAX_S = 2.0  # ...to here (the first reconnect after a close is immediate)
STATUS_EVERY_S = 15.0
SMS_PREFIX = "+1557"


def plan(options: Options) -> list[Conv]:
    """Every conversation with its questions: distinct texts within one, SMS spread evenly."""
    variants = questions(options.seed)
    share = options.sms_share
    return [
        conversation(n, int((n + 1) * share) > int(n * share), variants, options.messages)
        for n in range(options.conversations)
    ]


def conversation(n: int, sms: bool, variants: Sequence[Question], count: int) -> Conv:
    """Conversation ``n`` (by SMS or web chat) asking ``count`` of ``variants``."""
    asks = [
        Ask(k, variants[(n * count + k) % len(variants)], ask_id(sms, n, k)) for k in range(count)
    ]
    address = f"{SMS_PREFIX}{3_000_000 + n:07d}" if sms else None
    return Conv(n, "sms" if sms else "webchat", asks, address)


def ask_id(sms: bool, conversation: int, index: int) -> str:
    """A MessageSid (SMS) or a web chat client id, unique in the run."""
    return f"SM{conversation:016x}{index:016x}" if sms else f"c{conversation}-q{index}"


def answered(run: Run, ask: Ask, text: str, at: float | None = None) -> None:
    """Record the answer that reached the client."""
    ask.answered_at = time.monotonic() if at is None else at
    ask.answer = text
    ask.ack()
    ask.kind = kind_of(text, ask.question, run.answers)
    run.answered += 1


def reason(error: BaseException) -> str:
    """A short name for what went wrong."""
    if isinstance(error, FrameError | GiveUpError):
        return str(error)
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"handshake {error.status}"
    return type(error).__name__


# web chat ---------------------------------------------------------------------------------


async def attach(run: Run, conv: Conv, link: Link, server: Server) -> list[Frame]:
    """Connect to ``server`` as ``conv`` (resuming its session); the history it sends."""
    query = f"?token={conv.address}" if conv.address else ""
    timeout = aiohttp.ClientWSTimeout(ws_close=WS_CLOSE_TIMEOUT_S)
    ws = await asyncio.wait_for(
        run.sockets.ws_connect(f"ws://127.0.0.1:{server.port}/webchat/ws{query}", timeout=timeout),
        CONNECT_TIMEOUT_S,
    )
    try:
        token, history, _ = await opening(ws)
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
        except (FrameError, aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
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
    ask.ack()
    later = [m for m in history[mine[-1] + 1 :] if m.get("role") == "bot"]
    if later:
        answered(run, ask, str(later[0].get("text")))
    return bool(later)


async def await_answer(ws: aiohttp.ClientWebSocketResponse, run: Run, ask: Ask) -> None:
    """Read frames until the bot's answer (the echo marks ``ask`` acknowledged)."""
    until = time.monotonic() + run.options.stall
    while True:
        frame = await receive(ws, until - time.monotonic())
        if frame.get("type") == "error":
            raise FrameError(f"error frame {frame.get('code')}")
        if frame.get("type") != "message":
            continue
        if frame.get("role") == "customer" and frame.get("text") == ask.text:
            ask.ack()
        elif frame.get("role") == "bot":
            answered(run, ask, str(frame.get("text")))
            return


async def ask_webchat(run: Run, conv: Conv, ask: Ask, link: Link) -> None:
    """Send ``ask`` until its answer arrives: after any failure, reconnect and resend it with
    the same client id (unless the history shows it answered)."""
    deadline = time.monotonic() + run.options.give_up
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
        except (FrameError, aiohttp.ClientError, OSError, ValueError) as error:
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
            ask.ack()
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
    deadline = time.monotonic() + run.options.give_up
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
    """Every conversation, ``concurrency`` at a time (the next starts when one ends)."""
    pending = iter(conversations)

    async def worker() -> None:
        for conv in pending:
            await converse(run, conv)

    run.started = time.monotonic()
    workers = min(run.options.concurrency, len(conversations))
    await asyncio.gather(*(worker() for _ in range(workers)))
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
