"""Training the intent model: two heads, their blend and the answer threshold.

The model averages the class probabilities of a logistic regression on frozen MiniLM sentence
embeddings and one on TF-IDF word and character n-grams. Everything is chosen on the *training*
data only, never on evaluation data:

- the blend weight maximises out-of-fold accuracy (k-fold cross-validation);
- the confidence threshold is the higher of two: the lowest confidence at which out-of-fold
  answers still reach the target precision, and the confidence below which the target share of
  messages about *unknown* intents falls. Unknown intents are simulated by training without a
  group of intents and scoring that group's examples, for each of a few groups.
"""

from __future__ import annotations

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

RANKING_SIZE = 5
WEIGHT_GRID = tuple(round(w / 10, 1) for w in range(11))
FALLBACK_THRESHOLD = 0.5  # when the data is too small to cross-validate
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
    folds: int = 5
    target_precision: float = 0.98
    unknown_groups: int = 4
    target_unknown_escalated: float = 0.75
    seed: int = 0


def probabilities(model: LogisticRegression, features: Any) -> Floats:
    """``model.predict_proba`` without sklearn's per-call checks (they dominate for one row)."""
    scores = np.asarray(features @ model.coef_.T) + model.intercept_
    if scores.shape[1] == 1:  # two classes: one logistic score
        positive = 1 / (1 + np.exp(-scores[:, 0]))
        return np.column_stack([1 - positive, positive])
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    result: Floats = exp / exp.sum(axis=1, keepdims=True)
    return result


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
        rows = list(texts)
        features = sparse.hstack([self.words.transform(rows),
                                  self.chars.transform(rows)]).tocsr()
        return probabilities(self.model, features)


@dataclass
class Heads:
    """The two fitted classifiers, over the same label order."""

    embed: LogisticRegression
    lexical: LexicalHead

    @classmethod
    def fit(cls, texts: Texts, embeddings: Floats, labels: Labels,
            config: EngineConfig) -> Heads:
        """Fit both heads on the same rows."""
        embed = LogisticRegression(C=config.embed_c, max_iter=3000).fit(embeddings, labels)
        return cls(embed=embed, lexical=LexicalHead.fit(texts, labels, config.lexical_c))

    def probabilities(self, texts: Texts, embeddings: Floats) -> tuple[Floats, Floats]:
        """Each head's class probabilities, one row per text."""
        return probabilities(self.embed, embeddings), self.lexical.predict_proba(texts)


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
    weight: float
    threshold: float
    calibration: Calibration | None = None

    def probabilities(self, texts: Sequence[str], embeddings: Floats) -> Floats:
        """Blended class probabilities, one row per text."""
        embed, lexical = self.heads.probabilities(texts, embeddings)
        return self.weight * embed + (1 - self.weight) * lexical

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
                ) -> tuple[Floats, Floats] | None:
    """Each head's out-of-fold probabilities over the training rows (None: too few rows)."""
    y = np.asarray(labels)
    folds = min(config.folds, int(np.unique(y, return_counts=True)[1].min()))
    if folds < 2:
        return None
    classes = np.unique(y)
    embed_oof = np.zeros((len(y), len(classes)))
    lexical_oof = np.zeros_like(embed_oof)
    text_array = np.asarray(texts, dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for number, (fit, held) in enumerate(splitter.split(text_array, y), start=1):
        if progress:
            progress(f"cross-validation fold {number}/{folds}")
        heads = Heads.fit(text_array[fit], embeddings[fit], y[fit], config)
        embed, lexical = heads.probabilities(text_array[held], embeddings[held])
        embed_oof[held], lexical_oof[held] = embed, lexical
    return embed_oof, lexical_oof


def choose_weight(embed: Floats, lexical: Floats, truth: NDArray[np.int64]) -> float:
    """The blend weight with the best out-of-fold accuracy (ties: the more even blend)."""
    def score(w: float) -> tuple[float, float]:
        accuracy = float(((w * embed + (1 - w) * lexical).argmax(1) == truth).mean())
        return accuracy, -abs(w - 0.5)

    return max(WEIGHT_GRID, key=score)


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
                       weight: float, config: EngineConfig,
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
        embed, lexical = heads.probabilities(text_array[unseen], embeddings[unseen])
        confidences.append((weight * embed + (1 - weight) * lexical).max(1))
    return np.concatenate(confidences)


def calibrate(texts: Sequence[str], labels: Sequence[str], embeddings: Floats,
              config: EngineConfig, progress: Progress | None = None
              ) -> tuple[float, float, Calibration | None]:
    """Blend weight, threshold and how they were found, from the training data alone."""
    classes = [str(c) for c in np.unique(np.asarray(labels))]
    truth = np.searchsorted(classes, np.asarray(labels))
    oof = out_of_fold(texts, embeddings, labels, config, progress)
    if oof is None:
        return 0.5, FALLBACK_THRESHOLD, None
    weight = choose_weight(*oof, truth)
    blended = weight * oof[0] + (1 - weight) * oof[1]
    correct = blended.argmax(1) == truth
    by_precision = choose_threshold(blended.max(1), correct, config.target_precision)
    unknown = unknown_confidence(texts, embeddings, labels, weight, config, progress)
    by_unknown = (0.0 if unknown is None
                  else float(np.quantile(unknown, config.target_unknown_escalated)))
    calibration = Calibration(precision_threshold=by_precision, unknown_threshold=by_unknown,
                              out_of_fold_accuracy=float(correct.mean()))
    return weight, max(by_precision, by_unknown), calibration


def train(texts: Sequence[str], labels: Sequence[str], embeddings: Floats,
          config: EngineConfig = EngineConfig(), progress: Progress | None = None) -> IntentModel:
    """Choose weight and threshold on the training data, then fit on all rows."""
    weight, threshold, calibration = calibrate(texts, labels, embeddings, config, progress)
    if progress:
        progress("fitting on all training rows")
    heads = Heads.fit(texts, embeddings, labels, config)
    classes = [str(c) for c in np.unique(np.asarray(labels))]
    return IntentModel(heads=heads, labels=classes, weight=weight, threshold=threshold,
                       calibration=calibration)
