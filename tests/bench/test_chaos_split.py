"""The chaos suite's ``--split`` pieces, without serve processes: the command line, the
processes' roles, the events and their order, the answer beat, ``/healthz`` read, and how the
answer processes' events are judged."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bench.chaos.__main__ import arguments
from bench.chaos.answerers import answering
from bench.chaos.faults import chaos_events, due, in_flight
from bench.chaos.load import conversation
from bench.chaos.model import Event, Options, Server
from bench.chaos.processes import beating, make_servers, role_options
from bench.chaos.results import EventRow, judged_recovery, outage_held
from bench.chaos.verify import work_entries
from bench.questions import questions
from bot.storage.keys import ANSWERING_KEY

ServerFactory = Callable[..., Awaitable[Any]]


def test_the_command_line_takes_split_and_refuses_events_at_one_share() -> None:
    options = arguments(["--split", "--answerers", "3", "--answers-down", "12"])
    assert (options.split, options.answerers, options.answers_down) == (True, 3, 12.0)
    assert not arguments([]).split
    with pytest.raises(SystemExit):
        arguments(["--split", "--answer-kill-at", "0.4"])  # the Redis restart's share too
    with pytest.raises(SystemExit):
        arguments(["--split", "--answers-down", "0"])


def test_split_runs_fronts_and_answer_processes_each_with_an_explicit_role(
    tmp_path: Path,
) -> None:
    options = Options(split=True, servers=2, answerers=2)
    fronts, answerers = make_servers(options, tmp_path, tmp_path, "redis://x", "http://f")
    assert [s.role for s in fronts] == ["front", "front"]
    assert [s.role for s in answerers] == ["answer", "answer"]
    assert [s.log_path.name for s in answerers] == ["serve-answer-0.log", "serve-answer-1.log"]
    assert len({s.port for s in fronts + answerers}) == 4
    assert all(s.env["REDIS_URL"] == "redis://x" for s in fronts + answerers)
    alone, none = make_servers(Options(servers=2), tmp_path, tmp_path, "redis://x", "http://f")
    assert [s.role for s in alone] == ["all", "all"]
    assert none == []
    assert role_options("front") == ["--workers", "1", "--role", "front"]


def test_the_answer_events_come_with_split_only_in_the_order_of_their_shares() -> None:
    assert [e.name for e in chaos_events(Options())] == ["kill", "redis", "vendor"]
    names = [e.name for e in chaos_events(Options(split=True))]
    assert names == ["kill", "answer", "redis", "no_answer", "vendor"]
    assert [e.name for e in chaos_events(Options(split=True, answer_kill_at=0))] == [
        "kill",
        "redis",
        "no_answer",
        "vendor",
    ]


def test_an_event_waits_until_the_events_before_it_are_over() -> None:
    kill, answer = Event("kill", 0.2), Event("answer", 0.3)
    run: Any = type("R", (), {"events": [kill, answer], "answered": 50, "total": 100})()
    assert due(kill, run, recovering=0, in_flight=0)
    assert not due(answer, run, recovering=0, in_flight=0)  # the kill's restart is under way
    kill.done = True
    assert due(answer, run, recovering=0, in_flight=0)
    assert not due(answer, run, recovering=0, in_flight=1)  # an answer across the kill is due
    run.answered = 20
    assert not due(answer, run, recovering=0, in_flight=0)  # its share is not answered yet


def test_answers_in_flight_across_the_events_before_one_are_counted() -> None:
    kill, answer = Event("kill", 0.2, fired_at=5.0, ended_at=6.0), Event("answer", 0.3)
    run: Any = type("R", (), {"events": [kill, answer]})()
    convs = [conversation(n, False, questions(0), 2) for n in range(2)]
    convs[0].asks[0].first_sent = 5.5  # sent before the kill ended, unanswered
    convs[1].asks[0].first_sent = 7.0  # sent after it
    assert in_flight(run, answer, convs) == 0  # the kill is not over yet
    kill.done = True
    assert in_flight(run, answer, convs) == 1
    convs[0].gave_up = "no answer"
    assert in_flight(run, answer, convs) == 0


async def test_an_answer_process_is_ready_once_its_beat_names_its_pid(
    redis_client: aioredis.Redis,
) -> None:
    assert not await beating(redis_client, 4321)
    await redis_client.zadd(ANSWERING_KEY, {"host-4321-ab12cd": 1.0})
    assert await beating(redis_client, 4321)
    assert not await beating(redis_client, 432)  # another pid, not a prefix of it


async def test_healthz_is_read_for_answering_and_a_refusal_reads_as_unknown(
    aiohttp_server: ServerFactory,
) -> None:
    status = {"code": 200}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"answering": "down"}, status=status["code"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    server = await aiohttp_server(app)
    front = Server(0, server.port, {}, Path("x.log"), "front")
    async with aiohttp.ClientSession() as http:
        assert await answering(http, front) == "down"
        status["code"] = 503
        assert await answering(http, front) is None


def outage(after_back: float | None, **detail: float | int | str) -> EventRow:
    return EventRow(
        "no_answer",
        0,
        0,
        None,
        slowest_in_flight_s=80.0,
        slowest_after_back_s=after_back,
        detail=dict(detail),
    )


def test_the_outage_is_judged_from_the_answer_processes_return() -> None:
    held = outage(12.0, healthz_down_after_s=9.5, probes=4, probes_acked_while_down=4)
    rows = [EventRow("answer", 0, 0, None, slowest_in_flight_s=18.0), held]
    assert judged_recovery(rows) == 18.0  # not the outage's 80 s in flight
    assert judged_recovery([outage(31.0)]) == 31.0
    assert outage_held(rows)
    assert held.to_json()["slowest_after_back_s"] == 12.0
    assert "slowest_after_back_s" not in rows[0].to_json()


def test_the_outage_fails_without_down_on_healthz_or_an_unacknowledged_probe() -> None:
    assert not outage_held([outage(1.0, probes=4, probes_acked_while_down=4)])
    assert not outage_held(
        [outage(1.0, healthz_down_after_s=9.0, probes=4, probes_acked_while_down=3)]
    )
    assert outage_held([])  # no outage switched on
    assert math.isnan(Event("x", 0.1).fired_at)


async def test_work_is_counted_in_every_work_stream_whatever_their_names(
    redis_client: aioredis.Redis,
) -> None:
    assert await work_entries(redis_client) == 0
    await redis_client.xadd("work", {"c": "1"})
    await redis_client.xadd("work:{work}:sms", {"c": "2"})
    await redis_client.xadd("work:{work}:sms", {"c": "3"})
    await redis_client.set("workers-note", "not a stream")
    assert await work_entries(redis_client) == 3
