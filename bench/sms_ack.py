"""SMS webhook acknowledgement under a steady inbound load (issue 9: p99 <= 50 ms at 200/s).

    python -m bench.sms_ack [--rate 200] [--seconds 20] [--customers 500] [--duplicates 0.05]
                            [--role auto|all] [--data-dir DIR] [--json]

Starts a fake of Twilio's REST API (``tests/support/twilio_fake.py``) in this process and ``omnibot
serve`` as a real subprocess (embedded Redis on a fresh data directory, SMS switched on against
the fake), then posts signed inbound-SMS webhooks *open loop*: webhook ``i`` is due at
``start + i / rate`` whatever happened to earlier ones, and its latency is counted from that
due time to the end of its HTTP 200 TwiML answer (a late send counts against the service, not
for it). A share of the webhooks are Twilio retries (an already-posted MessageSid posted again).
Afterwards it waits for the replies: exactly one message-create call per distinct MessageSid
must reach the fake (the questions are ones the bot answers itself), none for a retry.

``--data-dir DIR`` reuses ``DIR/cache`` (the exported encoder and trained model; the first
start builds it, 20-60 s); Redis always starts empty. Everything listens on 127.0.0.1 only.
Exit status: 0 when the ack p99 meets ``--p99-ms`` with no error and every reply sent once,
1 when not, 2 when the service could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.process_cpu import rss_by_role
from bench.service import (
    PUBLIC_URL,
    SHOP_NUMBER,
    add_role_options,
    launch,
    role_options,
    run_served,
    serve_env,
    sms_env,
)
from bench.stats import percentile
from bot.storage.embedded import free_port
from connectors.sms.connector import WEBHOOK_PATH
from tests.support.serve_process import ServeProcess
from tests.support.twilio_fake import AUTH_TOKEN, Call, FakeTwilio, inbound_form, signature

REQUEST_TIMEOUT_S = 10.0
SETTLE_S = 1.0  # after the expected replies arrived, how long to watch for extra ones
WARMUP_MESSAGES = 20
RETRY_WINDOW = 400  # a retry re-posts one of the last this-many original webhooks
ORDER_QUESTION = "where is my order?"
ORDER_NUMBERS = ("100234", "100377", "100412", "100598", "100655")  # the bundled sample orders
# Questions the bot answers itself (a confident intent, no escalation), so every one of them
# gets exactly one reply; "where is my order?" is followed by the customer's order number.
QUESTIONS = (
    ORDER_QUESTION,
    "where is order 100377?",
    "how long is delivery to Canada?",
    "what are your opening hours?",
    "I want to return my shoes",
    "can I pay with PayPal?",
    "how much does delivery cost?",
    "when will I get my refund?",
    "where is your nearest store?",
    "can I pick up my order in store?",
    "do you have these jeans in size 32?",
    "I need to cancel my order",
    "can I change my delivery address?",
    "I forgot my password",
    "how long does shipping take?",
    "hi there",
    "thanks a lot",
)


@dataclass(frozen=True)
class Webhook:
    """One inbound-SMS webhook to post: the encoded signed form and what it stands for."""

    sid: str
    sender: str
    body: bytes
    headers: dict[str, str]
    retry: bool


@dataclass(frozen=True)
class Ack:
    """How one webhook went: its due time, when it was sent and answered, and whether 200."""

    due: float
    sent: float
    done: float
    ok: bool
    status: int  # 0: no HTTP answer


def make_webhook(sid: str, sender: str, text: str, retry: bool = False) -> Webhook:
    """A webhook Twilio would post for ``text`` from ``sender``, signed for ``PUBLIC_URL``."""
    form = inbound_form(sid, sender, text, to=SHOP_NUMBER)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signature(PUBLIC_URL + WEBHOOK_PATH, form, AUTH_TOKEN),
    }
    return Webhook(sid, sender, urlencode(form).encode(), headers, retry)


def plan(
    count: int, customers: int, retry_share: float, seed: int, prefix: str = "+1555"
) -> list[Webhook]:
    """``count`` webhooks: questions from random customers, ``retry_share`` of them retries."""
    rng = random.Random(seed)
    numbers = [f"{prefix}{2_000_000 + i:07d}" for i in range(customers)]
    follow_up: dict[str, str] = {}
    originals: list[Webhook] = []
    hooks: list[Webhook] = []
    for _ in range(count):
        if originals and rng.random() < retry_share:
            again = rng.choice(originals[-RETRY_WINDOW:])
            hooks.append(Webhook(again.sid, again.sender, again.body, again.headers, True))
            continue
        sender = rng.choice(numbers)
        text = follow_up.pop(sender, None) or rng.choice(QUESTIONS)
        if text == ORDER_QUESTION:
            follow_up[sender] = f"it's {rng.choice(ORDER_NUMBERS)}"
        hook = make_webhook(f"SM{rng.getrandbits(128):032x}", sender, text)
        originals.append(hook)
        hooks.append(hook)
    return hooks


async def post(session: aiohttp.ClientSession, url: str, hook: Webhook, due: float) -> Ack:
    """Post one webhook; its ack counts as good only as HTTP 200 with a TwiML body."""
    sent = time.monotonic()
    status, ok = 0, False
    try:
        async with session.post(url, data=hook.body, headers=hook.headers) as response:
            text = await response.text()
            status = response.status
            ok = status == 200 and "<Response" in text
    except (aiohttp.ClientError, TimeoutError):
        pass
    return Ack(due, sent, time.monotonic(), ok, status)


async def send_open_loop(
    session: aiohttp.ClientSession, url: str, hooks: Sequence[Webhook], rate: float
) -> list[Ack]:
    """Post ``hooks[i]`` at ``start + i / rate``, never waiting for earlier answers."""
    tasks: list[asyncio.Task[Ack]] = []
    start = time.monotonic() + 0.05
    for i, hook in enumerate(hooks):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(session, url, hook, due)))
    await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 5)
    acks = []
    for i, task in enumerate(tasks):
        if task.done():
            acks.append(task.result())
        else:
            task.cancel()
            due = start + i / rate
            acks.append(Ack(due, due, time.monotonic(), False, 0))
    return acks


async def wait_for_replies(
    fake: FakeTwilio, baseline: int, expected: int, timeout_s: float
) -> None:
    """Until ``expected`` messages were created after the first ``baseline`` calls, then
    ``SETTLE_S`` more for extra ones (or ``timeout_s`` in all)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum(call.status == 201 for call in fake.calls[baseline:]) >= expected:
            await asyncio.sleep(SETTLE_S)
            return
        await asyncio.sleep(0.05)


async def start_service(
    fake: FakeTwilio, workdir: Path, data: Path, log: Path, options: Sequence[str] = ()
) -> ServeProcess:
    """``omnibot serve`` (with ``options``) on a free port with SMS against ``fake``, healthy
    (or :class:`ServeError`); the service's own log level and processing concurrency."""
    env = serve_env(data, free_port(), None, log_level=None)
    env.update(sms_env(fake.url))
    return await launch(workdir, env, log, options)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` and its direct children (Linux), else None."""
    try:
        pids = [
            pid,
            *(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()),
        ]
        total = 0
        for one in pids:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


async def inbound_counts(session: aiohttp.ClientSession, root: str) -> dict[str, float]:
    """The service's own count of inbound SMS by outcome (``/metrics``)."""
    async with session.get(f"{root}/metrics") as response:
        text = await response.text()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("omnibot_inbound_messages_total{") and 'channel="sms"' in line:
            outcome = re.search(r'outcome="([^"]+)"', line)
            if outcome:
                counts[outcome.group(1)] = float(line.rsplit(" ", 1)[1])
    return counts


def replies_check(
    hooks: Sequence[Webhook], acks: Sequence[Ack], replies: Sequence[Call]
) -> dict[str, Any]:
    """Missing and extra replies per customer, and the time from each message's due time to
    its reply (the k-th reply to a customer paired with their k-th message)."""
    asked: dict[str, list[float]] = defaultdict(list)
    for hook, ack in zip(hooks, acks, strict=True):
        if not hook.retry:
            asked[hook.sender].append(ack.due)
    answered: dict[str, list[float]] = defaultdict(list)
    for call in replies:
        answered[call["To"]].append(call.at)
    missing = extra = 0
    answer_s: list[float] = []
    for sender in asked.keys() | answered.keys():
        dues, ats = asked.get(sender, []), answered.get(sender, [])
        missing += max(0, len(dues) - len(ats))
        extra += max(0, len(ats) - len(dues))
        if len(dues) == len(ats):
            answer_s.extend(at - due for due, at in zip(dues, ats, strict=True))
    return {"missing": missing, "extra": extra, "answer_s": answer_s}


async def run(args: argparse.Namespace, workdir: Path, data: Path, log: Path) -> dict[str, Any]:
    """Start everything, post the load, collect the numbers."""
    count = round(args.rate * args.seconds)
    hooks = plan(count, args.customers, args.duplicates, args.seed)
    warmup = plan(WARMUP_MESSAGES, WARMUP_MESSAGES, 0.0, args.seed + 1, prefix="+1556")
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with (
        FakeTwilio() as fake,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
    ):
        process = await start_service(fake, workdir, data, log, role_options(args))
        root = process.base
        try:
            url = root + WEBHOOK_PATH
            await send_open_loop(session, url, warmup, 20.0)  # first-request costs, not timed
            await wait_for_replies(fake, 0, len(warmup), args.reply_timeout)
            baseline = len(fake.calls)
            cpu_before, own_before = cpu_seconds(process.pid), time.process_time()
            acks = await send_open_loop(session, url, hooks, args.rate)
            cpu_after, own_after = cpu_seconds(process.pid), time.process_time()
            window = max(ack.sent for ack in acks) - acks[0].due
            originals = sum(not hook.retry for hook in hooks)
            await wait_for_replies(fake, baseline, originals, args.reply_timeout)
            calls = fake.calls[baseline:]
            counts = await inbound_counts(session, root)
            rss = rss_by_role(process.pid)
        finally:
            await process.stopped()
    replies = [call for call in calls if call.status == 201]
    check = replies_check(hooks, acks, replies)
    good = [(ack.done - ack.due) * 1000 for ack in acks if ack.ok]
    lags = [(ack.sent - ack.due) * 1000 for ack in acks]
    last_send = max(ack.sent for ack in acks)
    last_reply = max((call.at for call in replies), default=math.nan)
    server_cpu = (
        cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else math.nan
    )
    result: dict[str, Any] = {
        "rate": args.rate,
        "seconds": args.seconds,
        "customers": args.customers,
        "webhooks": len(hooks),
        "retries": len(hooks) - originals,
        "achieved_rate": round(len(hooks) / (window + 1 / args.rate), 1),
        "ack_p50_ms": percentile(good, 0.50),
        "ack_p90_ms": percentile(good, 0.90),
        "ack_p99_ms": percentile(good, 0.99),
        "ack_max_ms": max(good, default=math.nan),
        "send_lag_p99_ms": percentile(lags, 0.99),
        "send_lag_max_ms": max(lags),
        "errors": sum(not ack.ok for ack in acks),
        "peak_rss_mb": rss,
        "error_statuses": sorted({ack.status for ack in acks if not ack.ok}),
        "replies_created": len(replies),
        "replies_expected": originals,
        "replies_missing": check["missing"],
        "retries_answered_twice": check["extra"],
        "create_calls_refused": len(calls) - len(replies),
        "server_duplicates": counts.get("duplicate", math.nan),
        "answer_p50_s": percentile(check["answer_s"], 0.50),
        "answer_p99_s": percentile(check["answer_s"], 0.99),
        "last_reply_after_start_s": last_reply - acks[0].due,
        "last_reply_after_last_send_s": last_reply - last_send,
        "server_cpu_cores": server_cpu / window,
        "bench_cpu_cores": (own_after - own_before) / window,
        "target_p99_ms": args.p99_ms,
    }
    result["passed"] = bool(
        result["ack_p99_ms"] <= args.p99_ms
        and result["errors"] == 0
        and check["missing"] == 0
        and check["extra"] == 0
        and len(replies) == originals
    )
    return {
        name: round(value, 3) if isinstance(value, float) else value
        for name, value in result.items()
    }


def print_table(result: dict[str, Any]) -> None:
    """The results as a small two-column table."""
    rows = [
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


def main() -> None:
    """Parse the arguments, run the benchmark, print the results, exit 0 (pass) or 1."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to send")
    parser.add_argument("--customers", type=int, default=500, help="distinct sender numbers")
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.05,
        help="share of webhooks that are retries of an earlier MessageSid",
    )
    parser.add_argument(
        "--connections", type=int, default=256, help="the HTTP client's connection pool size"
    )
    parser.add_argument("--p99-ms", type=float, default=50.0, help="the ack p99 target")
    parser.add_argument(
        "--reply-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the replies once sending stopped",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="reuse DIR/cache for the encoder and model (built when missing)",
    )
    parser.add_argument(
        "--log",
        type=Path,
        default=None,
        help="write the service's log here (default: a temporary file)",
    )
    add_role_options(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not (
        args.rate > 0
        and 0 < args.seconds <= 600
        and args.customers > 0
        and 0 <= args.duplicates < 1
        and args.rate * args.seconds <= 200_000
    ):
        parser.error(
            "need rate > 0, 0 < seconds <= 600, customers > 0, 0 <= duplicates < 1 "
            "and at most 200,000 webhooks"
        )
    cache = args.data_dir / "cache" if args.data_dir else None
    result = run_served("sms_ack", cache, args.log, lambda *dirs: run(args, *dirs))
    if args.json:
        print(
            json.dumps(
                {
                    name: None if isinstance(value, float) and math.isnan(value) else value
                    for name, value in result.items()
                }
            )
        )
    else:
        print_table(result)
    raise SystemExit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
