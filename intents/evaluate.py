"""Evaluating the intent classifier on a labelled test set (``omnibot eval``)."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import f1_score
from tqdm import tqdm

from bot.contracts import Prediction
from intents.build import ENCODE_CHUNK
from intents.calibration import Rule
from intents.classifier import BatchedClassifier
from intents.model import OOS_LABEL
from intents.trade_off import TradeOffPoint

LATENCY_SAMPLE = 1000  # single-message timings taken for p50/p99


@dataclass(frozen=True)
class EvalResult:
    """The headline numbers of one evaluation (shares are fractions in [0, 1]).

    ``oos`` rows are messages of no known intent: right when escalated ("kept out"), wrong when
    answered. ``accuracy`` and ``macro_f1`` score the top intent of the known-intent rows,
    answered or not (the classifier's own accuracy); ``in_scope_accuracy`` counts a known-intent
    row right only when it was answered with its intent (an escalation is wrong);
    ``overall_accuracy`` is over every row, an escalated ``oos`` row counting right (the
    definition of the CLINC150 and HINT3 papers); ``answered_share`` is over every row, and an
    answered ``oos`` row is a wrong answer in ``answered_precision``; ``oos_recall`` is the
    share of ``oos`` rows escalated. ``unknown_target`` is the share of unknown-intent messages
    the answer rule was chosen to escalate and ``trade_off`` the curve it was chosen on (out of
    fold on the training data; drawn by ``--report``, left out of :meth:`to_dict`).
    """

    accuracy: float
    macro_f1: float
    answered_share: float
    answered_precision: float | None
    oos_recall: float | None
    in_scope_accuracy: float | None
    overall_accuracy: float
    in_scope_rows: int
    oos_rows: int
    p50_ms: float
    p99_ms: float
    test_rows: int
    threshold: float
    min_similarity: float  # the answer rule's floor on the nearest training example's cosine
    min_margin: float  # the top intent's lead that answers below the threshold (2: never)
    blend_weights: tuple[float, ...]
    train_seconds: float | None = None
    unknown_target: float | None = None
    trade_off: tuple[TradeOffPoint, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the headline numbers, without the trade-off curve)."""
        numbers = asdict(replace(self, trade_off=()))
        del numbers["trade_off"]
        return numbers


def read_labelled_csv(path: str | Path) -> tuple[list[str], list[str]]:
    """Texts and labels of a ``text,category`` CSV file."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with 'text' and 'category'")
        rows = [(row["text"], row["category"]) for row in reader]
    return [text for text, _ in rows], [label for _, label in rows]


def predict_all(
    classifier: BatchedClassifier, texts: list[str], progress: bool = False
) -> list[Prediction]:
    """Predictions for every text, in batches, with a progress bar when asked."""
    out: list[Prediction] = []
    for start in tqdm(
        range(0, len(texts), ENCODE_CHUNK), desc="evaluating", unit="chunk", disable=not progress
    ):
        out.extend(classifier.predict(texts[start : start + ENCODE_CHUNK]))
    return out


def single_message_ms(classifier: BatchedClassifier, texts: list[str]) -> list[float]:
    """Milliseconds to classify each of (up to ``LATENCY_SAMPLE``) texts one at a time."""
    step = max(1, len(texts) // LATENCY_SAMPLE)
    timings = []
    for text in texts[::step][:LATENCY_SAMPLE]:
        start = time.perf_counter()
        classifier.predict([text])
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _share(hits: NDArray[np.bool_]) -> float | None:
    return float(hits.mean()) if hits.size else None


def right_rows(predictions: Sequence[Prediction], labels: Sequence[str]) -> NDArray[np.bool_]:
    """Which rows the service got right: a known intent answered or escalated with its top
    intent right, an ``oos`` row escalated."""
    return np.array(
        [
            not p.confident if label == OOS_LABEL else p.intent == label
            for p, label in zip(predictions, labels, strict=True)
        ],
        dtype=bool,
    )


def score(
    predictions: list[Prediction],
    labels: list[str],
    timings: list[float],
    rule: Rule,
    weights: tuple[float, ...],
) -> EvalResult:
    """The headline numbers for ``predictions`` against the true ``labels``."""
    predicted = np.array([p.intent for p in predictions])
    truth = np.array(labels)
    answered = np.array([p.confident for p in predictions], dtype=bool)
    correct = predicted == truth
    oos = truth == OOS_LABEL
    known = ~oos
    answered_right = answered & correct
    return EvalResult(
        accuracy=_share(correct[known]) or 0.0,
        macro_f1=float(f1_score(truth[known], predicted[known], average="macro", zero_division=0))
        if known.any()
        else 0.0,
        answered_share=float(answered.mean()),
        answered_precision=_share(correct[answered]),
        oos_recall=_share(~answered[oos]),
        in_scope_accuracy=_share(answered_right[known]),
        overall_accuracy=float((answered_right | (oos & ~answered)).mean()),
        in_scope_rows=int(known.sum()),
        oos_rows=int(oos.sum()),
        p50_ms=float(np.percentile(timings, 50)),
        p99_ms=float(np.percentile(timings, 99)),
        test_rows=len(labels),
        threshold=rule.threshold,
        min_similarity=rule.min_similarity,
        min_margin=rule.min_margin,
        blend_weights=weights,
    )


def evaluate(
    classifier: BatchedClassifier, texts: list[str], labels: list[str], progress: bool = False
) -> tuple[EvalResult, list[Prediction]]:
    """Classify every test text and score the results."""
    predictions = predict_all(classifier, texts, progress)
    timings = single_message_ms(classifier, texts)
    model = classifier.model
    result = score(predictions, labels, timings, model.rule, model.weights)
    if model.calibration is not None:
        result = replace(
            result,
            unknown_target=model.calibration.unknown_target,
            trade_off=model.calibration.trade_off,
        )
    return result, predictions


@dataclass(frozen=True)
class HoldoutResult:
    """How the classifier treats intents it never saw: they should be escalated, not answered."""

    held_out: tuple[str, ...]
    unknown_escalated: float  # share of held-out intents' test rows not answered
    known_accuracy: float
    known_answered: float
    known_answered_precision: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def holdout_experiment(
    build: Callable[[list[str], list[str]], BatchedClassifier],
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    held_out: Sequence[str],
) -> HoldoutResult:
    """Train without the ``held_out`` intents; score their test rows as out of scope."""
    hidden = set(held_out)
    known_rows = [(t, y) for t, y in zip(*train, strict=True) if y not in hidden]
    classifier = build([t for t, _ in known_rows], [y for _, y in known_rows])
    try:
        predictions = predict_all(classifier, test[0])
    finally:
        classifier.close()
    unknown = np.array([y in hidden for y in test[1]])
    answered = np.array([p.confident for p in predictions])
    correct = np.array([p.intent == y for p, y in zip(predictions, test[1], strict=True)])
    known_answered = answered & ~unknown
    return HoldoutResult(
        held_out=tuple(sorted(hidden)),
        unknown_escalated=float((~answered[unknown]).mean()),
        known_accuracy=float(correct[~unknown].mean()),
        known_answered=float(answered[~unknown].mean()),
        known_answered_precision=(
            float(correct[known_answered].mean()) if known_answered.any() else None
        ),
    )
