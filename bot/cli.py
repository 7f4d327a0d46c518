"""The ``omnibot`` command: ``serve``, ``train`` and ``eval``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from bot.app import build_engine, build_options, create_app
from bot.settings import Settings
from intents.build import ENCODERS, build_classifier
from intents.evaluate import EvalResult, evaluate, read_labelled_csv
from intents.report import write_report


def serve(settings: Settings) -> None:
    """Run the service until SIGINT or SIGTERM."""
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                access_log=None, print=logging.getLogger("omnibot").info)


def train(settings: Settings) -> None:
    """Rebuild the cached intent model of the configured catalogue."""
    start = time.perf_counter()
    engine = build_engine(settings, rebuild=True, progress=True)
    model = getattr(engine.classifier, "model", None)
    print(f"trained {settings.intents_path} in {time.perf_counter() - start:.1f} s "
          f"(answer rule {getattr(model, 'rule', None)}); cache: {settings.cache_dir}")


def run_eval(settings: Settings, args: argparse.Namespace) -> None:
    """Train on TRAIN exactly as ``serve`` would, evaluate on TEST, print the numbers."""
    texts, labels = read_labelled_csv(args.train)
    test_texts, test_labels = read_labelled_csv(args.test)
    start = time.perf_counter()
    classifier = build_classifier(texts, labels, settings.cache_dir, build_options(settings),
                                  rebuild=True, progress=True)
    trained = time.perf_counter() - start
    result, predictions = evaluate(classifier, test_texts, test_labels, progress=True)
    result = replace(result, train_seconds=round(trained, 1))
    if args.report:
        for path in write_report(Path(args.report), test_texts, test_labels, predictions,
                                 result):
            logging.getLogger("omnibot").info("wrote %s", path)
    print(json.dumps(result.to_dict()) if args.json else describe(result))


def describe(result: EvalResult) -> str:
    """The human-readable summary of an evaluation."""
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.2f} %"

    return "\n".join([
        f"test rows           {result.test_rows}",
        f"accuracy            {pct(result.accuracy)}",
        f"macro-F1            {pct(result.macro_f1)}",
        f"answered            {pct(result.answered_share)} (confidence >= "
        f"{result.threshold:.3f}, nearest example >= {result.min_similarity:.3f})",
        f"answer precision    {pct(result.answered_precision)}",
        f"out-of-scope recall {pct(result.oos_recall)}",
        f"ms per message      p50 {result.p50_ms:.2f}, p99 {result.p99_ms:.2f}",
        f"training            {result.train_seconds} s (blend weights {result.blend_weights})"])


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="omnibot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP service (settings from the environment)")
    commands.add_parser("train", help="rebuild the cached intent model of INTENTS_PATH")
    evaluation = commands.add_parser("eval", help="train on TRAIN.csv, evaluate on TEST.csv")
    evaluation.add_argument("train", help="training CSV with header text,category")
    evaluation.add_argument("test", help="test CSV with header text,category")
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")
    evaluation.add_argument("--report", metavar="DIR",
                            help="also write plots and misclassified rows to DIR")
    evaluation.add_argument("--encoder", choices=ENCODERS,
                            help="override ENCODER for this evaluation")
    return root


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``omnibot`` console script."""
    args = parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings.from_env()
    if getattr(args, "encoder", None):
        settings = replace(settings, encoder=args.encoder)
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve(settings)
    elif args.command == "train":
        train(settings)
    else:
        run_eval(settings, args)
