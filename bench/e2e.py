"""End to end through web chat: answered messages a second against the bare PyTorch encoder.

    python -m bench.e2e [--visitors 64] [--warmup 5] [--seconds 30] [--concurrency N]
                           [--workers N] [--role auto|all] [--encoder-seconds 8] [--data-dir var]
                           [--json]

Measures how many sentences a second the bare PyTorch encoder (sentence-transformers' MiniLM,
``model.encode(texts, batch_size=64)``) embeds on this machine, in a separate process, then
starts ``omnibot serve`` as a real subprocess (embedded Redis on a fresh data directory, all on
127.0.0.1). ``--visitors`` web chat visitors, each a WebSocket client of ``/webchat/ws``, ask
*closed loop*: a visitor sends its next question only once the bot's answer to the previous one
arrived; latency runs from sending a question to the bot's answer frame. The questions are
retail questions the default catalogue answers itself (no hand-off, no follow-up), varied so
that no two visitors ask the same text. A visitor that gets handed to a person (state
``waiting``) reconnects as a new visitor. ``--warmup`` seconds are not counted; the
``--seconds`` after them are. Once the service stopped, the encoder is measured again for the
same ``--encoder-seconds``: the VM's steal time swings within a minute, so the ratio uses the
mean of the two samples (``bench/encoder_baseline.py``).

Printed: answered messages a second, p50/p99 latency, the encoder's rate (the mean, and the
samples before and after), the ratio to that mean, Redis round trips (the service's
``/metrics``) and commands (``INFO commandstats``) per answer, and where the CPU went, in
core-ms per answer: the model (the classifier's threads), the event loop (each serve process's
main thread), other threads, redis-server and this load generator, and the same CPU by process
role (front, answer, parent, redis); and the resident memory (peak, MB) of each process by its
role (``--role auto``: the supervising parent, the front and the answer process). The pieces:
``bench/webchat_visitor.py`` (the visitors), ``bench/service_counters.py`` (the counters at
the window's ends), ``bench/process_cpu.py`` (CPU and memory by thread and process).

``--data-dir DIR`` reuses ``DIR/cache`` (the exported encoder and trained model; the first
start builds it, 20-60 s); Redis always starts empty. Exit status: 0 when answers were
measured, 1 when none arrived in the window, 2 when the service could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as redis

from bench.encoder_baseline import encoder_figures, measure_encoder
from bench.process_cpu import cpu_figures, rss_by_role
from bench.questions import answer_kinds, deal, questions
from bench.service import add_role_options, launch, role_options, run_served, serve_env
from bench.service_counters import Snapshot, redis_figures, snapshot
from bench.stats import number, percentile, rounded
from bench.webchat_visitor import Tally, answer_figures, visitor
from bot.storage.embedded import free_port, running_url
from tests.support.serve_process import ServeProcess

STOP_TIMEOUT_S = 30.0  # after the window, how long the last questions may take


async def start_service(
    args: argparse.Namespace, workdir: Path, data: Path, log: Path
) -> ServeProcess:
    """``omnibot serve`` on a free port, healthy (or :class:`ServeError`)."""
    options = ["--workers", str(args.workers)] if args.workers > 1 else []
    options += role_options(args)
    env = serve_env(data, free_port(), args.concurrency)
    return await launch(workdir, env, log, options)


async def sleep_until(at: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``at``."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))


async def load(
    session: aiohttp.ClientSession,
    root: str,
    pid: int,
    client: redis.Redis,
    args: argparse.Namespace,
    tally: Tally,
) -> tuple[Snapshot, Snapshot]:
    """The visitors asking through warm-up and the window; the counters at its two ends."""
    answers = answer_kinds()
    url = root.replace("http://", "ws://") + "/webchat/ws"
    begin = time.monotonic()
    stop_at = begin + args.warmup + args.seconds
    tasks = [
        asyncio.create_task(visitor(session, url, mine, answers, stop_at, tally))
        for mine in deal(questions(args.seed), args.visitors)
    ]
    await sleep_until(begin + args.warmup)
    tally.start = time.monotonic()  # answers arriving from now on count
    before = await snapshot(session, root, pid, client, args.workers <= 1)
    await sleep_until(stop_at)
    tally.end = time.monotonic()
    after = await snapshot(session, root, pid, client, args.workers <= 1)
    _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return before, after


def summarize(
    args: argparse.Namespace,
    encoder_per_s: float | None,
    tally: Tally,
    before: Snapshot,
    after: Snapshot,
) -> dict[str, Any]:
    """The result object (``--json``)."""
    window = tally.end - tally.start
    answered = len(tally.latencies_ms)
    answered_per_s = answered / window
    return {
        "visitors": args.visitors,
        "seconds": round(window, 3),
        "workers": args.workers,
        "concurrency": args.concurrency,
        "answered": answered,
        "answered_per_s": answered_per_s,
        "p50_ms": percentile(tally.latencies_ms, 0.50),
        "p99_ms": percentile(tally.latencies_ms, 0.99),
        "encoder_per_s": encoder_per_s,
        "ratio": None if not encoder_per_s else answered_per_s / encoder_per_s,
        **answer_figures(tally),
        **redis_figures(before, after, answered),
        **cpu_figures(before, after, answered),
    }


async def measure_load(
    session: aiohttp.ClientSession,
    process: ServeProcess,
    data: Path,
    args: argparse.Namespace,
    tally: Tally,
) -> tuple[Snapshot, Snapshot]:
    """``load`` with a client of the service's embedded Redis (its ``INFO``)."""
    url = running_url(data / "redis")
    if url is None:
        raise RuntimeError("the embedded redis-server wrote no port file")
    client = redis.Redis.from_url(url)
    try:
        return await load(session, process.base, process.pid, client, args, tally)
    finally:
        await client.aclose()


async def run(args: argparse.Namespace, workdir: Path, data: Path, log: Path) -> dict[str, Any]:
    """Measure the encoder, start the service, run the load, stop it, measure the encoder
    again (the same seconds); collect the numbers."""
    texts = [question.text for question in questions(args.seed)]
    tally = Tally()
    encoder_before = await measure_encoder(texts, args.encoder_seconds)
    connector = aiohttp.TCPConnector(limit=args.visitors + 16)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        process = await start_service(args, workdir, data, log)
        try:
            before, after = await measure_load(session, process, data, args, tally)
            rss = rss_by_role(process.pid)
        finally:
            await process.stopped()
    encoder = encoder_figures(encoder_before, await measure_encoder(texts, args.encoder_seconds))
    summary = summarize(args, encoder["encoder_per_s"], tally, before, after)
    return {**summary, **encoder, "peak_rss_mb": rss}


Row = tuple[str, str]


def answer_rows(result: dict[str, Any]) -> list[Row]:
    """The table's rows on answers, latency and the encoder baseline."""
    return [
        ("visitors / window", f"{result['visitors']} / {result['seconds']:.1f} s"),
        ("answered", f"{result['answered']} ({number(result['answered_per_s'])} msgs/s)"),
        ("latency p50 / p99", f"{number(result['p50_ms'])} / {number(result['p99_ms'])} ms"),
        ("PyTorch encoder, batch 64", f"{number(result['encoder_per_s'])} sentences/s (mean)"),
        (
            "encoder before / after service",
            f"{number(result['encoder_before_per_s'])} / "
            f"{number(result['encoder_after_per_s'])} sentences/s",
        ),
        ("ratio answered / encoder", number(result["ratio"], 2)),
        (
            "real answers / non-answers",
            f"{result['real_answers']} / "
            + ", ".join(f"{kind} {n}" for kind, n in result["non_answers"].items()),
        ),
    ]


def cost_rows(result: dict[str, Any]) -> list[Row]:
    """The table's rows on Redis, CPU, errors and memory."""
    cpu = result["core_ms_per_answer"]
    return [
        ("Redis round trips / answer", number(result["round_trips_per_answer"], 2)),
        ("Redis commands / answer", number(result["commands_per_answer"], 2)),
        ("redis-server ms / answer", number(result["redis_ms_per_answer"], 3)),
        *((f"core-ms / answer: {kind}", number(ms, 2)) for kind, ms in cpu.items()),
        ("core-ms / answer: total", number(result["core_ms_per_answer_total"], 2)),
        (
            "core-ms / answer by process",
            ", ".join(
                f"{role} {number(ms, 2)}"
                for role, ms in result["core_ms_per_answer_by_role"].items()
            ),
        ),
        (
            "core-ms in the window",
            f"{number(result['core_ms_window'], 0)} of {result['cores']} cores x window = "
            f"{number(result['core_ms_capacity'], 0)} ({result['cores_busy_share']:.0%})",
        ),
        ("errors", f"{result['errors']} {result['error_kinds'] or ''}".strip()),
        (
            "peak RSS by process, MB",
            ", ".join(f"{role} {mb:g}" for role, mb in result["peak_rss_mb"].items()),
        ),
    ]


def print_table(result: dict[str, Any]) -> None:
    """The results as a small two-column table."""
    rows = answer_rows(result) + cost_rows(result)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for template, counts in result["templates_not_answered"].items():
        print(f"not always answered: {template!r} {counts}")


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=64, help="concurrent web chat visitors")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not counted")
    parser.add_argument("--seconds", type=float, default=30.0, help="the measured window")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="PROCESSING_CONCURRENCY of the service"
    )
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N (if > 1)")
    add_role_options(parser)
    parser.add_argument(
        "--encoder-seconds",
        type=float,
        default=8.0,
        help="each PyTorch encoder run, before and after the service (0: skip)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var"), help="reuse DIR/cache (built when missing)"
    )
    parser.add_argument("--log", type=Path, default=None, help="the service's log file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not (0 < args.visitors <= 500 and 0 < args.seconds <= 600 and args.warmup >= 0):
        parser.error("need 0 < visitors <= 500, 0 < seconds <= 600 and warmup >= 0")
    return args


def main() -> None:
    """Parse the arguments, run the benchmark, print the results."""
    args = arguments()
    result = rounded(
        run_served("e2e", args.data_dir / "cache", args.log, lambda *dirs: run(args, *dirs))
    )
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    raise SystemExit(0 if result["answered"] else 1)


if __name__ == "__main__":
    main()
