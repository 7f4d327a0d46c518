"""``bench.sms_ack``'s figures: what one run measured, turned into its result object and table.

Ack latency runs from a webhook's due time to the end of its HTTP 200 TwiML answer; the send
lag is the load generator's own lateness; replies are checked per customer
(``bench.sms_replies.replies_check``); CPU is in cores over the sending window.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.sms_replies import replies_check
from bench.sms_webhooks import Ack, Webhook
from bench.stats import percentile
from tests.support.twilio_fake import Call


@dataclass(frozen=True)
class Measured:
    """One run's raw numbers: the acks, the fake's calls after the warm-up, the service's own
    inbound counts, peak RSS by role, and CPU seconds over the sending window."""

    acks: list[Ack]
    calls: list[Call]
    counts: dict[str, float]
    rss: dict[str, float]
    server_cpu_s: float  # NaN when /proc could not be read
    bench_cpu_s: float


def ack_figures(acks: Sequence[Ack]) -> dict[str, Any]:
    """Ack latency of the good acks, the load generator's send lag, and the failed acks."""
    good = [(ack.done - ack.due) * 1000 for ack in acks if ack.ok]
    lags = [(ack.sent - ack.due) * 1000 for ack in acks]
    return {
        "ack_p50_ms": percentile(good, 0.50),
        "ack_p90_ms": percentile(good, 0.90),
        "ack_p99_ms": percentile(good, 0.99),
        "ack_max_ms": max(good, default=math.nan),
        "send_lag_p99_ms": percentile(lags, 0.99),
        "send_lag_max_ms": max(lags),
        "errors": sum(not ack.ok for ack in acks),
    }


def reply_figures(hooks: Sequence[Webhook], measured: Measured) -> dict[str, Any]:
    """The replies created, missing and doubled, and how long they took."""
    acks = measured.acks
    replies = [call for call in measured.calls if call.status == 201]
    check = replies_check(hooks, acks, replies)
    last_reply = max((call.at for call in replies), default=math.nan)
    return {
        "replies_created": len(replies),
        "replies_expected": sum(not hook.retry for hook in hooks),
        "replies_missing": check["missing"],
        "retries_answered_twice": check["extra"],
        "create_calls_refused": len(measured.calls) - len(replies),
        "server_duplicates": measured.counts.get("duplicate", math.nan),
        "answer_p50_s": percentile(check["answer_s"], 0.50),
        "answer_p99_s": percentile(check["answer_s"], 0.99),
        "last_reply_after_start_s": last_reply - acks[0].due,
        "last_reply_after_last_send_s": last_reply - max(ack.sent for ack in acks),
    }


def passed(result: dict[str, Any], p99_ms: float) -> bool:
    """The ack p99 met with no failed ack, and every reply sent exactly once."""
    return bool(
        result["ack_p99_ms"] <= p99_ms
        and result["errors"] == 0
        and result["replies_missing"] == 0
        and result["retries_answered_twice"] == 0
        and result["replies_created"] == result["replies_expected"]
    )


def figures(
    args: argparse.Namespace, hooks: Sequence[Webhook], measured: Measured
) -> dict[str, Any]:
    """The result object (``--json``), floats to 3 decimals."""
    acks = measured.acks
    window = max(ack.sent for ack in acks) - acks[0].due
    result: dict[str, Any] = {
        "rate": args.rate,
        "seconds": args.seconds,
        "customers": args.customers,
        "webhooks": len(hooks),
        "retries": sum(hook.retry for hook in hooks),
        "achieved_rate": round(len(hooks) / (window + 1 / args.rate), 1),
        **ack_figures(acks),  # its last key is "errors"
        "peak_rss_mb": measured.rss,
        "error_statuses": sorted({ack.status for ack in acks if not ack.ok}),
        **reply_figures(hooks, measured),
        "server_cpu_cores": measured.server_cpu_s / window,
        "bench_cpu_cores": measured.bench_cpu_s / window,
        "target_p99_ms": args.p99_ms,
    }
    result["passed"] = passed(result, args.p99_ms)
    return {
        name: round(value, 3) if isinstance(value, float) else value
        for name, value in result.items()
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The table's rows: name, value."""
    return [
        (
            "webhooks (retries)",
            f"{result['webhooks']} ({result['retries']}) from "
            f"{result['customers']} customers in {result['seconds']} s",
        ),
        ("rate asked / achieved", f"{result['rate']} / {result['achieved_rate']} per s"),
        (
            "ack p50 / p90 / p99 / max",
            f"{result['ack_p50_ms']:.1f} / {result['ack_p90_ms']:.1f}"
            f" / {result['ack_p99_ms']:.1f} / "
            f"{result['ack_max_ms']:.1f} ms",
        ),
        ("errors (statuses)", f"{result['errors']} {result['error_statuses'] or ''}".strip()),
        (
            "send lag p99 / max",
            f"{result['send_lag_p99_ms']:.1f} / "
            f"{result['send_lag_max_ms']:.1f} ms (load generator)",
        ),
        (
            "replies created / expected",
            f"{result['replies_created']} / {result['replies_expected']}",
        ),
        (
            "missing / retries answered twice",
            f"{result['replies_missing']} / "
            f"{result['retries_answered_twice']} "
            f"(service saw {result['server_duplicates']:g} "
            "duplicates)",
        ),
        ("answer p50 / p99", f"{result['answer_p50_s']:.2f} / {result['answer_p99_s']:.2f} s"),
        (
            "last reply after start / last send",
            f"{result['last_reply_after_start_s']:.2f} / "
            f"{result['last_reply_after_last_send_s']:.2f}"
            " s",
        ),
        (
            "CPU: service (+Redis) / bench",
            f"{result['server_cpu_cores']:.2f} / {result['bench_cpu_cores']:.2f} cores",
        ),
        (
            "peak RSS by process, MB",
            ", ".join(f"{role} {mb:g}" for role, mb in result["peak_rss_mb"].items()),
        ),
    ]


def print_table(result: dict[str, Any]) -> None:
    """The results as a small two-column table and the verdict."""
    rows = table_rows(result)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(
        f"{verdict}: ack p99 {result['ack_p99_ms']:.1f} ms (target <= "
        f"{result['target_p99_ms']:g} ms), {result['errors']} errors, "
        f"{result['replies_missing']} missing and {result['retries_answered_twice']} doubled "
        "replies"
    )
