"""The benches' ``omnibot serve``: its environment, a fresh data directory, starting it healthy.

Each bench starts the checkout it belongs to (``PYTHONPATH``), from a work directory (so no
``.env`` of the caller's changes the settings), with the launcher the tests use
(``tests.support.serve_process``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from tests.support.serve_process import ServeError, ServeProcess
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

REPO = Path(__file__).resolve().parents[1]
PUBLIC_URL = "https://bench.example.com"
SHOP_NUMBER = "+15550000100"
LOG_TAIL_LINES = 30  # of the service's log, after a failed run
ROLES = ("auto", "all")  # what the benches compare: serve's default split, or one process

T = TypeVar("T")
Run = Callable[[Path, Path, Path], Coroutine[Any, Any, T]]
"""A bench's run: ``(work directory, data directory, log file)`` to its result."""


def prepare_data_dir(workdir: Path, cache: Path | None) -> Path:
    """A fresh data directory in ``workdir``, its ``cache`` linked to ``cache`` if given."""
    data = workdir / "data"
    data.mkdir()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (data / "cache").symlink_to(cache.resolve(), target_is_directory=True)
    return data


def serve_env(
    data: Path, port: int, concurrency: int | None, log_level: str | None = "WARNING"
) -> dict[str, str]:
    """The service's environment: no REDIS_URL (the embedded server starts), no vendors, the
    rate limits out of the way; ``log_level`` None keeps the caller's."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("REDIS_", "OMNIBOT_", "TWILIO_", "SLACK_"))
        and name not in {"PROCESSING_CONCURRENCY", "INTENTS_PATH", "PUBLIC_URL", "FINE_TUNE"}
    }
    env.update(
        OMNIBOT_DATA_DIR=str(data),
        HOST="127.0.0.1",
        PORT=str(port),
        HF_HUB_OFFLINE="1",
        # one load generator on one address, each customer faster than any person types
        MESSAGES_PER_MINUTE="100000",
        SESSIONS_PER_MINUTE="100000",
        SOCKETS_PER_ADDRESS="100000",  # every simulated visitor connects from 127.0.0.1
        FINE_TUNE="off",  # no background tuning competing with the load for the cores
    )
    if log_level is not None:
        env["LOG_LEVEL"] = log_level
    if concurrency is not None:
        env["PROCESSING_CONCURRENCY"] = str(concurrency)
    # serve the checkout this script belongs to, whatever the installed omnibot points at
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    return env


def sms_env(api_url: str) -> dict[str, str]:
    """Settings that switch SMS on against a fake Twilio API at ``api_url``."""
    return {
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": SHOP_NUMBER,
        "TWILIO_API_URL": api_url,
    }


async def launch(
    workdir: Path, env: dict[str, str], log: Path, options: Sequence[str] = ()
) -> ServeProcess:
    """``omnibot serve`` with ``env`` (its ``PORT``) in ``workdir``, its output appended to
    ``log``, healthy; :class:`ServeError` (the process stopped) when it exits or stalls."""
    process = ServeProcess(env, workdir, log, options=options)
    try:
        await process.wait_healthy()
        # a split's front is healthy before its answer process has loaded the model
        async with aiohttp.ClientSession() as session:
            await process.wait_for(lambda: _answering(session, process.base), "an answerer")
    except ServeError:
        await process.stopped()
        raise
    return process


async def _answering(session: aiohttp.ClientSession, base: str) -> bool:
    """Whether the service's ``/healthz`` says an answer process is up."""
    try:
        async with session.get(f"{base}/healthz") as response:
            return bool((await response.json()).get("answering") == "up")
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False


def add_role_options(parser: argparse.ArgumentParser) -> None:
    """``--role auto|all`` (``omnibot serve``'s default split, or everything in one process)
    and ``--split``, the older name of ``--role auto`` (the default now)."""
    parser.add_argument(
        "--role",
        choices=ROLES,
        default="auto",
        help="serve --role: auto (the default: front and answer processes) or all (one process)",
    )
    parser.add_argument(
        "--split", action="store_true", help="the same as --role auto (kept for old commands)"
    )


def role_options(args: argparse.Namespace) -> list[str]:
    """The ``omnibot serve`` options of ``args``' role."""
    return ["--role", "auto" if args.split else args.role]


def failure_text(error: BaseException, log: Path) -> str:
    """What a bench prints when its run failed: the error, and the end of the service's log
    unless the error already carries it."""
    if isinstance(error, ServeError):
        return str(error)
    tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return f"{error}\n" + "\n".join(tail)


def run_served(name: str, cache: Path | None, log: Path | None, run: Run[T]) -> T:
    """``run`` in a fresh work directory, with a fresh data directory (its cache linked to
    ``cache``) and a fresh log (``log``, else one in the work directory); a run that fails
    prints why with the end of the service's log and exits 2."""
    with tempfile.TemporaryDirectory(prefix=f"omnibot-{name}-") as tmp:
        workdir = Path(tmp)
        data = prepare_data_dir(workdir, cache)
        log_path = log or workdir / "serve.log"
        log_path.write_bytes(b"")  # a fresh log (the launcher appends)
        try:
            return asyncio.run(run(workdir, data, log_path))
        except RuntimeError as error:
            print(f"{name}: {failure_text(error, log_path)}", file=sys.stderr)
            raise SystemExit(2) from None
