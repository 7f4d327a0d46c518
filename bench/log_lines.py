"""What a log line costs in each ``LOG_FORMAT``: the service's handler (request and
conversation ids, phone and token masking) formatting an INFO line into memory.

    python -m bench.log_lines [--lines 50000] [--rounds 5]

Prints the median over ``--rounds`` of the microseconds a line takes, per format, and the
JSON line itself. A few tens of microseconds a line, against milliseconds a message spends
in classification, is why the format is a matter of taste, not of speed.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import time
from collections.abc import Sequence

from bot.pipeline.log_context import conversation, request
from omnibot.logs import FORMAT, LOG_FORMATS, prepare_handler

CID = "300a581513194f629141f17450b04fb8"  # a conversation id as the store makes them
RID = "edge-7f3a"


def logger_for(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    """A logger writing through the service's handler set up for ``fmt``, into memory."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    prepare_handler(handler, fmt)
    log = logging.getLogger(f"bench.log_lines.{fmt}")
    log.propagate = False
    log.handlers = [handler]
    log.setLevel(logging.INFO)
    return log, stream


def microseconds_a_line(log: logging.Logger, lines: int) -> float:
    """Log ``lines`` INFO lines as the dispatcher does; the mean time a line."""
    with request(RID), conversation(CID):
        start = time.perf_counter()
        for _ in range(lines):
            log.info("conversation %s: %s message %s", CID, "sms", "accepted")
        return (time.perf_counter() - start) / lines * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    """Measure each format; print the medians and one line of each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    for fmt in LOG_FORMATS:
        log, stream = logger_for(fmt)
        rounds = [microseconds_a_line(log, args.lines) for _ in range(args.rounds)]
        line = stream.getvalue().splitlines()[0]
        print(f"{fmt}: {statistics.median(rounds):.1f} us a line (median of {args.rounds})")
        print(f"  {line}")


if __name__ == "__main__":
    main()
