"""Classification speed on this CPU: single-message latency and throughput under concurrent
load (micro-batched), for each encoder, with the BANKING77 model.

    python -m bench.speed [--data DIR] [--encoders torch onnx onnx-int8] [--clients 64]

The model is the one ``omnibot eval`` trains on BANKING77 with the default encoder (taken from
the cache under ``OMNIBOT_DATA_DIR``, default ``var``, or trained now); every encoder is timed
with that same model, since speed does not depend on the model's weights.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np

from intents.build import ENCODERS, BuildOptions, build_classifier, make_encoder
from intents.classifier import BatchedClassifier
from intents.evaluate import read_labelled_csv, single_message_ms
from omnibot.settings import Settings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"


async def throughput(classifier: BatchedClassifier, texts: list[str], clients: int) -> float:
    """Messages per second when ``clients`` callers classify ``texts`` concurrently."""
    queue = list(reversed(texts))

    async def client() -> None:
        while queue:
            await classifier.classify(queue.pop())

    await classifier.classify(texts[0])  # warm the workers
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(texts) / (time.perf_counter() - start)


def encoder_rate(classifier: BatchedClassifier, texts: list[str], batch: int = 32) -> float:
    """Messages per second through the encoder alone, in batches: the ceiling for throughput."""
    classifier.encoder.encode(texts[:batch])
    start = time.perf_counter()
    for offset in range(0, len(texts), batch):
        classifier.encoder.encode(texts[offset : offset + batch])
    return len(texts) / (time.perf_counter() - start)


async def awaited_ms(classifier: BatchedClassifier, texts: list[str]) -> list[float]:
    """Milliseconds per ``await classify(text)``, one message at a time (thread hop included)."""
    timings = []
    for text in texts:
        start = time.perf_counter()
        await classifier.classify(text)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    """Measure and print one markdown table row per encoder."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--encoders", nargs="+", choices=ENCODERS, default=list(ENCODERS))
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()
    train = read_labelled_csv(args.data / "train.csv")
    test_texts, _ = read_labelled_csv(args.data / "test.csv")
    print(
        "| encoder | predict() p50 ms | p99 ms | await classify() p50 ms | "
        f"throughput, {args.clients} concurrent clients (msg/s) | encoder alone (msg/s) |"
    )
    print("|---|---|---|---|---|---|")
    cache = Settings.from_env().cache_dir
    built = build_classifier(*train, cache, BuildOptions(), progress=True)
    model = built.model
    built.close()
    for encoder in args.encoders:
        classifier = BatchedClassifier(make_encoder(encoder, cache), model)
        direct = single_message_ms(classifier, test_texts)
        awaited = asyncio.run(awaited_ms(classifier, test_texts[:500]))
        rate = asyncio.run(throughput(classifier, test_texts, args.clients))
        ceiling = encoder_rate(classifier, test_texts)
        print(
            f"| {encoder} | {np.percentile(direct, 50):.2f} | {np.percentile(direct, 99):.2f} "
            f"| {np.percentile(awaited, 50):.2f} | {rate:.0f} | {ceiling:.0f} |",
            flush=True,
        )
        classifier.close()


if __name__ == "__main__":
    main()
