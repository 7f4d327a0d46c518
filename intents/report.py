"""The ``--report`` files of ``omnibot eval``: plots and the misclassified examples, and the
unknown-intent trade-off the answer rule was chosen on (when the model measured one)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import NDArray
from sklearn.metrics import confusion_matrix

from bot.contracts import Prediction
from intents.evaluate import EvalResult, right_rows
from intents.trade_off import TradeOffPoint, at

LABELLED_TARGETS = (0.5, 0.6, 0.7, 0.8, 0.9)  # curve points named by their target
COVERAGE_COLUMNS = ("answered", "precision", "min_confidence")
COVERAGE_STEP = 0.01  # coverage_precision.csv: a row for each percent of the test rows answered
TRADE_OFF_COLUMNS = (
    "target",
    "threshold",
    "min_similarity",
    "min_margin",
    "answered",
    "escalated",
    "precision",
)


def coverage_precision(
    predictions: list[Prediction], labels: list[str]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coverage and precision when answering the k most confident rows, for every k."""
    coverage, precision, _ = _ranked(predictions, labels)
    return coverage, precision


def _ranked(
    predictions: list[Prediction], labels: list[str]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Coverage, precision and the lowest confidence answered, answering the k most
    confident rows, for every k."""
    confidence = np.array([p.confidence for p in predictions], dtype=np.float64)
    correct = np.array([p.intent == y for p, y in zip(predictions, labels, strict=True)])
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    k = np.arange(1, len(order) + 1)
    return k / len(order), hits / k, confidence[order]


def coverage_rows(
    predictions: list[Prediction], labels: list[str], step: float = COVERAGE_STEP
) -> list[tuple[float, float, float]]:
    """The coverage/precision curve in hindsight, a point each ``step`` of coverage: the share
    answered, the precision of those answers and the confidence a threshold would need (the
    lowest confidence answered). What the best confidence threshold could have done on these
    rows, to set beside the rule chosen on the training data."""
    coverage, precision, confidence = _ranked(predictions, labels)
    if not len(coverage):
        return []
    points = np.arange(step, 1 + step / 2, step)
    ks = np.minimum(np.ceil(points * len(coverage) - 1e-9).astype(int), len(coverage)) - 1
    return [(float(coverage[k]), float(precision[k]), float(confidence[k])) for k in ks]


def write_report(
    directory: Path,
    texts: list[str],
    labels: list[str],
    predictions: list[Prediction],
    result: EvalResult,
) -> list[Path]:
    """Write confusion matrix and coverage/precision PNGs (the curve's points in a CSV too),
    misclassified rows and the numbers;
    with the training's trade-off curve in ``result``, its plot and its points too."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [
        _confusion(directory / "confusion_matrix.png", labels, predictions),
        _coverage(directory / "coverage_precision.png", labels, predictions, result),
        _coverage_csv(directory / "coverage_precision.csv", labels, predictions),
        _misclassified(directory / "misclassified.csv", texts, labels, predictions),
    ]
    if result.trade_off:
        written += [
            plot_trade_off(
                directory / "unknown_trade_off.png", result.trade_off, result.unknown_target
            ),
            trade_off_csv(directory / "unknown_trade_off.csv", result.trade_off),
        ]
    summary = directory / "summary.json"
    summary.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return [*written, summary]


def _confusion(path: Path, labels: list[str], predictions: list[Prediction]) -> Path:
    classes = sorted(set(labels) | {p.intent for p in predictions})
    matrix = confusion_matrix(
        labels, [p.intent for p in predictions], labels=classes, normalize="true"
    )
    size = max(6.0, len(classes) * 0.16)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(classes)), classes, rotation=90, fontsize=5)
    axes.set_yticks(range(len(classes)), classes, fontsize=5)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (rows normalised)")
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def _coverage(
    path: Path, labels: list[str], predictions: list[Prediction], result: EvalResult
) -> Path:
    coverage, precision = coverage_precision(predictions, labels)
    figure, axes = plt.subplots(figsize=(6, 4.5))
    axes.plot(coverage, precision, label="answer the most confident share")
    if result.answered_precision is not None:
        axes.scatter(
            [result.answered_share],
            [result.answered_precision],
            color="red",
            zorder=3,
            label=f"chosen rule (threshold {result.threshold:.3f})",
        )
    axes.axhline(0.98, color="grey", linestyle=":", label="98 % precision")
    axes.set_xlabel("share of messages answered automatically")
    axes.set_ylabel("precision of the answers")
    axes.set_ylim(max(0.5, float(precision.min()) - 0.02), 1.005)
    axes.legend(loc="lower left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def _coverage_csv(path: Path, labels: list[str], predictions: list[Prediction]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COVERAGE_COLUMNS)
        for row in coverage_rows(predictions, labels):
            writer.writerow([f"{n:.4f}" for n in row])
    return path


def _misclassified(
    path: Path, texts: list[str], labels: list[str], predictions: list[Prediction]
) -> Path:
    """The rows got wrong: a known intent's row whose top intent is wrong, an ``oos`` row that
    was answered (an escalated ``oos`` row is right)."""
    right = right_rows(predictions, labels)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "true", "predicted", "confidence", "answered"])
        for text, label, prediction, ok in zip(texts, labels, predictions, right, strict=True):
            if not ok:
                writer.writerow(
                    [
                        text,
                        label,
                        prediction.intent,
                        f"{prediction.confidence:.4f}",
                        prediction.confident,
                    ]
                )
    return path


def plot_trade_off(path: Path, curve: Sequence[TradeOffPoint], target: float | None) -> Path:
    """In-scope messages answered against unknown-intent messages kept out, one point per
    escalation target, with the point chosen for ``target`` and the target's line."""
    figure, axes = plt.subplots(figsize=(6.5, 4.8))
    axes.plot(
        [p.escalated for p in curve],
        [p.answered for p in curve],
        marker=".",
        label="rule chosen for each target (out of fold, training data)",
    )
    _name_targets(axes, curve)
    if target is not None:
        chosen = at(curve, target)
        axes.axvline(target, color="grey", linestyle=":", label=f"target: keep out >= {target:.0%}")
        axes.scatter(
            [chosen.escalated],
            [chosen.answered],
            color="red",
            zorder=3,
            label=f"chosen: {chosen.answered:.1%} answered, {chosen.escalated:.1%} kept out",
        )
    axes.set_xlabel("share of unknown-intent messages kept out (escalated)")
    axes.set_ylabel("share of in-scope messages answered")
    axes.set_title("Unknown intents: the answer rule's trade-off", fontsize=10)
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(-0.02, 1.02)
    axes.legend(loc="lower left", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def _name_targets(axes: Axes, curve: Sequence[TradeOffPoint]) -> None:
    """Write a few points' targets beside them, so the curve reads as "target -> result"
    (targets that share a point, because a laxer one keeps the stricter one's rule, as one
    label: "50-70%")."""
    named: dict[tuple[float, float], list[float]] = {}
    for point in curve:
        if any(math.isclose(point.target, target) for target in LABELLED_TARGETS):
            named.setdefault((point.escalated, point.answered), []).append(point.target)
    for spot, targets in named.items():
        label = (
            f"{min(targets):.0%}" if len(targets) == 1 else f"{min(targets):.0%}-{max(targets):.0%}"
        )
        axes.annotate(
            label,
            spot,
            textcoords="offset points",
            xytext=(-4, -12),
            fontsize=7,
            color="grey",
        )


def trade_off_csv(path: Path, curve: Sequence[TradeOffPoint]) -> Path:
    """The curve's points: target, rule and what it does out of fold."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRADE_OFF_COLUMNS)
        for p in curve:
            rule = p.rule
            numbers = (p.target, rule.threshold, rule.min_similarity, rule.min_margin)
            writer.writerow(
                [
                    *(f"{n:.4f}" for n in numbers),
                    f"{p.answered:.4f}",
                    f"{p.escalated:.4f}",
                    "" if p.precision is None else f"{p.precision:.4f}",
                ]
            )
    return path
