"""Micro-batching: concurrent requests share one call of a blocking batch function.

Nothing waits on a timer: a request that finds a model thread idle runs at once, and requests that
arrive while the threads are busy are gathered into the next batch. This keeps a single
message's latency low and lets throughput grow with load.

A batch that fails is run again one text at a time, so a text the model cannot take (one that
makes the tokenizer raise) fails only its own request, never the others that shared its batch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Failed:
    """What one text's run raised, when run alone."""

    error: Exception


class MicroBatcher(Generic[T]):
    """Feeds texts to ``run`` in batches of at most ``max_batch`` on ``threads`` model threads."""

    def __init__(
        self, run: Callable[[list[str]], Sequence[T]], max_batch: int = 32, threads: int = 2
    ) -> None:
        self._run = run
        self._max_batch = max_batch
        self._threads = threads
        self._queue: deque[tuple[str, asyncio.Future[T]]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="intents")

    async def submit(self, text: str) -> T:
        """The result of ``run`` for ``text``, computed in a batch with concurrent requests."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((text, future))
        # Prune here rather than in a done-callback: a callback never runs if its loop closed.
        self._tasks = {task for task in self._tasks if not task.done()}
        if len(self._tasks) < self._threads:
            self._tasks.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        while self._queue:
            size = min(len(self._queue), self._max_batch)
            batch = [self._queue.popleft() for _ in range(size)]
            try:
                results = await self._results([text for text, _ in batch])
            except Exception as exc:  # the threads themselves failed (closed): all learn of it
                results = [_Failed(exc)] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, _Failed):
                    future.set_exception(result.error)
                else:
                    future.set_result(result)

    async def _results(self, texts: list[str]) -> Sequence[T | _Failed]:
        """Each text's result or failure: the batch at once, then, if it failed, one by one
        to find the text that failed (the others still get their results)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._checked, texts)
        except Exception as exc:
            if len(texts) == 1:
                return [_Failed(exc)]
        return await loop.run_in_executor(self._executor, self._one_by_one, texts)

    def _checked(self, texts: list[str]) -> Sequence[T]:
        """``run`` on ``texts``, refusing an answer of the wrong length (it cannot be mapped
        back to the requests)."""
        results = self._run(texts)
        if len(results) != len(texts):
            raise ValueError(f"{len(results)} results for {len(texts)} texts")
        return results

    def _one_by_one(self, texts: list[str]) -> list[T | _Failed]:
        """Each text run alone: its result, or what it raised."""
        results: list[T | _Failed] = []
        for text in texts:
            try:
                results.append(self._checked([text])[0])
            except Exception as exc:
                results.append(_Failed(exc))
        return results

    def close(self) -> None:
        """Stop the model threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
