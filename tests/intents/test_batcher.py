"""The micro-batcher: shared batches, per-request results and errors, any event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from intents.batcher import MicroBatcher


def test_batches_form_under_load_and_results_map_back() -> None:
    calls: list[list[str]] = []
    gate = threading.Event()

    def run(texts: list[str]) -> list[str]:
        gate.wait(1)
        calls.append(texts)
        return [t.upper() for t in texts]

    batcher: MicroBatcher[str] = MicroBatcher(run, max_batch=4, workers=1)

    async def scenario() -> list[str]:
        pending = [asyncio.ensure_future(batcher.submit(f"m{i}")) for i in range(9)]
        await asyncio.sleep(0.05)
        gate.set()
        return list(await asyncio.gather(*pending))

    assert asyncio.run(scenario()) == [f"M{i}" for i in range(9)]
    assert [len(c) for c in calls] == [4, 4, 1]  # queued requests share batches of max_batch
    batcher.close()


def test_a_failing_batch_fails_only_its_own_requests() -> None:
    def run(texts: list[str]) -> list[int]:
        if "bad" in texts:
            raise ValueError("boom")
        return [len(t) for t in texts]

    batcher: MicroBatcher[int] = MicroBatcher(run, max_batch=1, workers=1)

    async def scenario() -> tuple[int, BaseException | int, int]:
        results = await asyncio.gather(
            batcher.submit("ok"),
            batcher.submit("bad"),
            batcher.submit("fine"),
            return_exceptions=True,
        )
        return results[0], results[1], results[2]  # type: ignore[return-value]

    first, second, third = asyncio.run(scenario())
    assert (first, third) == (2, 4)
    assert isinstance(second, ValueError)
    batcher.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_it_keeps_working_across_event_loops(workers: int) -> None:
    batcher: MicroBatcher[str] = MicroBatcher(lambda ts: ts, workers=workers)
    for _ in range(3):
        assert asyncio.run(asyncio.wait_for(batcher.submit("x"), 2)) == "x"
    batcher.close()
