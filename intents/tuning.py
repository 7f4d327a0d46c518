"""Fine-tuning the sentence encoder on the catalogue (a cosine-softmax head over its intents)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TuningConfig:
    """Hyper-parameters of the fine-tuning (part of the tuned graph's cache key)."""

    epochs: int = 4
    # small catalogues get more epochs, so the tuning sees at least this many batches
    min_steps: int = 150
    batch_size: int = 32
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    scale: float = 20.0  # cosine-softmax temperature of the head
    seed: int = 0
    holdout: float = 0.2  # share of the rows the calibration tune never sees
