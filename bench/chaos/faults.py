"""The chaos events: a serve process (with ``--split``: a front) SIGKILLed and restarted,
redis-server SIGKILLed (and restarted on its AOF), the fake Twilio failing, and with
``--split`` the answer processes' own (:mod:`.answerers`); each fired at a share of the
questions answered, so it lands mid-run on any machine, and only once the events before it
finished (a restart included), so that no two overlap."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence

from bench.chaos.answerers import answers_outage, kill_answerer
from bench.chaos.model import Conv, Event, Options, Run
from bench.chaos.processes import kill, start_server
from tests.support.serve_process import ServeError

POLL_S = 0.1
KILLED = 1  # the index of the serve process SIGKILLed
# The events whose recovery is judged; the vendor outage (reported, not judged) waits until
# they fired and every message that needed a reconnect or re-post was answered, so its 30 s of
# refused sends cannot be charged to them: a text held by the killed process's expired locks
# would otherwise wait out the outage too (at 150 answers/s, 20 % and 60 % of the load lie
# only ~16 s apart).
JUDGED = ("kill", "answer", "redis", "no_answer")


async def kill_server(run: Run, event: Event) -> None:
    """SIGKILL one serve process; start it again on its port after ``restart_after`` s."""
    server = run.servers[KILLED % len(run.servers)]
    event.detail.update(process=server.index, visitors_connected=server.sockets)
    await kill(server)
    event.ended_at = time.monotonic()
    if run.options.restart_after < 0:
        return
    await asyncio.sleep(run.options.restart_after)
    try:
        await start_server(run.workdir, server)
    except ServeError as error:
        event.detail["restart_failed"] = error.headline
    else:
        event.detail["healthy_again_after_s"] = time.monotonic() - event.fired_at


async def restart_redis(run: Run, event: Event) -> None:
    """SIGKILL redis-server; start it on the same port and AOF after ``redis_down`` s."""
    pid = run.redis.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await run.redis.wait()
    await asyncio.sleep(run.options.redis_down)
    await run.redis.start()
    event.ended_at = time.monotonic()
    event.detail["down_s"] = event.ended_at - event.fired_at


async def vendor_outage(run: Run, event: Event) -> None:
    """The fake Twilio answers every call 500 for ``vendor_outage`` seconds."""
    before = len(run.fake.calls)
    run.fake.failing = True
    try:
        await asyncio.sleep(run.options.vendor_outage)
    finally:
        run.fake.failing = False
    event.ended_at = time.monotonic()
    event.detail["calls_refused"] = sum(c.status >= 500 for c in run.fake.calls[before:])


ACTIONS: dict[str, Callable[[Run, Event], Awaitable[None]]] = {
    "kill": kill_server,
    "redis": restart_redis,
    "vendor": vendor_outage,
    "answer": kill_answerer,
    "no_answer": answers_outage,
}


async def fire_when_due(run: Run, event: Event, conversations: Sequence[Conv]) -> None:
    """Run ``event`` once its share of the questions is answered (never if the load ends
    first), the events before it are over and every answer in flight across them came; the
    vendor outage also waits until the judged events' recoveries are over."""
    while not due(event, run, recovering(conversations), in_flight(run, event, conversations)):
        if run.load_done:
            return
        await asyncio.sleep(POLL_S)
    event.fired_at = time.monotonic()
    event.detail["answered_when_fired"] = run.answered
    try:
        await ACTIONS[event.name](run, event)
    finally:
        event.done = True


def due(event: Event, run: Run, recovering: int, in_flight: int) -> bool:
    """Whether ``event`` fires now: its share answered, the events before it done with no
    answer ``in_flight`` across them (so that each event's cost is its own: an answer is
    charged to the last event before it), and the vendor outage clear of the judged
    recoveries (``recovering``)."""
    earlier = [e for e in run.events if e.share < event.share]
    return (
        run.answered >= event.share * run.total
        and all(e.done for e in earlier)
        and in_flight == 0
        and clear_of_judged(event, run.events, recovering)
    )


def in_flight(run: Run, event: Event, conversations: Sequence[Conv]) -> int:
    """Questions sent before the last event before ``event`` ended, still unanswered (in
    conversations going on)."""
    ended = [e.ended for e in run.events if e.share < event.share and e.done]
    if not ended:
        return 0
    until = max(ended)
    return sum(
        1
        for c in conversations
        if c.gave_up is None
        for a in c.asks
        if a.first_sent <= until and not a.answered
    )


def clear_of_judged(event: Event, events: Sequence[Event], recovering: int) -> bool:
    """Whether ``event`` may fire now: a judged event may; the vendor outage once every judged
    event of ``events`` fired and no message is ``recovering`` from them."""
    if event.name in JUDGED:
        return True
    return recovering == 0 and all(e.fired for e in events if e.name in JUDGED)


def recovering(conversations: Sequence[Conv]) -> int:
    """Messages that needed a reconnect or re-post and have no answer yet."""
    return sum(1 for c in conversations for a in c.asks if a.failures and math.isnan(a.answered_at))


def chaos_events(options: Options) -> list[Event]:
    """The events switched on (a share above 0; the answer processes' with ``--split``),
    in the order they fire."""
    shares = {"kill": options.kill_at, "redis": options.redis_at, "vendor": options.vendor_at}
    if options.split:
        shares.update(answer=options.answer_kill_at, no_answer=options.answers_down_at)
    events = [Event(name, share) for name, share in shares.items() if share > 0]
    return sorted(events, key=lambda e: e.share)
