"""Where a served benchmark's CPU and memory went, read from ``/proc`` (Linux).

The service's process tree is walked (``tests/support/serve_process.process_tree``); each
process is given its role from its command line (``process_role``), each of its threads a kind
(``thread_kind``), and the clock ticks read at the two ends of a measured window become core
milliseconds per answered message (``cpu_figures``). ``rss_by_role`` gives the peak resident
memory of each process, ``cpu_seconds`` one process's CPU with its direct children's.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.support.serve_process import process_tree

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

TickMap = dict[tuple[int, int], "Ticks"]


@dataclass(frozen=True)
class Ticks:
    """One thread's CPU time so far (redis-server: the whole process's), and what it is."""

    kind: str
    name: str
    ticks: int
    role: str = ""  # the process's: front, answer, all, parent, redis (``process_role``)


class CpuReading(Protocol):
    """The CPU counters read at one end of a measured window."""

    @property
    def at(self) -> float:
        """``time.monotonic()`` when read."""

    @property
    def ticks(self) -> TickMap:
        """Every thread's ticks (``tree_ticks``)."""

    @property
    def own_cpu_s(self) -> float:
        """The load generator's ``time.process_time()``."""


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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` and its direct children (Linux), else None."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids = [pid, *(int(child) for child in children)]
        total = sum(stat_ticks(Path(f"/proc/{one}/stat")) for one in pids)
    except (OSError, ValueError, IndexError):
        return None
    return total / CLK_TCK


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


def process_ticks(pid: int) -> TickMap:
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


def tree_ticks(pid: int) -> TickMap:
    """CPU ticks of every thread of ``pid``'s process tree, with its kind."""
    ticks: TickMap = {}
    for one in process_tree(pid):
        try:
            ticks.update(process_ticks(one))
        except (OSError, ValueError, IndexError):
            continue
    return ticks


def thread_ms(before: CpuReading, after: CpuReading) -> list[dict[str, Any]]:
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


def core_ms(
    threads: list[dict[str, Any]], before: CpuReading, after: CpuReading
) -> dict[str, float]:
    """CPU milliseconds spent in the window by kind, the load generator's included."""
    spent = dict.fromkeys(KINDS, 0.0)
    for thread in threads:
        spent[thread["kind"]] += thread["ms"]
    spent["load_generator"] = (after.own_cpu_s - before.own_cpu_s) * 1000
    return spent


def per_answer(value: float | None, answered: int) -> float | None:
    """``value`` per answered message, None when it is not known or nothing was answered."""
    return None if value is None or answered == 0 else value / answered


def cpu_figures(before: CpuReading, after: CpuReading, answered: int) -> dict[str, Any]:
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
