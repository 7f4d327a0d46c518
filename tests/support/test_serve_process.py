"""The serve launcher's readiness wait follows progress: a slow start that keeps working is
waited for, a silent stuck one fails early with its log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import serve_process
from tests.support.serve_process import ServeError, Server

# Logs a line a tenth of a second for 2 s (a first start's training), then answers /healthz.
SLOW_START = """
import http.server, os, pathlib, time
for step in range(20):
    print("training step", step, flush=True)
    time.sleep(0.1)
(pathlib.Path("redis")).mkdir(exist_ok=True)
pathlib.Path("redis/port").write_text("6379")

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Health).serve_forever()
"""
STUCK = "import time; print('loading', flush=True); time.sleep(60)"


async def test_a_start_slower_than_the_stall_limit_is_waited_for_while_it_progresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_process, "STALL_S", 1.0)  # shorter than the whole start
    server = Server(tmp_path, command=[sys.executable, "-c", SLOW_START])
    try:
        assert await server.wait_healthy() > 1.5
    finally:
        server.stop()


async def test_a_stuck_start_fails_after_the_stall_limit_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_process, "STALL_S", 1.0)
    server = Server(tmp_path, command=[sys.executable, "-c", STUCK])
    try:
        with pytest.raises(ServeError, match=r"no progress for \d+ s.*\n.*loading"):
            await server.wait_healthy()
    finally:
        server.stop()


async def test_a_start_that_exits_fails_at_once_with_its_status_and_log(tmp_path: Path) -> None:
    server = Server(tmp_path, command=[sys.executable, "-c", "print('bad INTENTS_PATH'); exit(3)"])
    with pytest.raises(ServeError, match=r"exited with status 3; its log:\n.*bad INTENTS_PATH"):
        await server.wait_healthy()
    assert server.stop() == 3


async def test_wait_for_waits_on_any_condition_while_the_process_progresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_process, "STALL_S", 1.0)
    server = Server(tmp_path, command=[sys.executable, "-c", SLOW_START])
    try:

        async def logged_ten_steps() -> bool:
            return "training step 9" in server.log.read_text()

        assert await server.wait_for(logged_ten_steps, "ten training steps") > 0.5
    finally:
        server.stop()
