"""A real rasa-sdk action server (``python -m rasa_sdk``) for tests, on a free local port."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bot.storage.embedded import free_port

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10  # for Sanic's graceful stop; then it is killed (a busy machine is slow)


@contextlib.contextmanager
def action_server(actions: str, log: Path, cwd: Path | None = None) -> Iterator[str]:
    """Serve the ``actions`` package (importable from ``cwd``); its webhook URL."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - rasa-sdk's own server module
            [sys.executable, "-m", "rasa_sdk", "--actions", actions, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "action server did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
