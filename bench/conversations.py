"""The conversation suite as a bench: the share of customer turns right, per pattern.

    python -m bench.conversations [--checkout DIR] [--concurrency 4] [--data-dir var]
                                  [--verbose] [--json]

Starts ``omnibot serve`` from the checkout ``DIR`` (default: this one; its code on
``PYTHONPATH``, run in ``DIR``, this venv's Python; an embedded Redis on a fresh data
directory, the rate limits lifted, the agent console on a bench token), plays every scripted
conversation of ``tests/scenarios/conversations/`` (this checkout's) as a fresh web chat
visitor, desk steps through the agent console's WebSocket, and judges each customer turn from
what the customer sees, against the texts of the checkout under test (its catalogue, its
``bot.texts``). So one script measures any commit, before and after a change.

Printed: per pattern, conversations, turns and the share of turns right, and the overall
share; ``--verbose`` adds every wrong turn (said / expected / got / why). ``--data-dir DIR``
reuses ``DIR/cache`` (the exported encoder and trained model). Exit status: 0 when the run
completed, 2 when the service could not be started.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.service import REPO, launch, run_served, serve_env
from bot.storage.embedded import free_port
from tests.support.conversation_runner import Played, play_all, report
from tests.support.conversations import load_conversations, load_reference

CONSOLE_TOKEN = "bench-conversations-console-token-0123456789"  # noqa: S105 - a local bench
OVERALL = "overall"


def commit_of(checkout: Path) -> str:
    """The short commit the checkout is at (with ``+`` when its tracked files changed)."""
    head = _git(checkout, "rev-parse", "--short", "HEAD")
    return head + ("+" if _git(checkout, "status", "--porcelain", "-uno") else "")


def _git(checkout: Path, *arguments: str) -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    done = subprocess.run(  # noqa: S603 - git with our own arguments
        [git, "-C", str(checkout), *arguments], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def tally(played: list[Played]) -> dict[str, dict[str, Any]]:
    """Per pattern (and ``overall``): conversations, turns, turns right, their share."""
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"conversations": 0, "turns": 0, "right": 0}
    )
    for result in played:
        for name in (result.conversation.pattern, OVERALL):
            rows[name]["conversations"] += 1
            rows[name]["turns"] += len(result.turns)
            rows[name]["right"] += result.right
    for row in rows.values():
        row["share"] = round(100 * row["right"] / row["turns"], 1) if row["turns"] else 0.0
    return dict(sorted(rows.items(), key=lambda item: (item[0] == OVERALL, item[0])))


async def run(args: argparse.Namespace, workdir: Path, data: Path, log: Path) -> list[Played]:
    """Serve the checkout, play every conversation, stop it."""
    checkout: Path = args.checkout.resolve()
    env = serve_env(data, free_port(), None)
    env["PYTHONPATH"] = str(checkout)  # the checkout's code, not this one's
    env["AGENT_CONSOLE_TOKEN"] = CONSOLE_TOKEN
    reference = load_reference(checkout)
    process = await launch(checkout, env, log)
    try:
        return await play_all(
            process.base, load_conversations(), reference, CONSOLE_TOKEN, args.concurrency
        )
    finally:
        await process.stopped()


def print_table(commit: str, rows: dict[str, dict[str, Any]]) -> None:
    """The per-pattern table, plain text."""
    print(f"commit {commit}")
    print(f"{'pattern':<12} {'conversations':>13} {'turns':>6} {'right':>6} {'share':>7}")
    for name, row in rows.items():
        print(
            f"{name:<12} {row['conversations']:>13} {row['turns']:>6} {row['right']:>6} "
            f"{row['share']:>6.1f}%"
        )


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkout", type=Path, default=REPO, help="the checkout to serve")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations at a time")
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var"), help="reuse DIR/cache (built when missing)"
    )
    parser.add_argument("--log", type=Path, default=None, help="the service's log file")
    parser.add_argument("--verbose", action="store_true", help="print every wrong turn")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 0 < args.concurrency <= 64:
        parser.error("need 0 < concurrency <= 64")
    return args


def main() -> None:
    """Parse the arguments, run the suite, print the table."""
    args = arguments()
    cache = args.data_dir.resolve() / "cache"
    played = run_served("conversations", cache, args.log, lambda *dirs: run(args, *dirs))
    commit, rows = commit_of(args.checkout), tally(played)
    wrong = [report(result) for result in played if result.right < len(result.turns)]
    if args.json:
        print(json.dumps({"commit": commit, "patterns": rows, "wrong": wrong}))
        return
    print_table(commit, rows)
    if args.verbose:
        print("\n" + "\n\n".join(wrong))


if __name__ == "__main__":
    main()
