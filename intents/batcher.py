"""Micro-batching: concurrent requests share one call of a blocking batch function.

Nothing waits on a timer: a request that finds a worker idle runs at once, and requests that
arrive while the workers are busy are gathered into the next batch. This keeps a single
message's latency low and lets throughput grow with load.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")


class MicroBatcher(Generic[T]):
    """Feeds texts to ``run`` in batches of at most ``max_batch`` on ``workers`` threads."""

    def __init__(
        self, run: Callable[[list[str]], Sequence[T]], max_batch: int = 32, workers: int = 2
    ) -> None:
        self._run = run
        self._max_batch = max_batch
        self._workers = workers
        self._queue: deque[tuple[str, asyncio.Future[T]]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="intents")

    async def submit(self, text: str) -> T:
        """The result of ``run`` for ``text``, computed in a batch with concurrent requests."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((text, future))
        # Prune here rather than in a done-callback: a callback never runs if its loop closed.
        self._tasks = {task for task in self._tasks if not task.done()}
        if len(self._tasks) < self._workers:
            self._tasks.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            size = min(len(self._queue), self._max_batch)
            batch = [self._queue.popleft() for _ in range(size)]
            try:
                results = await loop.run_in_executor(
                    self._executor, self._run, [text for text, _ in batch]
                )
            except Exception as exc:  # every waiter of the batch learns of the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def close(self) -> None:
        """Stop the worker threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
