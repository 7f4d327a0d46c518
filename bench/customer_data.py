"""How long a customer's export and erasure take as the keyspace grows, on one Redis server
(the erasure SCANs the keyspace for the customer's hash tag) and on a 3-master Redis Cluster
(it lists the customer's slot only: ``CLUSTER GETKEYSINSLOT``).

    .venv/bin/python -m bench.customer_data [--keys 0,100000,1000000] [--rounds 5] [--json]

Each round seeds a customer with ``--messages`` messages on two linked addresses (SMS and web
chat, an SMS dedup marker per message), exports and erases them, and checks that no key of
theirs is left. The other keys are plain strings, as many as asked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio as redis

from bot.identity.privacy import Privacy
from bot.models import Address, Message, Role
from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis
from bot.storage.store import Store
from tests.support.redis_cluster import start_cluster

FILL_BATCH = 10_000
PHONE = Address("sms", "+447700900123")
WEB = Address("webchat", "bench-visitor")


@asynccontextmanager
async def redis_of(kind: str, workdir: Path) -> AsyncIterator[redis.Redis]:
    """A fresh Redis of ``kind`` ("server" or "cluster") for the run."""
    if kind == "server":
        async with EmbeddedRedis(workdir / "server") as embedded:
            client = connect(embedded.url, cluster=False)
            yield client
            await client.aclose()
        return
    cluster = start_cluster(workdir / "cluster")
    try:
        client = connect(cluster.url(), cluster=True)
        await client.ping()
        yield client
        await client.aclose()
    finally:
        cluster.stop()


async def fill(client: redis.Redis, total: int, start: int) -> None:
    """Add plain keys ``filler:<n>`` for n in [start, total)."""
    for first in range(start, total, FILL_BATCH):
        pipe = client.pipeline(transaction=False)
        for n in range(first, min(total, first + FILL_BATCH)):
            pipe.set(f"filler:{n}", "x")
        await pipe.execute()


async def seed(store: Store, messages: int) -> str:
    """A customer on two addresses with ``messages`` answered messages."""
    cid = await store.resolve(PHONE)
    await store.add_address(cid, WEB)
    for n in range(messages // 2):
        text = f"message {n}"
        await store.accept(cid, PHONE, f"SM{n:06d}", Message(role=Role.CUSTOMER, text=text))
        await store.record(cid, (Message(role=Role.BOT, text="re: " + text),), {"answered": n + 1})
    return cid


async def left_of(client: redis.Redis, cid: str) -> int:
    """The keys still naming the customer (a SCAN of every node)."""
    return sum([cid in str(key) async for key in client.scan_iter(count=1000)])


async def measure(client: redis.Redis, rounds: int, messages: int) -> dict[str, float]:
    """Export and erase ``rounds`` times; their median times (ms) and the keys left."""
    store = Store(client, rate_limit=(10**9, 60))  # a bench customer writes fast
    privacy = Privacy(client, store)
    exports, erasures, left = [], [], 0
    for _ in range(rounds):
        cid = await seed(store, messages)
        began = time.perf_counter()
        await privacy.export(PHONE, by="bench")
        exports.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        await privacy.erase(PHONE, by="bench")
        erasures.append((time.perf_counter() - began) * 1000)
        left += await left_of(client, cid)
    return {
        "export_p50_ms": statistics.median(exports),
        "erase_p50_ms": statistics.median(erasures),
        "keys_left": left,
    }


async def run(
    kinds: list[str], sizes: list[int], rounds: int, messages: int
) -> list[dict[str, Any]]:
    """One row per Redis kind and keyspace size."""
    rows: list[dict[str, Any]] = []
    for kind in kinds:
        with tempfile.TemporaryDirectory() as scratch:
            async with redis_of(kind, Path(scratch)) as client:
                filled = 0
                for size in sorted(sizes):
                    await fill(client, size, filled)
                    filled = size
                    row = {"redis": kind, "other_keys": size, "messages": messages}
                    rows.append({**row, **await measure(client, rounds, messages)})
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    """Run the measurement and print a Markdown table (or JSON lines only, with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", default="0,100000,1000000", help="other keys, comma-separated")
    parser.add_argument("--kinds", default="server,cluster")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(part) for part in args.keys.split(",")]
    rows = asyncio.run(run(args.kinds.split(","), sizes, args.rounds, args.messages))
    if args.json:
        return
    print("| Redis | other keys | export p50 | erase p50 | keys left |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['redis']} | {row['other_keys']:,} | {row['export_p50_ms']:.1f} ms "
            f"| {row['erase_p50_ms']:.1f} ms | {row['keys_left']} |"
        )


if __name__ == "__main__":
    main()
