"""Fine-tuning the sentence encoder on the catalogue, and the model built over the tuned encoder.

The recipe is ``bench/finetune_probe.py``'s, measured there: MiniLM with mean pooling trained
through a cosine-softmax head (one learned proxy a intent, ``scale`` as the inverse
temperature: a proxy-based contrastive loss that pulls each example to its intent's proxy and
away from the others'), AdamW (1e-4 for the transformer, 2e-3 for the head), batches of
similar-length texts, linear warm-up over the first tenth of the steps then linear decay.

:func:`build_tuned` keeps the model's rule of choosing everything on training data the tuned
encoder was not trained on: a *calibration* tune without a held-out share of the rows and a
quarter of the intents chooses the blend weights and the answer rule; the final tune (same
epochs) on every row is what serves.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from intents.calibration import Calibration, Rule, choose
from intents.encoder import model_dir
from intents.members import Members, TrainingConfig
from intents.model import IntentModel
from intents.onnx_encoder import CHUNK, QUANTIZED_CHUNK, OnnxEncoder, export_onnx

if TYPE_CHECKING:  # intents.build imports this module for TuningConfig
    from intents.build import BuildOptions

log = logging.getLogger(__name__)

MAX_TRAINING_TOKENS = 64  # customers' messages are short; longer examples are cut in training
WINDOW_BATCHES = 50  # texts are length-sorted within windows of this many batches
WARM_UP = 0.1  # share of the steps the learning rate ramps up over
REPORT_EVERY_S = 30.0  # a progress line at least this often within a long epoch
MIN_HELD_ROWS = 3  # an intent needs this many examples to lend some to the held-out part
Report = Callable[[str], None]


@dataclass(frozen=True)
class TuningConfig:
    """Hyper-parameters of the fine-tuning (part of the tuned graph's cache key)."""

    epochs: int = 4
    # small catalogues get more epochs, so the tuning sees at least this many batches
    min_steps: int = 150
    batch_size: int = 32
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    scale: float = 20.0  # cosine-softmax inverse temperature of the head
    seed: int = 0
    holdout: float = 0.2  # share of the rows the calibration tune never sees


def tuning_epochs(rows: int, config: TuningConfig) -> int:
    """Epochs for ``rows`` examples: ``config.epochs``, more when that is under ``min_steps``."""
    batches = max(1, math.ceil(rows / config.batch_size))
    return max(config.epochs, math.ceil(config.min_steps / batches))


def length_bucketed(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Shuffled batches of similar-length texts (half the padding, twice the speed)."""
    order = rng.permutation(len(lengths))
    window = batch_size * WINDOW_BATCHES
    batches: list[NDArray[np.int64]] = []
    for start in range(0, len(order), window):
        part = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [np.array(part[i : i + batch_size]) for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


class _Eta:
    """Progress lines "tuning epoch x/y, ETA n s", at each epoch and every ``REPORT_EVERY_S``."""

    def __init__(self, epochs: int, steps: int, report: Report | None) -> None:
        self.epochs, self.steps, self.report = epochs, steps, report
        self.start = self.last = time.perf_counter()
        self.done = 0

    def step(self, epoch: int, epoch_start: bool) -> None:
        """Called before each step of ``epoch`` (0-based)."""
        now = time.perf_counter()
        if epoch_start or now - self.last >= REPORT_EVERY_S:
            eta = "measuring"
            if self.done:
                eta = f"{(now - self.start) / self.done * (self.steps - self.done):.0f} s"
            self.say(f"tuning epoch {epoch + 1}/{self.epochs}, ETA {eta}")
            self.last = now
        self.done += 1

    def say(self, line: str) -> None:
        """Hand ``line`` to the progress callback; log it when there is none."""
        if self.report is None:
            log.info("%s", line)
        else:
            self.report(line)


def fine_tune(
    texts: Sequence[str],
    labels: Sequence[str],
    config: TuningConfig = TuningConfig(),
    progress: Report | None = None,
) -> Any:
    """MiniLM tuned on ``texts`` through a cosine-softmax head over ``labels``' intents.

    Returns the tuned transformer (a Hugging Face ``AutoModel`` in eval mode; pooling and
    normalisation are added by :func:`~intents.onnx_encoder.export_onnx`). Deterministic for a
    seed on a given machine and thread count.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(config.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    tokenizer: Any = AutoTokenizer.from_pretrained(str(model_dir()))
    model: Any = AutoModel.from_pretrained(str(model_dir()))
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    head = torch.nn.Linear(model.config.hidden_size, len(classes), bias=False)
    optimiser = torch.optim.AdamW(
        [
            {"params": model.parameters(), "lr": config.learning_rate},
            {"params": head.parameters(), "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    epochs = tuning_epochs(len(texts), config)
    steps = epochs * math.ceil(len(texts) / config.batch_size)
    warm = max(1.0, WARM_UP * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / max(1.0, steps - warm))
    )
    rows = list(texts)
    rng = np.random.default_rng(config.seed)
    eta = _Eta(epochs, steps, progress)
    model.train()
    for epoch in range(epochs):
        for number, batch in enumerate(
            length_bucketed([len(t) for t in rows], config.batch_size, rng)
        ):
            eta.step(epoch, number == 0)
            tokens = tokenizer(
                [rows[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=MAX_TRAINING_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            proxies = torch.nn.functional.normalize(head.weight, dim=-1)
            loss = torch.nn.functional.cross_entropy(
                config.scale * pooled @ proxies.T, torch.as_tensor(y[batch])
            )
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
    eta.say(f"tuned {epochs} epochs ({steps} steps) in {time.perf_counter() - eta.start:.0f} s")
    return model.eval()


@dataclass(frozen=True)
class Holdout:
    """Row numbers of a calibration split: what the calibration tune and members fit on, the
    known intents' rows they are judged on, and the rows of the intents hidden from both."""

    fit: NDArray[np.int64]
    held: NDArray[np.int64]
    unknown: NDArray[np.int64]


def holdout_split(
    labels: Sequence[str], tuning: TuningConfig, training: TrainingConfig
) -> Holdout | None:
    """A seeded split: a quarter of the intents (and every out-of-scope one) hidden, and
    ``tuning.holdout`` of each other intent's rows held out; an intent with fewer than
    ``MIN_HELD_ROWS`` examples stays whole in the fit part. None when nothing could be judged
    (no row held out, or fewer than two known intents)."""
    y = np.asarray(labels)
    classes = np.unique(y)
    rng = np.random.default_rng(tuning.seed)
    always = classes[np.isin(classes, training.out_of_scope)]
    others = rng.permutation(classes[~np.isin(classes, always)])
    hidden = np.concatenate([others[: len(others) // 4], always])
    fit: list[int] = []
    held: list[int] = []
    for intent in others[len(others) // 4 :]:
        rows = rng.permutation(np.flatnonzero(y == intent))
        count = min(round(tuning.holdout * len(rows)), len(rows) - 2)
        count = count if len(rows) >= MIN_HELD_ROWS else 0
        held += rows[:count].tolist()
        fit += rows[count:].tolist()
    if not held or len(others) - len(others) // 4 < 2:
        return None
    return Holdout(
        np.sort(np.array(fit)), np.sort(np.array(held)), np.flatnonzero(np.isin(y, hidden))
    )


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


def calibrate_tuned(
    texts: Sequence[str],
    labels: Sequence[str],
    split: Holdout,
    work: Path,
    options: BuildOptions,
    report: Report,
    quantize: bool = True,
) -> Chosen:
    """Blend weights and answer rule chosen over an encoder tuned without the held-out rows
    and the hidden intents, judged on those (embedded by its int8 graph, as serving would)."""
    t, y = np.asarray(texts, dtype=object), np.asarray(labels)
    transformer = fine_tune(t[split.fit].tolist(), y[split.fit].tolist(), options.tuning, report)
    graph = export_tuned(transformer, work, quantize)
    del transformer
    try:
        embeddings = encode_with(graph, quantize, texts)
    finally:
        graph.unlink()
    members = Members.fit(t[split.fit], embeddings[split.fit], y[split.fit], options.config)
    truth = np.searchsorted(np.unique(y[split.fit]), y[split.held])
    known = members.scores(t[split.held], embeddings[split.held])
    unknown = None
    if len(split.unknown):
        unknown = [members.scores(t[split.unknown], embeddings[split.unknown])]
    return choose(known, truth, unknown, options.config)


def build_tuned(
    texts: Sequence[str],
    labels: Sequence[str],
    cache_dir: Path,
    options: BuildOptions,
    progress: bool = False,
) -> tuple[Path, IntentModel]:
    """Tune, calibrate and export the tuned encoder; returns its graph and the model over it.

    Weights and rule come from a calibration tune (:func:`calibrate_tuned`); the final tune,
    on every row for as many epochs, is exported to ``tuned_encoder_path`` and the members are
    refitted on its embeddings of every row. A catalogue too small to hold anything out keeps
    the frozen model's weights and rule.
    """
    from intents.build import frozen_model, tuned_encoder_path, tuned_quantized  # import cycle

    path = tuned_encoder_path(texts, labels, cache_dir, options)
    quantize = tuned_quantized(options)
    # both tunes run the epochs the whole catalogue needs: calibration sees the final's overfit
    epochs = tuning_epochs(len(texts), options.tuning)
    options = replace(options, tuning=replace(options.tuning, epochs=epochs, min_steps=0))
    split = holdout_split(labels, options.tuning, options.config)
    with tqdm(total=2, desc="fine-tuning", unit="tune", disable=None if progress else True) as bar:

        def stage(name: str) -> Report:
            def report(line: str) -> None:
                log.info("%s tune: %s", name, line)
                bar.set_postfix_str(line)

            return report

        if split is None:
            log.warning(
                "too few examples to hold any out for calibration (an intent needs %d, and two "
                "intents must stay known): the tuned model keeps the frozen model's blend "
                "weights and answer rule",
                MIN_HELD_ROWS,
            )
            frozen = frozen_model(texts, labels, cache_dir, options, progress)
            chosen: Chosen = (frozen.weights, frozen.rule, frozen.calibration)
        else:
            work = path.with_name(f"{path.stem}.{os.getpid()}.calibration.onnx")
            chosen = calibrate_tuned(
                texts, labels, split, work, options, stage("calibration"), quantize
            )
        bar.update(1)
        transformer = fine_tune(texts, labels, options.tuning, stage("final"))
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
