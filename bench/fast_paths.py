"""What the well-kept fast paths save a message: uvloop, hiredis, orjson (CPU time, not wall).

    python -m bench.fast_paths [--ops 4000] [--requests 3000] [--repeat 3] [--json]

Three measurements, each as CPU microseconds of this process per operation (``process_time``,
which a busy shared machine disturbs far less than wall time):

* **Redis**: ``--ops`` times, 32 at a time, the shape of one answer's Redis work on the
  embedded ``redis-server`` (a pipeline reading a conversation's meta and its newest 12
  stored messages, a script, an XADD and a pipeline of writes), with each event loop
  (asyncio's, uvloop's) and each reply parser (redis-py's Python one, hiredis).
* **HTTP**: an aiohttp server in this process answering ``--requests`` form POSTs (the size
  of a Twilio webhook) sent 16 at a time by a client in a child process, per event loop.
* **JSON**: encoding and decoding a stored message and a web chat frame with ``json`` and
  ``orjson``.

The lowest of ``--repeat`` runs is kept. Needs hiredis, uvloop and orjson installed (the
measurement of a missing one is skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import redis.asyncio as redis
from aiohttp import web
from redis import Redis as SyncRedis
from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.storage.embedded import free_port, server_path

IN_FLIGHT = 32  # conversations answered at once in an answer process
CLIENTS = 16  # concurrent webhook posts
MESSAGE = {
    "seq": 1234,
    "id": "m-5f0c2a9e41",
    "role": "customer",
    "text": "hi, where is my order? it's 100377, thanks",
    "ts": 1764790000.123,
    "channel": "sms",
    "address": "+15552000123",
}
FRAME = {"type": "message", "role": "bot", "text": "Your order 100377 ships today. " * 3}
FORM = "&".join(f"Field{i}=value-{i:04d}" for i in range(20)).encode()  # ~400 bytes
SCRIPT = "redis.call('HSET', KEYS[1], 'answered', ARGV[1]) return 1"
CLIENT = """
import asyncio, sys, aiohttp
async def main(url, count, clients):
    async with aiohttp.ClientSession() as session:
        queue = iter(range(count))
        async def worker():
            for _ in queue:
                async with session.post(url, data=sys.argv[4].encode(), headers={
                    "Content-Type": "application/x-www-form-urlencoded"}) as r:
                    await r.read()
        await asyncio.gather(*(worker() for _ in range(clients)))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def loop_factories() -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The event loops to compare: asyncio's, and uvloop's when it is installed."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        factories["uvloop"] = uvloop.new_event_loop
    return factories


def parsers() -> dict[str, type]:
    """redis-py's reply parsers to compare: its Python one, and hiredis when installed."""
    found: dict[str, type] = {"python": _AsyncRESP2Parser}
    if importlib.util.find_spec("hiredis") is not None:
        found["hiredis"] = _AsyncHiredisParser
    return found


async def one_answer(client: redis.Redis, script: Any, n: int) -> None:
    """The Redis work of one answer, roughly: read, script, queue, write."""
    cid = f"c{n % 500}"
    read = client.pipeline(transaction=False)
    read.hgetall(f"conv:{{{cid}}}:meta")
    read.lrange(f"conv:{{{cid}}}:history", -12, -1)
    await read.execute()
    await script(keys=[f"conv:{{{cid}}}:meta"], args=[n])
    await client.xadd("bench:work", {"c": cid}, maxlen=1000, approximate=True)
    write = client.pipeline(transaction=False)
    write.rpush(f"conv:{{{cid}}}:history", json.dumps(MESSAGE))
    write.ltrim(f"conv:{{{cid}}}:history", -50, -1)
    write.hset(f"conv:{{{cid}}}:meta", mapping={"answered": n, "state": "bot"})
    await write.execute()


async def redis_run(url: str, parser: type, ops: int) -> float:
    """CPU microseconds of this process per answer's Redis work."""
    client = redis.Redis.from_url(url, decode_responses=True, parser_class=parser)
    try:
        script = client.register_script(SCRIPT)
        await one_answer(client, script, 0)  # connections and the script's SHA
        pending = iter(range(ops))

        async def worker() -> None:
            for n in pending:
                await one_answer(client, script, n)

        start = time.process_time()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return (time.process_time() - start) * 1e6 / ops
    finally:
        await client.aclose()


async def http_run(requests: int) -> float:
    """CPU microseconds of this process per form POST answered by an aiohttp server."""

    async def handle(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        args = [f"http://127.0.0.1:{port}/hook", str(requests), str(CLIENTS), FORM.decode()]
        start = time.process_time()
        child = await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENT, *args)
        await child.wait()
        return (time.process_time() - start) * 1e6 / requests
    finally:
        await runner.cleanup()


def best(
    repeat: int,
    factory: Callable[[], asyncio.AbstractEventLoop],
    job: Callable[[], Coroutine[Any, Any, float]],
) -> float:
    """The lowest of ``repeat`` runs of ``job``, each on a fresh loop from ``factory``."""
    costs = []
    for _ in range(repeat):
        with asyncio.Runner(loop_factory=factory) as runner:
            costs.append(runner.run(job()))
    return min(costs)


def json_costs(rounds: int = 20_000) -> dict[str, float]:
    """Microseconds to encode plus decode a stored message and a frame, per library."""
    libraries: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
        "json": (json.dumps, json.loads)
    }
    if importlib.util.find_spec("orjson") is not None:
        # by name: orjson is only measured, no dependency (a clean install has no stubs of it)
        orjson: Any = importlib.import_module("orjson")
        libraries["orjson"] = (orjson.dumps, orjson.loads)
    costs = {}
    for name, (dumps, loads) in libraries.items():
        start = time.process_time()
        for _ in range(rounds):
            loads(dumps(MESSAGE))
            loads(dumps(FRAME))
        costs[name] = (time.process_time() - start) * 1e6 / rounds
    return costs


def start_redis(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server (no persistence) for the measurement, and its URL."""
    port = free_port()
    line = [server_path(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(  # noqa: S603 - the bundled server
        [*line, "--dir", str(data)], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = SyncRedis.from_url(url)
    for _ in range(100):
        try:
            probe.ping()
            break
        except RedisConnectionError:
            time.sleep(0.05)
    probe.close()
    return server, url


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement, the lowest of ``args.repeat`` runs each."""
    result: dict[str, Any] = {"redis_us_per_answer": {}, "http_us_per_request": {}}
    with tempfile.TemporaryDirectory(prefix="omnibot-fast-") as tmp:
        server, url = start_redis(Path(tmp))
        try:
            for loop_name, factory in loop_factories().items():
                for parser_name, parser in parsers().items():
                    job = partial(redis_run, url, parser, args.ops)
                    cost = best(args.repeat, factory, job)
                    result["redis_us_per_answer"][f"{loop_name}+{parser_name}"] = round(cost, 1)
                cost = best(args.repeat, factory, partial(http_run, args.requests))
                result["http_us_per_request"][loop_name] = round(cost, 1)
        finally:
            server.terminate()
            server.wait()
    result["json_us_per_message_and_frame"] = {
        name: round(cost, 2) for name, cost in json_costs().items()
    }
    return result


def main() -> None:
    """Parse the arguments, measure, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=4000, help="answers' Redis work per run")
    parser.add_argument("--requests", type=int, default=3000, help="HTTP posts per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args)
    if args.json:
        print(json.dumps(result))
        return
    for section, values in result.items():
        for name, value in values.items():
            print(f"{section:<32} {name:<18} {value:>8}")


if __name__ == "__main__":
    main()
