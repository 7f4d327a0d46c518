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
The pieces: ``bench/sms_webhooks.py`` (the signed webhooks and the open-loop sending),
``bench/sms_replies.py`` (counting the replies at the fake), ``bench/sms_figures.py`` (the
result object and table). Exit status: 0 when the ack p99 meets ``--p99-ms`` with no error and
every reply sent once, 1 when not, 2 when the service could not be started.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bench.process_cpu import cpu_seconds, rss_by_role
from bench.service import add_role_options, launch, role_options, run_served, serve_env, sms_env
from bench.sms_figures import Measured, figures, print_table
from bench.sms_replies import inbound_counts, wait_for_replies
from bench.sms_webhooks import REQUEST_TIMEOUT_S, WARMUP_MESSAGES, Webhook, plan, send_open_loop
from bot.storage.embedded import free_port
from connectors.sms.connector import WEBHOOK_PATH
from tests.support.serve_process import ServeProcess
from tests.support.twilio_fake import FakeTwilio

WARMUP_RATE = 20.0  # webhooks a second for the untimed first requests


async def start_service(
    fake: FakeTwilio, workdir: Path, data: Path, log: Path, options: Sequence[str] = ()
) -> ServeProcess:
    """``omnibot serve`` (with ``options``) on a free port with SMS against ``fake``, healthy
    (or :class:`ServeError`); the service's own log level and processing concurrency."""
    env = serve_env(data, free_port(), None, log_level=None)
    env.update(sms_env(fake.url))
    return await launch(workdir, env, log, options)


def cpu_delta(after: float | None, before: float | None) -> float:
    """CPU seconds between two ``cpu_seconds`` readings, NaN when either failed."""
    return after - before if before is not None and after is not None else math.nan


async def measure(
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    process: ServeProcess,
    fake: FakeTwilio,
    hooks: Sequence[Webhook],
) -> Measured:
    """Warm up (untimed), post ``hooks`` open loop, wait for the replies; the raw numbers."""
    url = process.base + WEBHOOK_PATH
    warmup = plan(WARMUP_MESSAGES, WARMUP_MESSAGES, 0.0, args.seed + 1, prefix="+1556")
    await send_open_loop(session, url, warmup, WARMUP_RATE)  # first-request costs
    await wait_for_replies(fake, 0, len(warmup), args.reply_timeout)
    baseline = len(fake.calls)
    cpu_before, own_before = cpu_seconds(process.pid), time.process_time()
    acks = await send_open_loop(session, url, hooks, args.rate)
    cpu_after, own_after = cpu_seconds(process.pid), time.process_time()
    originals = sum(not hook.retry for hook in hooks)
    await wait_for_replies(fake, baseline, originals, args.reply_timeout)
    calls = fake.calls[baseline:]
    counts = await inbound_counts(session, process.base)
    rss = rss_by_role(process.pid)
    return Measured(
        acks, calls, counts, rss, cpu_delta(cpu_after, cpu_before), own_after - own_before
    )


async def run(args: argparse.Namespace, workdir: Path, data: Path, log: Path) -> dict[str, Any]:
    """Start everything, post the load, collect the numbers."""
    hooks = plan(round(args.rate * args.seconds), args.customers, args.duplicates, args.seed)
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with (
        FakeTwilio() as fake,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
    ):
        process = await start_service(fake, workdir, data, log, role_options(args))
        try:
            measured = await measure(args, session, process, fake, hooks)
        finally:
            await process.stopped()
    return figures(args, hooks, measured)


def option_parser() -> argparse.ArgumentParser:
    """The command line's options."""
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
    return parser


def arguments() -> argparse.Namespace:
    """The command line, checked."""
    options = option_parser()
    args = options.parse_args()
    if not (
        args.rate > 0
        and 0 < args.seconds <= 600
        and args.customers > 0
        and 0 <= args.duplicates < 1
        and args.rate * args.seconds <= 200_000
    ):
        options.error(
            "need rate > 0, 0 < seconds <= 600, customers > 0, 0 <= duplicates < 1 "
            "and at most 200,000 webhooks"
        )
    return args


def main() -> None:
    """Parse the arguments, run the benchmark, print the results, exit 0 (pass) or 1."""
    args = arguments()
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
