"""The chaos suite's command line: ``python -m bench.chaos [options]`` (``--help``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import bench.chaos
from bench.chaos.model import Options, SetupError
from bench.chaos.report import log_summary, log_tail, print_table
from bench.chaos.suite import run_suite
from bench.service import prepare_data_dir
from bench.stats import rounded

HELP = {  # option -> its help text (the defaults are Options')
    "conversations": "customers in all",
    "messages": "questions each customer asks",
    "sms_share": "share of the customers writing by SMS",
    "concurrency": "conversations going on at once",
    "servers": "omnibot serve processes (with --split: front processes)",
    "split": "run the service as front and answer processes (--role front / answer)",
    "answerers": "with --split: answer processes",
    "processing_concurrency": "their PROCESSING_CONCURRENCY",
    "kill_at": "SIGKILL a serve process at this share answered (0: never)",
    "restart_after": "seconds until it starts again (negative: never)",
    "redis_at": "SIGKILL redis-server at this share answered (0: never)",
    "redis_down": "seconds until redis-server starts again",
    "vendor_at": "the fake Twilio fails from this share answered (0: never)",
    "vendor_outage": "seconds the fake Twilio fails",
    "answer_kill_at": "with --split: SIGKILL an answer process at this share (0: never)",
    "answers_down_at": "with --split: SIGKILL every answer process at this share (0: never)",
    "answers_down": "seconds until they start again",
    "stall": "web chat: reconnect after this long without an answer",
    "give_up": "seconds a question may take before its conversation stops",
    "settle": "seconds to wait for Redis to finish after the load",
    "max_recovery": "the slowest recovery allowed (seconds)",
    "data_dir": "reuse DIR/cache (built when missing)",
    "workdir": "keep Redis's data and the logs here (default: a temp dir)",
    "seed": "the questions' shuffle",
}
TYPES = {"workdir": Path}  # an optional path: not inferable from its default, None


def parser() -> argparse.ArgumentParser:
    """The command line, one option per field of :class:`Options`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description=bench.chaos.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in fields(Options):
        flag = "--" + option.name.replace("_", "-")
        if option.name == "json":
            parser.add_argument(flag, action="store_true", help="print one JSON object")
            continue
        if option.default is False:
            parser.add_argument(flag, action="store_true", help=HELP[option.name])
            continue
        kind = TYPES.get(option.name, type(option.default))
        parser.add_argument(flag, type=kind, default=option.default, help=HELP[option.name])
    return parser


def arguments(argv: list[str] | None = None) -> Options:
    """The options of the command line (``argv``: ``sys.argv[1:]`` by default), checked."""
    parsing = parser()
    options = Options(**vars(parsing.parse_args(argv)))
    if not (0 < options.conversations <= 100_000 and 0 < options.messages <= 100):
        parsing.error("need 0 < conversations <= 100000 and 0 < messages <= 100")
    if not (0 <= options.sms_share <= 1 and options.concurrency > 0 and options.servers >= 2):
        parsing.error("need 0 <= sms-share <= 1, concurrency > 0 and servers >= 2")
    shares = [options.kill_at, options.redis_at, options.vendor_at]
    if options.split:
        shares += [options.answer_kill_at, options.answers_down_at]
    if not all(0 <= share < 1 for share in shares):
        parsing.error("--kill-at, --redis-at, --vendor-at, ... are shares: 0 (off) to below 1")
    switched_on = [share for share in shares if share > 0]
    if len(set(switched_on)) < len(switched_on):
        parsing.error("two events at the same share: each waits for the one before it")
    if options.split and not (options.answerers >= 1 and options.answers_down > 0):
        parsing.error("--split needs --answerers >= 1 and --answers-down > 0")
    if options.workdir is not None and (options.workdir / "data").exists():
        parsing.error(f"{options.workdir} was used before; give an empty or new directory")
    return options


def run_in(options: Options, workdir: Path) -> int:
    """Run the suite in ``workdir``, print the results; the exit status."""
    data = prepare_data_dir(workdir, options.data_dir / "cache")
    try:
        result = asyncio.run(run_suite(options, workdir, data))
    except SetupError as error:
        print(f"chaos: {error}\n{log_tail(workdir)}", file=sys.stderr)
        return 2
    result.server_log = log_summary(workdir)
    if options.json:
        print(json.dumps(rounded(result.to_json())))
    else:
        print_table(result)
    return 0 if result.passed else 1


def main() -> None:
    """Parse the arguments, run the suite, exit 0 (pass), 1 (fail) or 2 (no start)."""
    options = arguments()
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
        raise SystemExit(run_in(options, options.workdir.resolve()))
    with tempfile.TemporaryDirectory(prefix="omnibot-chaos-") as tmp:
        code = run_in(options, Path(tmp))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
