"""Training the intent model: two heads, their blend and the answer threshold.

The model blends the class probabilities of three members: a logistic regression on frozen
MiniLM sentence embeddings, one on TF-IDF word and character n-grams, and a nearest-neighbour
vote (the most similar training example of each intent). Everything is chosen on the
*training* data only, never on evaluation data:

- the blend weights maximise out-of-fold accuracy (k-fold cross-validation);
- the confidence threshold is the higher of two: the lowest confidence at which out-of-fold
  answers still reach the target precision, and the confidence below which the target share of
  messages about *unknown* intents falls. Unknown intents are simulated by training without a
  group of intents and scoring that group's examples, for each of a few groups.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bot.contracts import Prediction
from intents import tfidf

RANKING_SIZE = 5
WEIGHT_STEPS = 10  # blend weights are multiples of 1/10 summing to 1
FALLBACK_THRESHOLD = 0.5  # when the data is too small to cross-validate
FALLBACK_WEIGHTS = (0.4, 0.3, 0.3)
OOS_LABEL = "oos"  # a training label meaning "no intent": always escalated

Floats = NDArray[np.float64]
Texts = Sequence[str] | NDArray[np.object_]
Labels = Sequence[str] | NDArray[np.str_]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class EngineConfig:
    """Hyper-parameters of the intent model (part of the cache key)."""

    embed_c: float = 10.0
    lexical_c: float = 20.0
    neighbour_temperature: float = 0.02
    folds: int = 5
    target_precision: float = 0.98
    unknown_groups: int = 4
    target_unknown_escalated: float = 0.75
    seed: int = 0


def softmax(scores: Floats) -> Floats:
    """Row-wise softmax."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: Floats = exp / exp.sum(axis=1, keepdims=True)
    return result


def probabilities(model: LogisticRegression, features: Any) -> Floats:
    """``model.predict_proba`` without sklearn's per-call checks (they dominate for one row)."""
    scores = np.asarray(features @ model.coef_.T) + model.intercept_
    if scores.shape[1] == 1:  # two classes: one logistic score
        positive = 1 / (1 + np.exp(-scores[:, 0]))
        return np.column_stack([1 - positive, positive])
    return softmax(scores)


@dataclass
class LexicalHead:
    """Logistic regression on TF-IDF word 1-2-grams and character 2-5-grams."""

    words: TfidfVectorizer
    chars: TfidfVectorizer
    model: LogisticRegression

    @classmethod
    def fit(cls, texts: Texts, labels: Labels, c: float) -> LexicalHead:
        """Fit the vectorisers and the classifier."""
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                min_df=2)
        rows = list(texts)
        features = sparse.hstack([words.fit_transform(rows), chars.fit_transform(rows)]).tocsr()
        return cls(words, chars, LogisticRegression(C=c, max_iter=3000).fit(features, labels))

    def predict_proba(self, texts: Texts) -> Floats:
        """Class probabilities, one row per text."""
        return probabilities(self.model, tfidf.transform([self.words, self.chars], list(texts)))


@dataclass
class NeighbourHead:
    """Each intent scored by its most similar training example (cosine), as a softmax."""

    examples: NDArray[np.float32]  # unit columns, grouped by intent in label order
    starts: NDArray[np.int64]  # first column of each intent
    temperature: float

    @classmethod
    def fit(cls, embeddings: Floats, labels: Labels, temperature: float) -> NeighbourHead:
        """Keep the training embeddings, grouped by intent."""
        y = np.asarray(labels)
        order = np.argsort(y, kind="stable")
        starts = np.searchsorted(y[order], np.unique(y)).astype(np.int64)
        # Stored transposed and contiguous: a query row times it is one fast BLAS call.
        examples = np.ascontiguousarray(np.asarray(embeddings[order], dtype=np.float32).T)
        return cls(examples, starts, temperature)

    def predict_proba(self, embeddings: Floats) -> Floats:
        """Class probabilities, one row per embedding."""
        similarity = np.asarray(embeddings, dtype=np.float32) @ self.examples
        best = np.maximum.reduceat(similarity, self.starts, axis=1).astype(np.float64)
        return softmax(best / self.temperature)


@dataclass
class Heads:
    """The fitted members, over the same label order."""

    embed: LogisticRegression
    lexical: LexicalHead
    neighbour: NeighbourHead

    @classmethod
    def fit(cls, texts: Texts, embeddings: Floats, labels: Labels,
            config: EngineConfig) -> Heads:
        """Fit every member on the same rows."""
        embed = LogisticRegression(C=config.embed_c, max_iter=3000).fit(embeddings, labels)
        return cls(embed=embed, lexical=LexicalHead.fit(texts, labels, config.lexical_c),
                   neighbour=NeighbourHead.fit(embeddings, labels,
                                               config.neighbour_temperature))

    def probabilities(self, texts: Texts, embeddings: Floats) -> list[Floats]:
        """Each member's class probabilities, one row per text."""
        return [probabilities(self.embed, embeddings), self.lexical.predict_proba(texts),
                self.neighbour.predict_proba(embeddings)]


def blend(members: Sequence[Floats], weights: Sequence[float]) -> Floats:
    """The weighted average of the members' probabilities."""
    result: Floats = sum((w * p for w, p in zip(weights, members, strict=True)),
                         np.zeros_like(members[0]))
    return result


@dataclass(frozen=True)
class Calibration:
    """How the threshold was chosen, as measured on the training data."""

    precision_threshold: float
    unknown_threshold: float
    out_of_fold_accuracy: float | None = None


@dataclass
class IntentModel:
    """A trained model: heads, blend weight, threshold. Picklable, read-only once trained."""

    heads: Heads
    labels: list[str]
    weights: tuple[float, ...]
    threshold: float
    calibration: Calibration | None = None

    def probabilities(self, texts: Sequence[str], embeddings: Floats) -> Floats:
        """Blended class probabilities, one row per text."""
        return blend(self.heads.probabilities(texts, embeddings), self.weights)

    def predict(self, texts: Sequence[str], embeddings: Floats) -> list[Prediction]:
        """One :class:`Prediction` per text."""
        return [self.prediction(row) for row in self.probabilities(texts, embeddings)]

    def prediction(self, row: Floats) -> Prediction:
        """The prediction for one row of blended probabilities."""
        order = np.argsort(row)[::-1][:RANKING_SIZE]
        ranking = tuple((self.labels[i], float(row[i])) for i in order)
        intent, confidence = ranking[0]
        confident = confidence >= self.threshold and intent != OOS_LABEL
        return Prediction(intent=intent, confidence=confidence, confident=confident,
                          ranking=ranking)


def out_of_fold(texts: Sequence[str], embeddings: Floats, labels: Sequence[str],
                config: EngineConfig, progress: Progress | None = None
                ) -> list[Floats] | None:
    """Each member's out-of-fold probabilities over the training rows (None: too few rows)."""
    y = np.asarray(labels)
    folds = min(config.folds, int(np.unique(y, return_counts=True)[1].min()))
    if folds < 2:
        return None
    members: list[Floats] | None = None
    text_array = np.asarray(texts, dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for number, (fit, held) in enumerate(splitter.split(text_array, y), start=1):
        if progress:
            progress(f"cross-validation fold {number}/{folds}")
        heads = Heads.fit(text_array[fit], embeddings[fit], y[fit], config)
        fold = heads.probabilities(text_array[held], embeddings[held])
        if members is None:
            members = [np.zeros((len(y), p.shape[1])) for p in fold]
        for oof, part in zip(members, fold, strict=True):
            oof[held] = part
    return members


def weight_grid(members: int) -> list[tuple[float, ...]]:
    """Every blend of ``members`` weights in steps of 1/``WEIGHT_STEPS`` summing to 1."""
    grid = [steps for steps in itertools.product(range(WEIGHT_STEPS + 1), repeat=members)
            if sum(steps) == WEIGHT_STEPS]
    return [tuple(step / WEIGHT_STEPS for step in steps) for steps in grid]


def choose_weights(members: Sequence[Floats], truth: NDArray[np.int64]) -> tuple[float, ...]:
    """The blend with the best out-of-fold accuracy (ties: the more even blend)."""
    even = 1 / len(members)

    def score(weights: tuple[float, ...]) -> tuple[float, float]:
        accuracy = float((blend(members, weights).argmax(1) == truth).mean())
        return accuracy, -sum((w - even) ** 2 for w in weights)

    return max(weight_grid(len(members)), key=score)


def choose_threshold(confidence: Floats, correct: NDArray[np.bool_], target: float) -> float:
    """The lowest confidence whose answers (confidence >= it) reach ``target`` precision."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    reaching = np.flatnonzero(precision >= target)
    if len(reaching) == 0:
        return 1.0
    return float(confidence[order][reaching.max()])


def unknown_confidence(texts: Sequence[str], embeddings: Floats, labels: Sequence[str],
                       weights: Sequence[float], config: EngineConfig,
                       progress: Progress | None = None) -> Floats | None:
    """Blended top confidence on examples of intents hidden from training (None: too few)."""
    y = np.asarray(labels)
    classes = np.unique(y)
    groups = min(config.unknown_groups, len(classes) // 2)
    if groups < 2:
        return None
    shuffled = np.random.default_rng(config.seed).permutation(classes)
    text_array = np.asarray(texts, dtype=object)
    confidences = []
    for number, hidden in enumerate(np.array_split(shuffled, groups), start=1):
        if progress:
            progress(f"unknown-intent simulation {number}/{groups}")
        unseen = np.isin(y, hidden)
        heads = Heads.fit(text_array[~unseen], embeddings[~unseen], y[~unseen], config)
        members = heads.probabilities(text_array[unseen], embeddings[unseen])
        confidences.append(blend(members, weights).max(1))
    return np.concatenate(confidences)


def calibrate(texts: Sequence[str], labels: Sequence[str], embeddings: Floats,
              config: EngineConfig, progress: Progress | None = None
              ) -> tuple[tuple[float, ...], float, Calibration | None]:
    """Blend weights, threshold and how they were found, from the training data alone."""
    classes = [str(c) for c in np.unique(np.asarray(labels))]
    truth = np.searchsorted(classes, np.asarray(labels))
    members = out_of_fold(texts, embeddings, labels, config, progress)
    if members is None:
        return FALLBACK_WEIGHTS, FALLBACK_THRESHOLD, None
    weights = choose_weights(members, truth)
    blended = blend(members, weights)
    correct = blended.argmax(1) == truth
    by_precision = choose_threshold(blended.max(1), correct, config.target_precision)
    unknown = unknown_confidence(texts, embeddings, labels, weights, config, progress)
    by_unknown = (0.0 if unknown is None
                  else float(np.quantile(unknown, config.target_unknown_escalated)))
    calibration = Calibration(precision_threshold=by_precision, unknown_threshold=by_unknown,
                              out_of_fold_accuracy=float(correct.mean()))
    return weights, max(by_precision, by_unknown), calibration


def train(texts: Sequence[str], labels: Sequence[str], embeddings: Floats,
          config: EngineConfig = EngineConfig(), progress: Progress | None = None) -> IntentModel:
    """Choose weights and threshold on the training data, then fit on all rows."""
    weights, threshold, calibration = calibrate(texts, labels, embeddings, config, progress)
    if progress:
        progress("fitting on all training rows")
    heads = Heads.fit(texts, embeddings, labels, config)
    classes = [str(c) for c in np.unique(np.asarray(labels))]
    return IntentModel(heads=heads, labels=classes, weights=weights, threshold=threshold,
                       calibration=calibration)
