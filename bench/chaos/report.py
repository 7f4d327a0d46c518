"""The chaos suite's output: the serve processes' logs summed up, and the results as a small
table with the chaos events and the verdict."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from bench.chaos.results import EventRow, LogSummary, Result, judged_recovery, outage_held
from bench.chaos.verify import COUNTS
from bench.stats import number, rounded

LOG_LINE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (\S+): (.*)$")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\b.*$")
VOLATILE = re.compile(r"\b[0-9a-f]{8,}\b|[0-9]+(\.[0-9]+)?")
TOP_LINES = 12
LINE_CHARS = 160
FAILING_SHOWN = 10
EVENT_COLUMNS = (  # (heading, field, width): the event table
    ("event", "event", 9),
    ("at (s)", "fired_at_s", 8),
    ("lasted", "lasted_s", 7),
    ("retried", "messages_retried", 8),
    ("retries", "retries", 8),
    ("p50 rec.", "median_recovery_s", 8),
    ("slowest", "slowest_recovery_s", 8),
    ("in flight", "slowest_in_flight_s", 10),
)


def log_summary(workdir: Path) -> LogSummary:
    """The serve processes' WARNING/ERROR lines and exceptions, by kind (numbers and ids
    folded), most frequent first."""
    levels: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for path in sorted(workdir.glob("serve-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            match = LOG_LINE.match(line)
            if match:
                levels[match[1]] += 1
                text = VOLATILE.sub("#", match[3])[:LINE_CHARS]
                lines[f"{match[1]} {match[2]}: {text}"] += 1
            elif EXCEPTION_LINE.match(line):
                levels["exception"] += 1
                lines[f"exception {VOLATILE.sub('#', line)[:LINE_CHARS]}"] += 1
    return LogSummary(dict(levels), lines.most_common(TOP_LINES))


def log_tail(workdir: Path, count: int = 30) -> str:
    """The last lines of each serve log (after a failed start)."""
    tails = []
    for path in sorted(workdir.glob("serve-*.log")):
        lines = path.read_text(errors="replace").splitlines()[-count:]
        tails.append(f"--- {path.name}\n" + "\n".join(lines))
    return "\n".join(tails)


def summary_rows(result: Result) -> list[tuple[str, str]]:
    """The headline rows of the table."""
    r, t, options = result.to_json(), result.timing, result.options
    return [
        (
            "conversations",
            f"{r['conversations']} ({r['webchat']} web chat, {r['sms']} SMS) x "
            f"{options.messages} messages, {options.concurrency} at a time, "
            f"{processes(result)}",
        ),
        (
            "questions sent / answered",
            f"{r['questions_sent']} / {r['answered']} in {number(t.load_s)} s "
            f"({number(t.answered_per_s)} answers/s)",
        ),
        (
            "latency p50 / p99 / max",
            " / ".join(number(ms, 0) for ms in (t.p50_ms, t.p99_ms, t.max_ms)) + " ms",
        ),
        *((name.replace("_", " "), str(getattr(result.counts, name))) for name in COUNTS),
        ("  of which SMS sent twice", str(result.counts.sms_sent_twice)),
        (
            "slowest recovery",
            f"{number(t.slowest_recovery_s)} s over {t.messages_recovered} messages that "
            f"needed a reconnect or re-post ({t.not_recovered} never answered)",
        ),
        ("answers by kind", listed(dict(sorted(r["answer_kinds"].items())))),
        ("conversations given up", listed(r["gave_up"])),
        ("client errors", listed(result.client_errors)),
        (
            "left in Redis",
            f"{listed(asdict(result.redis_left))} (settled in {number(result.settle_s)} s)",
        ),
    ]


def listed(counts: Mapping[str, object]) -> str:
    """``name n, name n, ...``, or 0 when empty."""
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or "0"


def event_line(row: EventRow) -> str:
    """One chaos event's row: the columns, then what else the event recorded."""
    cells = [
        f"{value if isinstance(value, str | int) else number(value):>{width}}"
        for _, name, width in EVENT_COLUMNS
        for value in [getattr(row, name)]
    ]
    detail = dict(row.detail)
    if row.slowest_after_back_s is not None:  # no_answer: judged from the processes' return
        detail = {"slowest_after_back_s": row.slowest_after_back_s, **detail}
    extra = {name: number(v) if isinstance(v, float) else v for name, v in detail.items()}
    return " ".join(cells) + "  " + listed(extra)


def print_table(result: Result) -> None:
    """The results as a small table, the chaos events, the server logs and the verdict."""
    rows = summary_rows(result)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("\n" + " ".join(f"{heading:>{w}}" for heading, _, w in EVENT_COLUMNS), end="")
    print("  (seconds; retried: messages that needed a reconnect or re-post)")
    for row in result.events:
        print(event_line(row))
    if result.failing:
        print(f"\nfailing conversations: {len(result.failing)} (the first {FAILING_SHOWN})")
        for failure in result.failing[:FAILING_SHOWN]:
            print(f"  {json.dumps(rounded(failure.to_json()))}")
    if result.server_log is not None:
        print(f"\nserver log lines: {listed(result.server_log.levels)}")
        for text, n in result.server_log.top:
            print(f"  {n:>6}  {text}")
    counts = ", ".join(
        f"{getattr(result.counts, name)} {name.replace('_', ' ')}" for name in COUNTS
    )
    limit, judged = result.options.max_recovery, judged_recovery(result.events)
    print(
        f"\n{'PASS' if result.passed else 'FAIL'}: {counts}; slowest recovery across "
        f"the kills and the Redis restart {number(judged)} s (limit {limit:g} s)"
        + ("" if not result.options.split else f"; {outage_line(result)}")
    )


def outage_line(result: Result) -> str:
    """Whether the fronts held while no answer process ran (``--split``)."""
    held = outage_held(result.events)
    return f"fronts acknowledging while none answered: {'yes' if held else 'NO'}"


def processes(result: Result) -> str:
    """The serve processes: ``n processes``, or with ``--split`` the fronts and answerers."""
    if not result.options.split:
        return f"{result.servers} processes"
    return f"{result.servers} front + {result.options.answerers} answer processes"
