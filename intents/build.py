"""Building the serving classifier: encoder, training, and the on-disk cache.

A trained model is cached under ``<cache>/models/<key>.joblib``, where the key hashes the
training texts and labels, the training settings, ``MODEL_VERSION`` and the library versions
that shape the model; the exported ONNX encoder is cached under ``<cache>/encoders/``.
``omnibot serve`` starts from the cache; ``omnibot train`` rebuilds it. The encoder fine-tuned
on a catalogue and its model (:mod:`intents.tuned_model`) are cached beside them:
``<cache>/encoders/tuned-<hash>.v<EXPORT>.onnx`` and ``<cache>/models/<key>-tuned-<hash>….joblib``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import joblib
import numpy as np
import sklearn
from numpy.typing import NDArray
from tqdm import tqdm

from intents.calibration import Rule
from intents.classifier import BatchedClassifier
from intents.encoder import Encoder, MiniLMEncoder
from intents.members import TrainingConfig
from intents.model import IntentModel, train
from intents.onnx_encoder import CHUNK, EXPORT_VERSION, QUANTIZED_CHUNK, OnnxEncoder, export_onnx
from intents.tuning import TuningConfig

log = logging.getLogger(__name__)

# Part of the cache key: bump it whenever a pickled model would no longer load or mean the same
# (8: intents.engine became intents.model, Heads became Members).
MODEL_VERSION = 10
ENCODERS = ("onnx-int8", "onnx", "torch")
ENCODE_CHUNK = 256
FROZEN = "frozen"  # the model name of a classifier over the bundled encoder
# Rough times on an idle 2-core machine, said only when the work is about to happen (a busy
# machine takes two or three times longer): the export, and training per 1,000 examples
# (BANKING77's 10,003 took 200 s) plus a fixed part (cross-validation rounds).
EXPORT_ESTIMATE_S = 15
TRAIN_ESTIMATE_S = 15
TRAIN_ESTIMATE_S_PER_1K = 19


@dataclass(frozen=True)
class BuildOptions:
    """How to build the classifier: which encoder, which hyper-parameters, which threshold."""

    encoder: str = "onnx-int8"
    config: TrainingConfig = field(default_factory=TrainingConfig)
    threshold: float | None = None  # None: the threshold chosen on the training data
    fine_tune: bool = False  # serve the encoder fine-tuned on the catalogue once it is built
    tuning: TuningConfig = field(default_factory=TuningConfig)


class NamedClassifier(BatchedClassifier):
    """A :class:`BatchedClassifier` that says which model it serves: ``frozen`` (the bundled
    encoder) or ``tuned-<hash>`` (the encoder fine-tuned on the catalogue)."""

    def __init__(self, encoder: Encoder, model: IntentModel, model_name: str) -> None:
        super().__init__(encoder, model)
        self.model_name = model_name


def make_encoder(kind: str, cache_dir: Path) -> Encoder:
    """The encoder ``kind`` (exporting the ONNX graph into the cache on first use)."""
    if kind == "torch":
        return MiniLMEncoder()
    if kind not in ENCODERS:
        raise ValueError(f"unknown encoder {kind!r}; choose one of {', '.join(ENCODERS)}")
    quantized = kind == "onnx-int8"
    path = cache_dir / "encoders" / f"minilm-{kind}.v{EXPORT_VERSION}.onnx"
    if not path.exists():
        log.info(
            "exporting the encoder to %s ONNX (first start only; about %d s, "
            "longer on a busy machine)…",
            "int8" if quantized else "float32",
            EXPORT_ESTIMATE_S,
        )
        start = time.perf_counter()
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.onnx")
        export_onnx(partial, quantize=quantized)
        partial.replace(path)
        log.info("encoder ready in %.1f s (cached as %s)", time.perf_counter() - start, path.name)
    return OnnxEncoder(path, QUANTIZED_CHUNK if quantized else CHUNK)


def training_estimate_s(examples: int) -> int:
    """Roughly how long training on ``examples`` takes on an idle 2-core machine (10 s steps)."""
    seconds = TRAIN_ESTIMATE_S + TRAIN_ESTIMATE_S_PER_1K * examples / 1000
    return max(10, round(seconds / 10) * 10)


def cache_key(texts: Sequence[str], labels: Sequence[str], options: BuildOptions) -> str:
    """A hash of everything that determines the trained model."""
    payload = json.dumps(
        {
            "texts": list(texts),
            "labels": list(labels),
            "config": asdict(options.config),
            "encoder": options.encoder,
            "export": EXPORT_VERSION,
            "model": MODEL_VERSION,
            "sklearn": sklearn.__version__,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def encode_all(
    encoder: Encoder, texts: Sequence[str], progress: bool = False
) -> NDArray[np.float64]:
    """Embed many texts in chunks, with a progress bar when asked."""
    chunks = [list(texts[i : i + ENCODE_CHUNK]) for i in range(0, len(texts), ENCODE_CHUNK)]
    rows = [
        encoder.encode(chunk)
        for chunk in tqdm(chunks, desc="encoding", unit="chunk", disable=not progress)
    ]
    return np.vstack(rows).astype(np.float64) if rows else np.zeros((0, 384))


def train_model(
    encoder: Encoder,
    texts: Sequence[str],
    labels: Sequence[str],
    config: TrainingConfig,
    progress: bool = False,
) -> IntentModel:
    """Encode the training texts and train the model."""
    embeddings = encode_all(encoder, texts, progress)
    steps = tqdm(
        total=config.folds + config.unknown_groups + 1,
        desc="training",
        unit="fit",
        disable=not progress,
    )
    with steps:

        def advance(message: str) -> None:
            steps.set_postfix_str(message)
            steps.update(1)

        return train(texts, labels, embeddings, config, advance)


def load_cached(path: Path) -> IntentModel | None:
    """The model cached at ``path``; None when there is none or it cannot be read."""
    if not path.exists():
        return None
    try:
        model = joblib.load(path)
    except Exception:  # a truncated file, or classes an older omnibot pickled: retrain
        log.warning("cached model %s is unreadable; training it again", path.name)
        return None
    return model if isinstance(model, IntentModel) else None


def save_model(model: IntentModel, path: Path) -> None:
    """Cache ``model`` at ``path`` whole or not at all (a partial file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
    joblib.dump(model, partial)
    partial.replace(path)


def trained_model(
    encoder: Encoder,
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions,
    rebuild: bool = False,
    progress: bool = False,
) -> IntentModel:
    """The model over the bundled (frozen) encoder: from the cache, or trained and cached."""
    path = cache_dir / "models" / f"{cache_key(texts, labels, options)}.joblib"
    model = None if rebuild else load_cached(path)
    if model is not None:
        log.info("loaded the cached model %s", path.name)
        return model
    log.info(
        "training %d intents on %d examples (about %d s, longer on a busy machine; "
        "cached for later starts)…",
        len(set(labels)),
        len(texts),
        training_estimate_s(len(texts)),
    )
    start = time.perf_counter()
    model = train_model(encoder, texts, labels, options.config, progress)
    save_model(model, path)
    log.info("trained in %.1f s (cached as %s)", time.perf_counter() - start, path.name)
    return model


def frozen_model(
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions,
    progress: bool = False,
) -> IntentModel:
    """The model over the frozen encoder (cached, or trained now), without serving it."""
    encoder = make_encoder(options.encoder, cache_dir)
    try:
        return trained_model(encoder, texts, labels, cache_dir, options, progress=progress)
    finally:
        encoder.close()


def fixed_threshold(model: IntentModel, options: BuildOptions) -> IntentModel:
    """``model`` with ``CONFIDENCE_THRESHOLD``'s fixed threshold alone, when one is set."""
    if options.threshold is None:
        return model
    return replace(model, rule=Rule(options.threshold))


def build_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions = BuildOptions(),
    rebuild: bool = False,
    progress: bool = False,
    tune: bool = False,
) -> NamedClassifier:
    """The classifier for this training data: from the cache, or trained and cached.

    With ``options.fine_tune``: over the encoder fine-tuned on the catalogue when it is cached,
    or tuned now when ``tune``; otherwise (and until then) over the bundled, frozen encoder.
    """
    if options.fine_tune:
        from intents.tuned_model import tuned_classifier  # it builds on this module

        tuned = tuned_classifier(texts, labels, cache_dir, options, rebuild, progress, tune)
        if tuned is not None:
            return tuned
    encoder = make_encoder(options.encoder, cache_dir)
    model = trained_model(encoder, texts, labels, cache_dir, options, rebuild, progress)
    return NamedClassifier(encoder, fixed_threshold(model, options), FROZEN)
