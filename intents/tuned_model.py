"""The model over an encoder fine-tuned on the catalogue: its tunes, its cache.

:func:`build_tuned` keeps the model's rule of choosing everything on training data the tuned
encoder was not trained on: *calibration* tunes, each without some held-out rows and a group of
intents (:mod:`intents.tuning_splits`: one tune for a big catalogue, several cross-fitted ones
for a small one), choose the blend weights and the answer rule on those rows pooled; the final
tune (same epochs) on every row is what serves. The tuned graph is cached as
``<cache>/encoders/tuned-<hash>.v<EXPORT>.onnx`` (the hash of the catalogue and the tuning
settings) and its model beside the frozen ones (:mod:`intents.build`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from intents.build import (
    BuildOptions,
    NamedClassifier,
    cache_key,
    fixed_threshold,
    frozen_model,
    load_cached,
    save_model,
)
from intents.calibration import Calibration, Rule, choose_pooled
from intents.members import Members, Scores
from intents.model import IntentModel
from intents.onnx_encoder import CHUNK, EXPORT_VERSION, QUANTIZED_CHUNK, OnnxEncoder, export_onnx
from intents.tuning import Report, fine_tune, tuning_epochs, tuning_key
from intents.tuning_splits import MIN_HELD_ROWS, Holdout, calibration_splits

log = logging.getLogger(__name__)

TUNING_VERSION = 2  # part of a tuned graph's name: bump when the tuning recipe changes


def export_tuned(transformer: Any, target: Path, quantize: bool) -> Path:
    """Export ``transformer`` to ``target`` whole or not at all (a partial file, then a rename)."""
    partial = target.with_name(f"{target.stem}.{os.getpid()}.partial.onnx")
    export_onnx(partial, quantize=quantize, transformer=transformer)
    return partial.replace(target)


def encode_with(graph: Path, quantize: bool, texts: Sequence[str]) -> NDArray[np.float64]:
    """Embed ``texts`` with the exported ``graph`` (as it will serve)."""
    encoder = OnnxEncoder(graph, QUANTIZED_CHUNK if quantize else CHUNK)
    try:
        return encoder.encode(list(texts)).astype(np.float64)
    finally:
        encoder.close()


Chosen = tuple[tuple[float, ...], Rule, Calibration | None]


Judged = tuple[Scores, NDArray[np.int64], Scores | None]


def calibration_scores(
    texts: Sequence[str],
    labels: Sequence[str],
    split: Holdout,
    work: Path,
    options: BuildOptions,
    report: Report,
    quantize: bool = True,
) -> Judged:
    """One calibration tune: the encoder tuned without ``split``'s held-out rows and hidden
    intents, and the scores of those rows (known, with their label indices in the tune's
    classes; unknown) by members fitted on its int8 embeddings of the rest, as serving would."""
    t, y = np.asarray(texts, dtype=object), np.asarray(labels)
    transformer = fine_tune(t[split.fit].tolist(), y[split.fit].tolist(), options.tuning, report)
    graph = export_tuned(transformer, work, quantize)
    del transformer
    try:
        embeddings = encode_with(graph, quantize, texts)  # every row is fit, held or unknown
    finally:
        graph.unlink()
    members = Members.fit(t[split.fit], embeddings[split.fit], y[split.fit], options.config)
    truth = np.searchsorted(np.unique(y[split.fit]), y[split.held])
    known = members.scores(t[split.held], embeddings[split.held])
    unknown = None
    if len(split.unknown):
        unknown = members.scores(t[split.unknown], embeddings[split.unknown])
    return known, truth, unknown


def choose_tuned(judged: Sequence[Judged], options: BuildOptions) -> Chosen:
    """Blend weights and answer rule chosen on every calibration tune's scores together."""
    unknown = [u for _, _, u in judged if u is not None]
    return choose_pooled(
        [k for k, _, _ in judged], [t for _, t, _ in judged], unknown or None, options.config
    )


def stage(name: str, bar: Any) -> Report:
    """The progress callback of one tune: logged, and shown on the progress ``bar``."""

    def report(line: str) -> None:
        log.info("%s tune: %s", name, line)
        bar.set_postfix_str(line)

    return report


def calibrate(
    texts: Sequence[str],
    labels: Sequence[str],
    splits: Sequence[Holdout],
    work: Path,
    options: BuildOptions,
    bar: Any,
) -> Chosen:
    """Blend weights and answer rule from one calibration tune per split, pooled."""
    judged = []
    for number, split in enumerate(splits, start=1):
        name = "calibration" if len(splits) == 1 else f"calibration {number}/{len(splits)}"
        report = stage(name, bar)
        judged.append(
            calibration_scores(
                texts, labels, split, work, options, report, tuned_quantized(options)
            )
        )
        bar.update(1)
    return choose_tuned(judged, options)


def build_tuned(
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions,
    progress: bool = False,
) -> tuple[Path, IntentModel]:
    """Tune, calibrate and export the tuned encoder; returns its graph and the model over it.

    Weights and rule come from the calibration tunes (:func:`calibrate`); the final tune, on
    every row for as many epochs, is exported to ``tuned_encoder_path`` and the members are
    refitted on its embeddings of every row. A catalogue too small to hold anything out keeps
    the frozen model's weights and rule.
    """
    path = tuned_encoder_path(texts, labels, cache_dir, options)
    quantize = tuned_quantized(options)
    # every tune runs the epochs the whole catalogue needs: calibration sees the final's overfit
    epochs = tuning_epochs(len(texts), options.tuning)
    options = replace(options, tuning=replace(options.tuning, epochs=epochs, min_steps=0))
    splits = calibration_splits(labels, options.tuning, options.config)
    total = len(splits) + 1
    with tqdm(
        total=total, desc="fine-tuning", unit="tune", disable=None if progress else True
    ) as bar:
        if splits:
            work = path.with_name(f"{path.stem}.{os.getpid()}.calibration.onnx")
            chosen = calibrate(texts, labels, splits, work, calibration_options(options), bar)
        else:
            chosen = frozen_choice(texts, labels, cache_dir, options, progress)
        transformer = fine_tune(texts, labels, options.tuning, stage("final", bar))
        export_tuned(transformer, path, quantize)
        bar.update(1)
    del transformer
    embeddings = encode_with(path, quantize, texts)
    weights, rule, calibration = chosen
    return path, IntentModel(
        members=Members.fit(texts, embeddings, labels, options.config),
        labels=[str(c) for c in np.unique(np.asarray(labels))],
        weights=weights,
        rule=rule,
        calibration=calibration,
    )


def calibration_options(options: BuildOptions) -> BuildOptions:
    """``options`` for the calibration tunes: ``tuning.calibration_epochs`` of the final
    tune's epochs (at least one)."""
    tuning = options.tuning
    epochs = max(1, round(tuning.epochs * tuning.calibration_epochs))
    return replace(options, tuning=replace(tuning, epochs=epochs))


def frozen_choice(
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions,
    progress: bool,
) -> Chosen:
    """The frozen model's weights and rule, for a catalogue too small to hold any rows out."""
    log.warning(
        "too few examples to hold any out for calibration (an intent needs %d, and two "
        "intents must stay known): the tuned model keeps the frozen model's blend "
        "weights and answer rule",
        MIN_HELD_ROWS,
    )
    frozen = frozen_model(texts, labels, cache_dir, options, progress)
    return frozen.weights, frozen.rule, frozen.calibration


def tuned_encoder_path(
    texts: Sequence[str], labels: Sequence[str], cache_dir: Path, options: BuildOptions
) -> Path:
    """Where the encoder fine-tuned on this catalogue is cached: named by a hash of everything
    that shapes it (the catalogue, the tuning, the export recipe)."""
    payload = json.dumps(
        {
            "texts": list(texts),
            "labels": list(labels),
            # all but the thread count (it changes the tune only by rounding): one graph for all
            "tuning": tuning_key(options.tuning),
            "quantized": tuned_quantized(options),
            "export": EXPORT_VERSION,
            "recipe": TUNING_VERSION,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return cache_dir / "encoders" / f"tuned-{digest}.v{EXPORT_VERSION}.onnx"


def tuned_quantized(options: BuildOptions) -> bool:
    """Whether the tuned graph is int8 (``ENCODER=onnx-int8``); else float32 ONNX, for
    ``torch`` too (a tuned model is served from ONNX only)."""
    return options.encoder == "onnx-int8"


def tuned_model_path(
    texts: Sequence[str], labels: Sequence[str], cache_dir: Path, options: BuildOptions
) -> Path:
    """Where the model trained over the tuned encoder is cached (beside the frozen ones)."""
    graph = tuned_encoder_path(texts, labels, cache_dir, options)
    return cache_dir / "models" / f"{cache_key(texts, labels, options)}-{graph.stem}.joblib"


def tuned_ready(
    texts: Sequence[str], labels: Sequence[str], cache_dir: Path, options: BuildOptions
) -> bool:
    """Whether the fine-tuned encoder and its trained model are both cached."""
    # the graph is written before the model, each atomically: both there means both whole
    return (
        tuned_encoder_path(texts, labels, cache_dir, options).exists()
        and tuned_model_path(texts, labels, cache_dir, options).exists()
    )


def tuned_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions,
    rebuild: bool = False,
    progress: bool = False,
    tune: bool = False,
) -> NamedClassifier | None:
    """The classifier over the tuned encoder: cached, or tuned now when ``tune`` (None: not
    built, and not asked to tune)."""
    graph = tuned_encoder_path(texts, labels, cache_dir, options)
    path = tuned_model_path(texts, labels, cache_dir, options)
    model = None if rebuild or not graph.exists() else load_cached(path)
    if model is not None:
        log.info("loaded the cached fine-tuned model %s", path.name)
    elif not tune:
        log.info("the encoder fine-tuned on this catalogue is not built yet: the frozen one serves")
        return None
    else:
        start = time.perf_counter()
        graph, model = build_tuned(texts, labels, cache_dir, options, progress)
        save_model(model, path)
        log.info("fine-tuned in %.1f s (cached as %s)", time.perf_counter() - start, graph.name)
    chunk = QUANTIZED_CHUNK if tuned_quantized(options) else CHUNK
    return NamedClassifier(
        OnnxEncoder(graph, chunk), fixed_threshold(model, options), graph.stem.split(".")[0]
    )
