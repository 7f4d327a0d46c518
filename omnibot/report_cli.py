"""``omnibot report``: is the bot helping? The conversations of a period and what became of them.

``--since 7d`` (or ``24h``, ``90m``, or an ISO-8601 time) sets the period's start, ``--as-of``
its end (default: now); ``--json`` prints the report as one JSON object, ``--html FILE`` also
writes it with its charts as one self-contained page. The definitions are
:mod:`bot.insight.episodes`' and :mod:`bot.insight.report`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.insight.report import Counts, Report
from bot.insight.report_source import Period, ReportSource
from omnibot.settings import Settings

DEFAULT_SINCE = "7d"
UNIT_S = {"d": 86400, "h": 3600, "m": 60}
DURATION = re.compile(r"(\d+)([dhm])\Z")
NONE_TEXT = "-"  # a figure with nothing to measure
SINCE_HELP = "the period's start: a duration back from --as-of (7d, 24h, 90m) or an ISO-8601 time"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``report`` command."""
    report = commands.add_parser(
        "report", help="is the bot helping: containment, response times, CSAT, per channel"
    )
    report.add_argument("--since", default=DEFAULT_SINCE, help=SINCE_HELP)
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML page")
    report.add_argument(
        "--as-of", type=instant, metavar="ISO", help="the period's end (default: now)"
    )


def instant(text: str) -> float:
    """An ISO-8601 time as unix seconds (UTC when it names no zone)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def period_start(since: str, until: float) -> float:
    """``--since``'s start: ``until`` less a duration, or an ISO-8601 time."""
    match = DURATION.match(since.strip())
    if match:
        return until - int(match[1]) * UNIT_S[match[2]]
    try:
        return instant(since)
    except argparse.ArgumentTypeError:
        raise ReportCommandError(f"--since: {SINCE_HELP}, not {since!r}") from None


class ReportCommandError(Exception):
    """A ``report`` command that cannot run (a period it cannot read)."""


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Print the report (and write its page with ``--html``)."""
    until = args.as_of if args.as_of is not None else time.time()
    try:
        since = period_start(args.since, until)
    except ReportCommandError as error:
        print(f"omnibot: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    period = asyncio.run(_read(settings, since, until))
    report = period.report()
    print(json.dumps(report) if args.json else "\n".join(describe(report)))
    if args.html is not None:
        from omnibot.report_html import write_html  # matplotlib only for the page

        print(f"wrote {write_html(args.html, report, period.episodes())}", file=sys.stderr)


async def _read(settings: Settings, since: float, until: float) -> Period:
    # omnibot.cli adds this module's command: imported here, not at its import
    from omnibot.cli import cli_redis

    async with cli_redis(settings) as client:
        return await ReportSource(client, settings.retention_days).period(since, until)


def _time(seconds: float | None) -> str:
    if seconds is None:
        return NONE_TEXT
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {rest:02d}s"


def _rate(rate: float | None) -> str:
    return NONE_TEXT if rate is None else f"{rate * 100:.1f} %"


def _csat(average: float | None) -> str:
    return NONE_TEXT if average is None else f"{average:.2f}"


def _line(name: str, counts: Counts) -> str:
    return (
        f"  {name:<16} {counts['conversations']:>5} conversations, "
        f"{_rate(counts['containment_rate'])} contained, {counts['escalated']} escalated, "
        f"first response p50 {_time(counts['first_response_p50_s'])}, "
        f"CSAT {_csat(counts['csat_average'])} ({counts['csat_responses']})"
    )


def describe(report: Report) -> list[str]:
    """The report as lines of text."""
    start, end = (datetime.fromtimestamp(report[k], UTC) for k in ("since", "until"))
    lines = [
        f"conversations started {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
        f"conversations     {report['conversations']} ({report['open']} still open)",
        f"contained         {report['contained']}",
        f"escalated         {report['escalated']}",
        f"abandoned         {report['abandoned']}",
        f"containment rate  {_rate(report['containment_rate'])}",
        f"first response    p50 {_time(report['first_response_p50_s'])}, "
        f"p90 {_time(report['first_response_p90_s'])}",
        f"resolution        p50 {_time(report['resolution_p50_s'])}, "
        f"p90 {_time(report['resolution_p90_s'])}",
        f"CSAT              {_csat(report['csat_average'])} ({report['csat_responses']} answers)",
        f"waiting now       {report['queue_length']}, longest {_time(report['longest_wait_s'])}",
    ]
    groups = (
        ("channel", report["by_channel"]),
        ("intent", report["by_intent"]),
        ("article", report["by_article"]),
    )
    for title, group in groups:
        if group:
            lines += [f"by {title}:", *(_line(name, c) for name, c in group.items())]
    if report["low_confidence"]:
        lines += ["escalated because the bot was unsure:"]
    lines += [
        f"  {entry['intent']} ({entry['count']}): " + " | ".join(entry["examples"])
        for entry in report["low_confidence"]
    ]
    return lines
