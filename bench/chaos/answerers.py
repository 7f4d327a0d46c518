"""The answer processes' chaos events (``--split``): one answer process SIGKILLed and started
again (``answer``), and every answer process SIGKILLed for ``--answers-down`` seconds
(``no_answer``). While none answers, the fronts must go on acknowledging and storing: the
event waits until a front's ``/healthz`` says ``answering: down`` (an answer process's beat
counts for 10 s, ``omnibot.roles.ALIVE_S``), then starts a few probe conversations, web chat
and SMS, whose first question must be acknowledged before the answer processes start again;
their answers, like everyone's, come once the processes are back, and the probes are checked
with the other conversations (lost, doubled, reordered, unanswered)."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bench.chaos.load import conversation, converse
from bench.chaos.model import Conv, Event, Run, Server
from bench.chaos.processes import kill, start_server
from bench.questions import questions
from tests.support.serve_process import ServeError

KILLED_ANSWERER = 0  # the answer process the ``answer`` event SIGKILLs
DOWN_WITHIN_S = 20.0  # /healthz must say ``answering: down`` this long after the kill
HEALTH_POLL_S = 0.5
PROBES = ("webchat", "sms", "webchat", "sms")  # conversations begun while none answers
PROBE_MESSAGES = 2  # each: the first sent while none answers, the second after its answer
PROBE_ACK_S = 5.0  # the probes' first questions are acknowledged within this (no model needed)


async def kill_answerer(run: Run, event: Event) -> None:
    """SIGKILL one answer process; start it again after ``restart_after`` s."""
    server = run.answerers[KILLED_ANSWERER % len(run.answerers)]
    event.detail["process"] = f"answer-{server.index}"
    await kill(server)
    event.ended_at = time.monotonic()
    if run.options.restart_after < 0:
        return
    await asyncio.sleep(run.options.restart_after)
    await restart(run, event, [server])


async def answers_outage(run: Run, event: Event) -> None:
    """SIGKILL every answer process; once ``/healthz`` says so, begin the probes; start the
    processes again ``answers_down`` s after the kill (the event ends when they beat)."""
    await asyncio.gather(*(kill(server) for server in run.answerers))
    seen = await health_down(run, event.fired_at + DOWN_WITHIN_S)
    if seen is not None:
        event.detail["healthz_down_after_s"] = seen - event.fired_at
    probes = begin_probes(run)
    begun = time.monotonic()
    until = max(event.fired_at + run.options.answers_down, begun + PROBE_ACK_S)
    await asyncio.sleep(until - time.monotonic())
    event.detail["probes"] = len(probes)
    event.detail["probes_acked_while_down"] = sum(c.asks[0].acked for c in probes)
    event.detail["probe_ack_max_s"] = max(
        (c.asks[0].acked_at - c.asks[0].first_sent for c in probes if c.asks[0].acked),
        default=float("nan"),
    )
    await restart(run, event, run.answerers)
    event.ended_at = time.monotonic()
    event.detail["down_s"] = event.ended_at - event.fired_at


async def restart(run: Run, event: Event, servers: list[Server]) -> None:
    """Start ``servers`` again; when they beat (or why not) in ``event``'s detail."""
    try:
        await asyncio.gather(*(start_server(run.workdir, server) for server in servers))
    except ServeError as error:
        event.detail["restart_failed"] = error.headline
    else:
        event.detail["answering_again_after_s"] = time.monotonic() - event.fired_at


async def health_down(run: Run, deadline: float) -> float | None:
    """When a front's ``/healthz`` first answered 200 with ``answering: down`` (None if not
    by ``deadline``)."""
    while time.monotonic() < deadline:
        if await answering(run.http, run.pick(None)) == "down":
            return time.monotonic()
        await asyncio.sleep(HEALTH_POLL_S)
    return None


async def answering(http: aiohttp.ClientSession, server: Server) -> str | None:
    """``answering`` of ``server``'s ``/healthz`` when it answers 200 (else None)."""
    try:
        async with http.get(server.root + "/healthz") as response:
            if response.status != 200:
                return None
            body = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    value = body.get("answering") if isinstance(body, dict) else None
    return str(value) if value is not None else None


def begin_probes(run: Run) -> list[Conv]:
    """Start the probe conversations (numbered after the load's), recorded in ``run``."""
    variants = questions(run.options.seed)
    first = run.options.conversations + len(run.probes)
    probes = [
        conversation(first + n, channel == "sms", variants, PROBE_MESSAGES)
        for n, channel in enumerate(PROBES)
    ]
    run.probes.extend(probes)
    run.probing.extend(asyncio.create_task(converse(run, conv)) for conv in probes)
    return probes
