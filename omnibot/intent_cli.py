"""The intent model's commands: ``omnibot train`` (rebuild the cached model), ``eval`` (train on
one labelled set, measure on another) and ``rasa-check`` (what a Rasa project imports)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from intents.rasa_project import labelled_examples, load_project, report_lines
from omnibot.setting_parsers import ENCODERS
from omnibot.settings import Settings

if TYPE_CHECKING:
    from intents.build import NamedClassifier
    from intents.evaluate import EvalResult

# The intent model's libraries (numpy, scikit-learn, onnxruntime) are imported by the commands
# that use them, never at this module's import: `omnibot serve --role front` loads no model.

log = logging.getLogger("omnibot")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``train``, ``eval`` and ``rasa-check`` commands."""
    training = commands.add_parser("train", help="rebuild the cached intent model of INTENTS_PATH")
    training.add_argument(
        "--fine-tune",
        action="store_true",
        help="fine-tune the encoder on the catalogue now (blocking; minutes) and cache the "
        "tuned model that serve then uses; tunes even with FINE_TUNE=off",
    )
    # the serving process that started this tuning: it ends when that process ends
    training.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    _add_eval(commands)
    commands.add_parser(
        "rasa-check", help="what a Rasa project folder imports, and what escalates"
    ).add_argument("path", type=Path, help="the Rasa 3 project folder (domain.yml, data/)")


def _add_eval(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``eval`` command."""
    evaluation = commands.add_parser("eval", help="train on TRAIN, evaluate on TEST")
    evaluation.add_argument(
        "train", help="CSV with header text,category, a Rasa NLU file or a Rasa project folder"
    )
    evaluation.add_argument("test", help="CSV with header text,category or a Rasa NLU file")
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")
    evaluation.add_argument(
        "--report", metavar="DIR", help="also write plots and misclassified rows to DIR"
    )
    evaluation.add_argument(
        "--encoder", choices=ENCODERS, help="override ENCODER for this evaluation"
    )
    evaluation.add_argument(
        "--fine-tune",
        action="store_true",
        help="evaluate over the encoder fine-tuned on TRAIN (tuned now: minutes)",
    )


def train(settings: Settings, fine_tune: bool = False) -> None:
    """Rebuild the cached intent model of the configured catalogue (``fine_tune``: the model
    over the encoder fine-tuned on it, tuned now, even with ``FINE_TUNE=off``)."""
    from omnibot.engine import build_intents  # the model's libraries: see the imports

    start = time.perf_counter()
    intents = build_intents(settings, rebuild=True, progress=True, tune=fine_tune)
    model = getattr(intents.classifier, "model", None)
    intents.classifier.close()
    print(
        f"trained {settings.intents_path} in {time.perf_counter() - start:.1f} s "
        f"(model {intents.model_name}, answer rule {getattr(model, 'rule', None)}); "
        f"cache: {settings.cache_dir.resolve()}"
    )


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Labelled examples from a ``text,category`` CSV, a Rasa NLU file or a Rasa project."""
    from intents.evaluate import read_labelled_csv  # the model's libraries: see the imports

    if path.is_dir() or path.suffix in (".yml", ".yaml"):
        return labelled_examples(path)
    return read_labelled_csv(path)


def run_eval(settings: Settings, args: argparse.Namespace) -> None:
    """Train on TRAIN exactly as ``serve`` would, evaluate on TEST, print the numbers."""
    from intents.evaluate import evaluate  # the model's libraries: see the imports

    texts, labels = read_labelled(Path(args.train))
    test_texts, test_labels = read_labelled(Path(args.test))
    start = time.perf_counter()
    classifier = _trained(settings, texts, labels, args.fine_tune)
    log.info("evaluating the %s model", classifier.model_name)
    trained = time.perf_counter() - start
    result, predictions = evaluate(classifier, test_texts, test_labels, progress=True)
    result = replace(result, train_seconds=round(trained, 1))
    if args.report:
        from intents.report import write_report  # matplotlib only for reports

        for path in write_report(Path(args.report), test_texts, test_labels, predictions, result):
            log.info("wrote %s", path)
    print(json.dumps(result.to_dict()) if args.json else describe(result))


def _trained(
    settings: Settings, texts: list[str], labels: list[str], fine_tune: bool
) -> NamedClassifier:
    """The classifier trained on ``texts`` with the service's options (``fine_tune``: over
    the encoder tuned on them now)."""
    from intents.build import build_classifier  # the model's libraries: see the imports
    from omnibot.engine import build_options

    options = build_options(settings)
    if fine_tune:
        options = replace(options, fine_tune=True)
    return build_classifier(
        texts,
        labels,
        settings.cache_dir,
        options,
        rebuild=True,
        progress=True,
        tune=fine_tune,
    )


def describe(result: EvalResult) -> str:
    """The human-readable summary of an evaluation."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.2f} %"

    return "\n".join(
        [
            f"test rows           {result.test_rows} ({result.in_scope_rows} of known intents, "
            f"{result.oos_rows} oos)",
            f"accuracy            {pct(result.accuracy)} (known intents' top intent, answered "
            "or not)",
            f"macro-F1            {pct(result.macro_f1)}",
            f"in-scope accuracy   {pct(result.in_scope_accuracy)} (known intents answered "
            "right; an escalation counts wrong)",
            f"out-of-scope recall {pct(result.oos_recall)} (oos rows escalated)",
            f"overall accuracy    {pct(result.overall_accuracy)} (every row; an escalated oos "
            "row counts right)",
            f"answered            {pct(result.answered_share)} (confidence >= "
            f"{result.threshold:.3f} or a lead >= {result.min_margin:.3f}, nearest example >= "
            f"{result.min_similarity:.3f})",
            f"answer precision    {pct(result.answered_precision)}",
            f"ms per message      p50 {result.p50_ms:.2f}, p99 {result.p99_ms:.2f}",
            f"training            {result.train_seconds} s (blend weights {result.blend_weights})",
        ]
    )


def rasa_check(path: Path) -> None:
    """Print what a Rasa project folder imports: intents, examples, what answers each, and
    what is left out."""
    catalogue, report = load_project(path)
    print("\n".join(report_lines(catalogue, report)))
