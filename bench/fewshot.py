"""Few-shot training files from public intent data, and the engine scored on them.

    python -m bench.fewshot                        # write 5/10/30-per-intent files, 3 seeds each
    python -m bench.fewshot --evaluate --sizes 10 --seeds 0 [--datasets banking77] [--json]
    python -m bench.fewshot --evaluate --fine-tune ...   # the encoder tuned on each file first
    python -m bench.fewshot --evaluate --fine-tune --tuning objective=pairs ...  # another recipe

A shop's catalogue has a dozen to a few dozen intents with 10-30 examples each. These files put
BANKING77 and HWU64 in that shape: for each intent, ``size`` examples drawn from *train* with a
fixed seed (an intent with fewer keeps them all), written to
``var/fewshot/<dataset>/<size>-per-intent-seed<seed>.csv``. ``--evaluate`` trains on
each file as ``omnibot eval`` does (the answer rule chosen on that file alone) and scores the
dataset's whole test file. The test file is never sampled. ``--fine-tune`` builds as
``omnibot eval --fine-tune`` does: the encoder fine-tuned on the file (its answer rule chosen on
a held-out tune), the training time including the tuning; ``--tuning FIELD=VALUE`` overrides a
default of the tuning recipe (``intents.tuning.TuningConfig``), as in ``bench.retail``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.retail import TuningArgumentError, add_tuning_option, tuning_config
from intents.build import BuildOptions, build_classifier
from intents.evaluate import evaluate, read_labelled_csv
from intents.tuning import TuningConfig

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "var" / "fewshot"  # derived from the datasets, rewritten identically on demand
SIZES = (5, 10, 30)
SEEDS = (0, 1, 2)
NAMES = ("banking77", "hwu64")

Row = tuple[str, str]


def sample(rows: Sequence[Row], per_intent: int, seed: int) -> list[Row]:
    """``per_intent`` rows of each label, drawn with ``seed``; labels in first-seen order, rows
    in their file order within a label."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, (_, label) in enumerate(rows):
        by_label[label].append(index)
    rng = random.Random(seed)
    chosen: list[int] = []
    for indices in by_label.values():
        chosen += sorted(rng.sample(indices, min(per_intent, len(indices))))
    return [rows[i] for i in chosen]


def file_of(out: Path, name: str, size: int, seed: int) -> Path:
    """Where the ``size``-per-intent file of dataset ``name`` drawn with ``seed`` goes."""
    return out / name / f"{size}-per-intent-seed{seed}.csv"


def write(path: Path, rows: Sequence[Row]) -> Path:
    """``rows`` as a ``text,category`` CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


def write_all(
    datasets: Path, out: Path, names: Sequence[str], sizes: Sequence[int], seeds: Sequence[int]
) -> list[tuple[str, int, int, Path]]:
    """Every (dataset, size, seed) file from the datasets' train files."""
    written = []
    for name in names:
        texts, labels = read_labelled_csv(datasets / name / "train.csv")
        rows = list(zip(texts, labels, strict=True))
        for size in sizes:
            for seed in seeds:
                path = write(file_of(out, name, size, seed), sample(rows, size, seed))
                written.append((name, size, seed, path))
    return written


def score(
    train: Path,
    test: Path,
    cache: Path,
    fine_tune: bool = False,
    tuning: TuningConfig | None = None,
) -> dict[str, Any]:
    """Train on ``train`` as ``omnibot eval`` does (tuning the encoder first with ``tuning``
    when ``fine_tune``) and score ``test``."""
    texts, labels = read_labelled_csv(train)
    start = time.perf_counter()
    options = BuildOptions(fine_tune=fine_tune, tuning=tuning or TuningConfig())
    classifier = build_classifier(texts, labels, cache, options, rebuild=True, tune=fine_tune)
    seconds = time.perf_counter() - start
    try:
        result, _ = evaluate(classifier, *read_labelled_csv(test))
    finally:
        classifier.close()
    return {
        "encoder": classifier.model_name.split("-")[0],
        "train_rows": len(texts),
        "accuracy": result.accuracy,
        "answered_share": result.answered_share,
        "answered_precision": result.answered_precision,
        "train_seconds": round(seconds, 1),
    }


def main() -> None:
    """Write the files; with ``--evaluate``, score each and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(NAMES))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--data", type=Path, default=DATASETS, help="folder of the datasets")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fine-tune", action="store_true", help="tune the encoder on each file")
    add_tuning_option(parser, "objective=pairs")
    args = parser.parse_args()
    try:
        tuning = tuning_config(0, args.tuning)
    except TuningArgumentError as error:
        parser.error(str(error))
    written = write_all(args.data, args.out, args.datasets, args.sizes, args.seeds)
    if not args.evaluate:
        for *_, path in written:
            print(path)
        return
    cache = Path(tempfile.mkdtemp(prefix="omnibot-fewshot-"))
    results = []
    for name, size, seed, path in written:
        numbers = score(path, args.data / name / "test.csv", cache, args.fine_tune, tuning)
        results.append(
            {"dataset": name, "per_intent": size, "seed": seed, "tuning": args.tuning, **numbers}
        )
        if not args.json:
            print(
                f"{name} {size}/intent seed {seed} ({numbers['encoder']}): "
                f"accuracy {numbers['accuracy']:.2%}, "
                f"answered {numbers['answered_share']:.2%} at "
                f"{numbers['answered_precision']:.2%}, {numbers['train_seconds']} s"
            )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
