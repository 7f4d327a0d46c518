"""Acknowledging SMS while web chat visitors keep asking: both loads on one service at once.

    python -m bench.combined [--role auto|all] [--rate 200] [--visitors 64] [--warmup 5]
                             [--seconds 20] [--encoder-seconds 0] [--data-dir var] [--json]

Issue 22's combined target: 200 signed SMS webhooks a second acknowledged with p99 <= 50 ms
*while* 64 web chat visitors keep asking, in the same build at the same time. Starts one
``omnibot serve`` (``--role auto``, the default: front and answer processes) with SMS switched
on against the fake Twilio API, and this process runs both loads of the other benches on it: the
visitors of ``bench.e2e`` (closed loop, each asks its next question once answered) through
warm-up and window, and, during the window, the open-loop signed webhooks of ``bench.sms_ack``
(the same customers, questions and 5 % retries). Printed: the web chat figures of ``bench.e2e``
for the window (answered msgs/s, p50/p99, the CPU by thread kind) and the SMS figures of
``bench.sms_ack`` (ack p50/p90/p99/max, errors, replies, once the replies arrived), and the peak
RSS of each process by its role.

Exit status: 0 when the ack p99 meets ``--p99-ms`` with no failed ack and answers were
measured, 1 when not, 2 when the service could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as redis

from bench import e2e
from bench.encoder_baseline import measure_encoder
from bench.process_cpu import rss_by_role
from bench.questions import questions
from bench.service import add_role_options, launch, role_options, run_served, serve_env, sms_env
from bench.sms_replies import replies_check, wait_for_replies
from bench.sms_webhooks import WARMUP_MESSAGES, Ack, Webhook, plan, send_open_loop
from bench.stats import number, percentile, rounded
from bench.webchat_visitor import Tally
from bot.storage.embedded import free_port, running_url
from connectors.sms.connector import WEBHOOK_PATH
from tests.support.serve_process import ServeProcess
from tests.support.twilio_fake import FakeTwilio


async def start_service(
    args: argparse.Namespace, fake: FakeTwilio, workdir: Path, data: Path, log: Path
) -> ServeProcess:
    """``omnibot serve`` (of ``--role``) with SMS against ``fake``, healthy."""
    env = serve_env(data, free_port(), args.concurrency)
    env.update(sms_env(fake.url))
    return await launch(workdir, env, log, role_options(args))


async def texting(
    session: aiohttp.ClientSession, url: str, hooks: list[Webhook], args: argparse.Namespace
) -> list[Ack]:
    """The webhooks, open loop at ``args.rate``, from the end of the visitors' warm-up."""
    await asyncio.sleep(args.warmup)
    return await send_open_loop(session, url, hooks, args.rate)


def sms_figures(
    hooks: list[Webhook], acks: list[Ack], fake: FakeTwilio, baseline: int
) -> dict[str, Any]:
    """Ack latency, failed acks and the replies of the SMS load."""
    calls = fake.calls[baseline:]
    replies = [call for call in calls if call.status == 201]
    check = replies_check(hooks, acks, replies)
    good = [(ack.done - ack.due) * 1000 for ack in acks if ack.ok]
    return {
        "rate": round(len(hooks) / max(1e-9, acks[-1].due - acks[0].due), 1),
        "webhooks": len(hooks),
        "ack_p50_ms": percentile(good, 0.50),
        "ack_p90_ms": percentile(good, 0.90),
        "ack_p99_ms": percentile(good, 0.99),
        "ack_max_ms": max(good, default=math.nan),
        "ack_errors": sum(not ack.ok for ack in acks),
        "error_statuses": sorted({ack.status for ack in acks if not ack.ok}),
        "replies_created": len(replies),
        "replies_expected": sum(not hook.retry for hook in hooks),
        "replies_missing": check["missing"],
        "retries_answered_twice": check["extra"],
        "answer_p50_s": percentile(check["answer_s"], 0.50),
    }


async def both_loads(
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    process: ServeProcess,
    fake: FakeTwilio,
    data: Path,
) -> dict[str, Any]:
    """Warm SMS up, then the visitors and, in their window, the webhooks; the figures."""
    url = process.base + WEBHOOK_PATH
    warmup = plan(WARMUP_MESSAGES, WARMUP_MESSAGES, 0.0, args.seed + 1)
    await send_open_loop(session, url, warmup, 20.0)
    await wait_for_replies(fake, 0, len(warmup), args.reply_timeout)
    baseline = len(fake.calls)
    hooks = plan(round(args.rate * args.seconds), args.customers, 0.05, args.seed)
    redis_url = running_url(data / "redis")
    if redis_url is None:
        raise RuntimeError("the embedded redis-server wrote no port file")
    client = redis.Redis.from_url(redis_url)
    tally = Tally()
    try:
        chat = e2e.load(session, process.base, process.pid, client, args, tally)
        (before, after), acks = await asyncio.gather(chat, texting(session, url, hooks, args))
    finally:
        await client.aclose()
    expected = sum(not hook.retry for hook in hooks)
    await wait_for_replies(fake, baseline, expected, args.reply_timeout)
    return {
        "webchat": e2e.summarize(args, None, tally, before, after),
        "sms": sms_figures(hooks, acks, fake, baseline),
        "peak_rss_mb": rss_by_role(process.pid),
    }


async def run(args: argparse.Namespace, workdir: Path, data: Path, log: Path) -> dict[str, Any]:
    """Start the fake and the service, measure the encoder if asked, run both loads."""
    connector = aiohttp.TCPConnector(limit=args.visitors + args.connections)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
    async with (
        FakeTwilio() as fake,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
    ):
        process = await start_service(args, fake, workdir, data, log)
        try:
            texts = [question.text for question in questions(args.seed)]
            encoder = await measure_encoder(texts, args.encoder_seconds)
            result = await both_loads(args, session, process, fake, data)
        finally:
            await process.stopped()
    result["encoder_per_s"] = encoder
    chat = result["webchat"]
    chat["ratio"] = None if not encoder else chat["answered_per_s"] / encoder
    sms = result["sms"]
    result["passed"] = bool(
        sms["ack_p99_ms"] <= args.p99_ms and sms["ack_errors"] == 0 and chat["answered"]
    )
    return result


def print_table(result: dict[str, Any]) -> None:
    """The headline figures as a two-column table."""
    chat, sms, cpu = result["webchat"], result["sms"], result["webchat"]["core_ms_per_answer"]
    rows = [
        ("web chat answered", f"{chat['answered']} ({number(chat['answered_per_s'])} msgs/s)"),
        ("web chat p50 / p99", f"{number(chat['p50_ms'])} / {number(chat['p99_ms'])} ms"),
        ("web chat errors", f"{chat['errors']} {chat['error_kinds'] or ''}".strip()),
        ("encoder / ratio", f"{number(result['encoder_per_s'])} / {number(chat['ratio'], 2)}"),
        ("SMS webhooks (rate)", f"{sms['webhooks']} ({sms['rate']}/s)"),
        (
            "SMS ack p50 / p90 / p99 / max",
            " / ".join(number(sms[k]) for k in ("ack_p50_ms", "ack_p90_ms", "ack_p99_ms"))
            + f" / {number(sms['ack_max_ms'])} ms",
        ),
        ("SMS ack errors", f"{sms['ack_errors']} {sms['error_statuses'] or ''}".strip()),
        ("SMS replies / expected", f"{sms['replies_created']} / {sms['replies_expected']}"),
        ("SMS answer p50", f"{number(sms['answer_p50_s'], 2)} s"),
        *((f"core-ms / web answer: {kind}", number(ms, 2)) for kind, ms in cpu.items()),
        ("peak RSS, MB", ", ".join(f"{r} {mb:g}" for r, mb in result["peak_rss_mb"].items())),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(("PASS" if result["passed"] else "FAIL") + f": SMS ack p99 {number(sms['ack_p99_ms'])}")


def arguments() -> argparse.Namespace:
    """The command line (with the fields bench.e2e's load reads)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_role_options(parser)
    parser.add_argument("--rate", type=float, default=200.0, help="SMS webhooks per second")
    parser.add_argument("--customers", type=int, default=500, help="distinct SMS senders")
    parser.add_argument("--visitors", type=int, default=64, help="concurrent web chat visitors")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not counted")
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window")
    parser.add_argument("--concurrency", type=int, default=None, help="PROCESSING_CONCURRENCY")
    parser.add_argument("--encoder-seconds", type=float, default=0.0, help="PyTorch encoder run")
    parser.add_argument("--connections", type=int, default=256, help="HTTP pool for webhooks")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="the ack p99 target")
    parser.add_argument("--reply-timeout", type=float, default=120.0, help="SMS replies wait")
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="reuse DIR/cache")
    parser.add_argument("--log", type=Path, default=None, help="the service's log file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    args.workers = 1  # bench.e2e's load reads it: one service, its /metrics scraped
    if not (0 < args.visitors <= 500 and 0 < args.seconds <= 600 and args.rate > 0):
        parser.error("need 0 < visitors <= 500, 0 < seconds <= 600 and rate > 0")
    return args


def main() -> None:
    """Parse the arguments, run both loads, print the results."""
    args = arguments()
    started = time.monotonic()
    result = rounded(
        run_served("combined", args.data_dir / "cache", args.log, lambda *d: run(args, *d))
    )
    result["bench_seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    raise SystemExit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
