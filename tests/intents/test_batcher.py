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

    batcher: MicroBatcher[str] = MicroBatcher(run, max_batch=4, threads=1)

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

    batcher: MicroBatcher[int] = MicroBatcher(run, max_batch=1, threads=1)

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


@pytest.mark.parametrize("threads", [1, 2])
def test_it_keeps_working_across_event_loops(threads: int) -> None:
    batcher: MicroBatcher[str] = MicroBatcher(lambda ts: ts, threads=threads)
    for _ in range(3):
        assert asyncio.run(asyncio.wait_for(batcher.submit("x"), 2)) == "x"
    batcher.close()


def test_a_text_that_fails_its_batch_fails_alone() -> None:
    calls: list[list[str]] = []
    gate = threading.Event()

    def run(texts: list[str]) -> list[str]:
        gate.wait(1)
        calls.append(texts)
        if "bad" in texts:
            raise ValueError("cannot encode 'bad'")
        return [t.upper() for t in texts]

    batcher: MicroBatcher[str] = MicroBatcher(run, max_batch=4, threads=1)

    async def scenario() -> list[BaseException | str]:
        first = asyncio.ensure_future(batcher.submit("first"))  # takes the only worker
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(batcher.submit(t)) for t in ("a", "bad", "b")]
        gate.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    first, a, bad, b = asyncio.run(scenario())
    assert (first, a, b) == ("FIRST", "A", "B")
    assert isinstance(bad, ValueError)
    assert calls[1] == ["a", "bad", "b"]  # they shared a batch, which failed, then ran alone
    assert calls[2:] == [["a"], ["bad"], ["b"]]
    batcher.close()


def test_results_that_cannot_be_mapped_back_fail_every_request_of_the_batch() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(lambda texts: ["one"] * 2, max_batch=1)

    async def scenario() -> str:
        return await asyncio.wait_for(batcher.submit("x"), 2)  # an error, never a hang

    with pytest.raises(ValueError, match="2 results for 1 texts"):
        asyncio.run(scenario())
    batcher.close()


def test_requests_to_a_closed_batcher_fail_instead_of_hanging() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(lambda texts: texts)
    batcher.close()

    async def scenario() -> list[BaseException | str]:
        pending = (batcher.submit(t) for t in ("a", "b"))
        return list(await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 2))

    assert all(isinstance(result, RuntimeError) for result in asyncio.run(scenario()))
