"""Fine-tuning the encoder in the background while the frozen model serves (``FINE_TUNE``).

With ``FINE_TUNE=background`` and the tuned model not cached yet, one process of the
deployment (the holder of a Redis lock, renewed while it works) runs ``omnibot train
--fine-tune`` as a child process at the lowest CPU priority and logs its progress lines. Every
process, the tuner and the others, watches for the tuned model in the shared cache and swaps it
in (:class:`~omnibot.swap.SwappableIntents`) once it is there. A tuning that fails leaves the
frozen model serving; the failure is kept in Redis for :data:`FAILED_TTL_S`, so neither the
other processes nor a restart try again and again, and ``/healthz`` says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import redis.asyncio as redis

from bot import background
from bot.storage.keys import tuning_key
from bot.storage.scripts import EXTEND, RELEASE
from intents.build import cache_key
from intents.rasa_project import load_intents
from intents.tuned_model import tuned_ready
from omnibot.engine import Intents, build_intents, build_options
from omnibot.settings import Settings
from omnibot.swap import SwappableIntents

LOCK_TTL_S = 60.0  # a tuner that died without releasing holds the lock this long
POLL_S = 5.0  # how often the others look for the tuned model (and for a dead tuner)
FAILED_TTL_S = 3600.0  # a failure is believed this long before a process tries again
STOP_WITHIN_S = 10.0  # the tuner's child gets this long after SIGTERM, then SIGKILL
PROGRESS_EVERY_S = 15.0  # a progress bar's redraws are logged at most this often
LOWEST_PRIORITY = 19  # nice value: the tuning only takes CPU the service does not use
TAIL_CHARS = 300  # of the last error line, in the log and /healthz
ERROR_LINE = re.compile(r"error|exception|killed", re.IGNORECASE)
LINE = re.compile(r"([^\r\n]*)([\r\n])")  # a line and how it ends ("\r": a redraw)
# The settings that decide where the child's model lands and what it is: passed explicitly,
# so the child builds what this process looks for even when its settings came from a caller.
MODEL_SETTINGS = {
    "OMNIBOT_DATA_DIR": "data_dir",
    "INTENTS_PATH": "intents_path",
    "ENCODER": "encoder",
    "TARGET_PRECISION": "target_precision",
    "UNKNOWN_ESCALATION_TARGET": "unknown_escalation_target",
}

log = logging.getLogger("omnibot")


class TuningJob:
    """Tunes (when it wins the lock) or waits for another process's tuning, then swaps the
    tuned intents in. ``status`` is what ``/healthz`` reports."""

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        swap: SwappableIntents,
        *,
        command: Sequence[str],
        ready: Callable[[], bool],
        reload: Callable[[], Intents],
        env: Mapping[str, str] | None = None,
        poll_s: float = POLL_S,
        lock_ttl_s: float = LOCK_TTL_S,
    ) -> None:
        """``ready`` (blocking) says whether the tuned model is cached; ``reload`` (blocking)
        builds the intents over it; ``command`` tunes it."""
        self._redis = client
        self._lock_key = tuning_key(name)
        self._failed_key = tuning_key(name, "failed")
        self._swap = swap
        self._command = list(command)
        self._ready = ready
        self._reload = reload
        self._env = dict(os.environ if env is None else env)
        self._poll_s = poll_s
        self._lock_ttl_ms = int(lock_ttl_s * 1000)
        self._token = secrets.token_hex(12)
        self._release = client.register_script(RELEASE)
        self._extend = client.register_script(EXTEND)
        self._task: asyncio.Task[None] | None = None
        self._child: asyncio.subprocess.Process | None = None
        self._stopping = False  # a child ended by our stop() has not failed
        self.status = "waiting"

    async def start(self) -> None:
        """Begin watching (and tuning, when this process takes the lock)."""
        self._task = asyncio.create_task(self._run(), name="tuning job")

    async def stop(self) -> None:
        """Stop the tuning child, if this process runs one, and release the lock (another
        process takes the tuning over)."""
        self._stopping = True
        await self._end_child()
        await background.stop(self._task, STOP_WITHIN_S + 2)
        with contextlib.suppress(redis.RedisError, OSError):
            await self._release([self._lock_key], [self._token])

    async def _run(self) -> None:
        while True:
            if await self._step():
                return
            await asyncio.sleep(self._poll_s)

    async def _step(self) -> bool:
        """One look: True once there is nothing more to do (swapped in, or failed)."""
        try:
            if await asyncio.to_thread(self._ready):
                return await self._swap_in()
            failure = await self._redis.get(self._failed_key)
            if failure is not None:
                self._fail(_text(failure))
                return True
            if await self._redis.set(self._lock_key, self._token, nx=True, px=self._lock_ttl_ms):
                return await self._tune()
        except background.TRANSIENT_ERRORS as exc:
            log.warning("fine-tuning: Redis is unavailable (%s); looking again soon", exc)
        self.status = "waiting"
        return False

    async def _swap_in(self) -> bool:
        try:
            intents = await asyncio.to_thread(self._reload)
        except Exception as exc:  # a broken cache entry must not end the service
            log.exception("fine-tuning: the tuned model did not load")
            self._fail(f"the tuned model did not load: {exc}")
            return True
        self._swap.swap(intents)
        self.status = "done"
        return True

    async def _tune(self) -> bool:
        """Run the tuning command (holding the lock); True when it failed (nothing left)."""
        self.status = "running"
        log.info("fine-tuning the encoder in the background: %s", " ".join(self._command))
        renewal = background.periodic(
            self._renew, self._lock_ttl_ms / 3000, "tuning lock renewal", first_wait=True
        )
        try:
            failure = await self._run_child()
            if failure is None and not await asyncio.to_thread(self._ready):
                failure = "the tuning command ended but the tuned model is not in the cache"
        finally:
            await background.stop(renewal)
            with contextlib.suppress(redis.RedisError, OSError):
                await self._release([self._lock_key], [self._token])
        if failure is None:
            return False  # the next step swaps it in
        if self._stopping:
            return True
        with contextlib.suppress(redis.RedisError, OSError):
            await self._redis.set(self._failed_key, failure, px=int(FAILED_TTL_S * 1000))
        self._fail(failure)
        return True

    async def _renew(self) -> None:
        if not await self._extend([self._lock_key], [self._token, self._lock_ttl_ms]):
            log.warning("fine-tuning: the tuning lock was lost; another process may tune too")

    async def _run_child(self) -> str | None:
        """Run the command to its end; None when it succeeded, else why it failed."""
        start = time.monotonic()
        try:
            child = await asyncio.create_subprocess_exec(
                *self._command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=self._env,
            )
        except OSError as exc:  # not a transient error: trying again would fail the same way
            return f"cannot start {self._command[0]}: {exc}"
        self._child = child
        with contextlib.suppress(OSError):  # the child may be gone already
            os.setpriority(os.PRIO_PROCESS, child.pid, LOWEST_PRIORITY)
        assert child.stdout is not None
        last_error = await forward_output(child.stdout)
        code = await child.wait()
        self._child = None
        if code == 0:
            log.info("fine-tuning finished in %.0f s", time.monotonic() - start)
            return None
        how = f"exit {code}" if code > 0 else f"killed by signal {-code}"
        return f"{how}: {last_error}" if last_error else how

    async def _end_child(self) -> None:
        child = self._child
        if child is None or child.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), STOP_WITHIN_S)
            except TimeoutError:
                child.kill()
                await child.wait()

    def _fail(self, why: str) -> None:
        if not self.status.startswith("failed"):
            log.error("fine-tuning failed (the frozen model keeps serving): %s", why)
        self.status = f"failed: {why}"


async def forward_output(stream: asyncio.StreamReader) -> str:
    """Log the child's lines at INFO until it closes its output (a progress bar's redraws,
    ended by a carriage return, at most every :data:`PROGRESS_EVERY_S`); returns the last
    error line, else the last line."""
    pending, last, last_error, logged_at = "", "", "", -PROGRESS_EVERY_S
    while chunk := await stream.read(4096):
        pending += chunk.decode(errors="replace")
        cut = max(pending.rfind("\r"), pending.rfind("\n")) + 1
        lines, pending = pending[:cut], pending[cut:]
        for line, end in LINE.findall(lines):
            line = line.strip()
            if not line:
                continue
            now = time.monotonic()
            if end == "\n" or now - logged_at >= PROGRESS_EVERY_S:
                log.info("fine-tuning: %s", line)
                logged_at = now
            last = line
            last_error = line if ERROR_LINE.search(line) else last_error
    if pending.strip():
        log.info("fine-tuning: %s", pending.strip())
        last = pending.strip()
    return (last_error or last)[-TAIL_CHARS:]


def tuning_command() -> list[str]:
    """``omnibot train --fine-tune`` with this interpreter, ending when this process ends."""
    return [sys.executable, "-m", "omnibot", "train", "--fine-tune", "--parent", str(os.getpid())]


def background_tuning(
    settings: Settings, client: redis.Redis, swap: SwappableIntents
) -> TuningJob | None:
    """The job tuning this catalogue's encoder, when ``FINE_TUNE=background`` and the model
    serving is not the tuned one yet; None otherwise."""
    if settings.fine_tune != "background" or swap.model_name.startswith("tuned"):
        return None
    texts, labels = load_intents(settings.intents_path)[0].training_data()
    options = build_options(settings)
    return TuningJob(
        client,
        cache_key(texts, labels, options),
        swap,
        command=tuning_command(),
        ready=lambda: tuned_ready(texts, labels, settings.cache_dir, options),
        reload=lambda: build_intents(settings),
        env=child_env(settings),
    )


def child_env(settings: Settings) -> dict[str, str]:
    """This process's environment with the settings that shape the tuned model; the child logs
    plain text lines, which this process logs again as its own (in its own format)."""
    env = dict(os.environ, LOG_LEVEL="INFO", FINE_TUNE="background", LOG_FORMAT="text")
    for variable, name in MODEL_SETTINGS.items():
        env[variable] = str(getattr(settings, name))
    return env


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
