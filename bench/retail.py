"""The bundled retail catalogue on its own test set: train on the catalogue as ``omnibot serve``
does, score ``bench/data/retail_test.csv`` and print the answer rule's numbers and its mistakes.

    python -m bench.retail [--catalogue intents/retail.yml] [--test bench/data/retail_test.csv]
                           [--cache DIR] [--fine-tune [--seed N] [--tuning FIELD=VALUE ...]]
                           [--json]

The test set's messages are written as shop customers write (typos, anger, two things at once),
never copied from the catalogue; rows labelled ``oos`` are about nothing the catalogue knows
and should be escalated (answering one is a wrong answer, as in ``omnibot eval``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.contracts import Prediction
from intents.build import ENCODERS, BuildOptions, build_classifier
from intents.catalogue import load_catalogue
from intents.evaluate import EvalResult, evaluate, read_labelled_csv
from intents.members import TrainingConfig
from intents.tuning import TuningConfig, TuningConfigError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOGUE = ROOT / "intents" / "retail.yml"
DEFAULT_TEST = ROOT / "bench" / "data" / "retail_test.csv"
SHOWN_MISTAKES = 80


class TuningArgumentError(ValueError):
    """A ``--tuning`` argument that names no tuning setting or cannot be read as its type."""


def tuning_config(seed: int, settings: Sequence[str]) -> TuningConfig:
    """The tuning settings of a run: ``seed`` and ``FIELD=VALUE`` overrides of the defaults."""
    values: dict[str, Any] = {"seed": seed}
    defaults = TuningConfig()
    for setting in settings:
        name, _, text = setting.partition("=")
        default = getattr(defaults, name, None)
        if default is None or not text:
            raise TuningArgumentError(f"not a tuning setting: {setting!r} (FIELD=VALUE)")
        try:
            # bool first: "false" must not become True
            values[name] = (
                text.lower() in ("1", "true", "yes", "on")
                if isinstance(default, bool)
                else type(default)(text)
            )
        except ValueError as error:
            raise TuningArgumentError(f"{setting!r}: {error}") from error
    try:
        return TuningConfig(**values)
    except TuningConfigError as error:  # a value of the right type the recipe refuses
        raise TuningArgumentError(str(error)) from error


def add_tuning_option(parser: argparse.ArgumentParser, example: str) -> None:
    """The ``--tuning FIELD=VALUE ...`` option (read it with :func:`tuning_config`)."""
    parser.add_argument(
        "--tuning",
        nargs="*",
        default=[],
        metavar="FIELD=VALUE",
        help="tuning settings other than the defaults (intents.tuning.TuningConfig), e.g. "
        + example,
    )


def mistakes(
    texts: Sequence[str], labels: Sequence[str], predictions: Sequence[Prediction]
) -> dict[str, list[dict[str, Any]]]:
    """The wrong answers (answered, not the row's intent) and the rows escalated that had an
    intent, each with the message and what the engine ranked first."""
    wrong, unanswered = [], []
    for text, label, p in zip(texts, labels, predictions, strict=True):
        row = {"text": text, "label": label, "top": p.intent, "confidence": round(p.confidence, 3)}
        if p.confident and p.intent != label:
            wrong.append(row)
        elif not p.confident and label != "oos":
            unanswered.append(row)
    return {"wrong_answers": wrong, "escalated": unanswered}


def report(
    result: EvalResult,
    texts: Sequence[str],
    labels: Sequence[str],
    predictions: Sequence[Prediction],
) -> dict[str, Any]:
    """The headline numbers, the confusions and the rows behind them."""
    rows = mistakes(texts, labels, predictions)
    pairs = Counter(f"{row['label']} -> {row['top']}" for row in rows["wrong_answers"])
    return {**result.to_dict(), "confusions": pairs.most_common(), **rows}


def describe(summary: dict[str, Any]) -> str:
    """The human-readable form of ``report``."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.2f} %"

    lines = [
        f"model             {summary['model']}, built in {summary['build_seconds']} s",
        f"test rows         {summary['test_rows']} ({summary['oos_rows']} oos)",
        f"accuracy          {pct(summary['accuracy'])} (top intent, answered or not)",
        f"answered          {pct(summary['answered_share'])}",
        f"answer precision  {pct(summary['answered_precision'])}",
        f"oos escalated     {pct(summary['oos_recall'])}",
        f"rule              confidence >= {summary['threshold']:.3f}, "
        f"nearest example >= {summary['min_similarity']:.3f}",
        "wrong answers:",
    ]
    lines += [f"  {pair}: {count}" for pair, count in summary["confusions"]]
    for row in summary["wrong_answers"][:SHOWN_MISTAKES]:
        lines.append(f"  {row['text']!r} ({row['label']}) -> {row['top']} {row['confidence']}")
    lines.append(f"escalated with an intent: {len(summary['escalated'])}")
    for row in summary["escalated"][:SHOWN_MISTAKES]:
        lines.append(f"  {row['text']!r} ({row['label']}) top {row['top']} {row['confidence']}")
    return "\n".join(lines)


def run(
    catalogue_path: Path,
    test_path: Path,
    cache: Path,
    encoder: str,
    fine_tune: bool = False,
    tuning: TuningConfig | None = None,
) -> dict[str, Any]:
    """Train on the catalogue (from ``cache`` when it holds this model; over the encoder tuned
    on it with ``tuning`` when ``fine_tune``) and score the test."""
    texts, labels = load_catalogue(catalogue_path).training_data()
    options = BuildOptions(
        encoder=encoder,
        config=TrainingConfig(),
        fine_tune=fine_tune,
        tuning=tuning or TuningConfig(),
    )
    start = time.perf_counter()
    classifier = build_classifier(texts, labels, cache, options, tune=fine_tune)
    seconds = time.perf_counter() - start
    try:
        test_texts, test_labels = read_labelled_csv(test_path)
        result, predictions = evaluate(classifier, test_texts, test_labels)
    finally:
        classifier.close()
    summary = report(result, test_texts, test_labels, predictions)
    return {"model": classifier.model_name, "build_seconds": round(seconds, 1), **summary}


def main() -> None:
    """Train, score, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE)
    parser.add_argument("--test", type=Path, default=DEFAULT_TEST)
    parser.add_argument("--encoder", choices=ENCODERS, default="onnx-int8")
    parser.add_argument("--cache", type=Path, help="model cache (default: a new temporary one)")
    parser.add_argument("--fine-tune", action="store_true", help="tune the encoder on it first")
    parser.add_argument("--seed", type=int, default=0, help="the tuning's seed (splits, steps)")
    add_tuning_option(
        parser, "word_embeddings=false calibration_tunes=2 threads=1 calibration_epochs=0.5"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        tuning = tuning_config(args.seed, args.tuning)
    except TuningArgumentError as error:
        parser.error(str(error))
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.cache or Path(scratch)
        summary = run(args.catalogue, args.test, cache, args.encoder, args.fine_tune, tuning)
    summary["tuning"] = asdict(tuning)
    print(json.dumps(summary) if args.json else describe(summary))


if __name__ == "__main__":
    main()
