"""Would fine-tuning MiniLM lift the model to >= 90 % answered at >= 98 %? A probe, not part of it.

    python -m bench.finetune_probe [--data DIR] [--epochs 4]

Every choice is made on training data: hold out 20 % of train (stratified) and a quarter of the
intents, fine-tune MiniLM on the rest, fit the members on the rest — the model's three on
frozen embeddings plus logistic regression and nearest neighbour on the fine-tuned ones — and
choose blend weights and the answer rule with the model's own functions on the held-out rows
(known intents) and the hidden intents' rows (unknown). Then fine-tune on all of train, refit
every member on all of train, and score test with those weights and that rule. Prints JSON for
the model's three frozen members alone and for the five-member blend. About 16 minutes here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from intents.build import encode_all, make_encoder
from intents.calibration import Evidence, Rule, choose
from intents.encoder import model_dir
from intents.evaluate import read_labelled_csv
from intents.members import Floats, Members, Scores, TrainingConfig, blend
from omnibot.settings import Settings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"
BATCH = 32
SCALE = 20.0  # cosine-softmax temperature of the fine-tuning head
LEARNING_RATE = 1e-4
HEAD_LEARNING_RATE = 2e-3
Encode = Callable[[NDArray[np.object_]], Floats]


def fine_tune(texts: NDArray[np.object_], labels: NDArray[np.str_], epochs: int) -> Encode:
    """MiniLM with mean pooling, trained through a cosine-softmax head; returns its encoder."""
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    tokenizer: Any = AutoTokenizer.from_pretrained(str(model_dir()))
    model: Any = AutoModel.from_pretrained(str(model_dir()))
    classes, y = np.unique(labels, return_inverse=True)
    head = torch.nn.Linear(model.config.hidden_size, len(classes), bias=False)

    def embed(batch: NDArray[np.object_]) -> torch.Tensor:
        tokens = tokenizer(
            list(batch), padding=True, truncation=True, max_length=64, return_tensors="pt"
        )
        hidden = model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    optimiser = torch.optim.AdamW(
        [
            {"params": model.parameters(), "lr": LEARNING_RATE},
            {"params": head.parameters(), "lr": HEAD_LEARNING_RATE},
        ],
        weight_decay=0.01,
    )
    steps = epochs * math.ceil(len(texts) / BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / (0.1 * steps)) * max(0.0, (steps - s) / (0.9 * steps))
    )
    rng = np.random.default_rng(0)
    model.train()
    for epoch in range(epochs):
        start = time.perf_counter()
        for rows in length_bucketed(texts, rng):
            logits = (
                SCALE * embed(texts[rows]) @ torch.nn.functional.normalize(head.weight, dim=-1).T
            )
            loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[rows]))
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
        print(f"  epoch {epoch + 1}/{epochs}: {time.perf_counter() - start:.0f} s", flush=True)
    model.eval()

    def encode(batch: NDArray[np.object_]) -> Floats:
        out = np.zeros((len(batch), model.config.hidden_size))
        with torch.no_grad():
            for start in range(0, len(batch), 128):
                out[start : start + 128] = embed(batch[start : start + 128]).numpy()
        return out

    return encode


def length_bucketed(
    texts: NDArray[np.object_], rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Shuffled batches of similar-length texts (half the padding, twice the speed)."""
    order = rng.permutation(len(texts))
    batches: list[NDArray[np.int64]] = []
    for start in range(0, len(order), BATCH * 50):
        window = sorted(order[start : start + BATCH * 50], key=lambda i: len(texts[i]))
        batches += [np.array(window[i : i + BATCH]) for i in range(0, len(window), BATCH)]
    rng.shuffle(batches)
    return batches


def five_members(
    frozen: Members,
    tuned: Members,
    texts: NDArray[np.object_],
    frozen_rows: Floats,
    tuned_rows: Floats,
) -> Scores:
    """The model's three frozen members, then LR and nearest neighbour on tuned embeddings."""
    base, extra = frozen.scores(texts, frozen_rows), tuned.scores(texts, tuned_rows)
    return Scores(
        members=[*base.members, extra.members[0], extra.members[2]], nearest=extra.nearest
    )


def score(
    name: str,
    members: Scores,
    weights: tuple[float, ...],
    rule: Rule,
    truth: NDArray[np.str_],
    labels: NDArray[np.str_],
) -> None:
    """Print accuracy, answered share and precision on test."""
    rows = blend(members.members, weights)
    correct = labels[rows.argmax(1)] == truth
    answered = rule.answers(Evidence(rows.max(1), members.nearest))
    print(
        json.dumps(
            {
                "members": name,
                "weights": weights,
                "accuracy": float(correct.mean()),
                "answered_share": float(answered.mean()),
                "answered_precision": float(correct[answered].mean()),
                "threshold": rule.threshold,
                "min_similarity": rule.min_similarity,
            }
        ),
        flush=True,
    )


def main() -> None:
    """Run the probe and print one JSON line per blend."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    texts_list, labels_list = read_labelled_csv(args.data / "train.csv")
    test_list, test_labels_list = read_labelled_csv(args.data / "test.csv")
    texts, labels = np.array(texts_list, dtype=object), np.array(labels_list)
    test, test_labels = np.array(test_list, dtype=object), np.array(test_labels_list)
    config = TrainingConfig()
    classes = np.unique(labels)
    fit, held = train_test_split(
        np.arange(len(labels)), test_size=0.2, stratify=labels, random_state=0
    )
    hidden = np.isin(labels, np.random.default_rng(1).permutation(classes)[: len(classes) // 4])
    fit, held, unknown = fit[~hidden[fit]], held[~hidden[held]], np.flatnonzero(hidden)

    frozen_encoder = make_encoder("onnx", Settings.from_env().cache_dir)
    frozen, frozen_test = (
        encode_all(frozen_encoder, list(texts), progress=True),
        encode_all(frozen_encoder, list(test), progress=True),
    )
    print("fine-tuning without the held-out rows and hidden intents", flush=True)
    tuned = fine_tune(texts[fit], labels[fit], args.epochs)(texts)
    print("fine-tuning on all of train", flush=True)
    final_encoder = fine_tune(texts, labels, args.epochs)
    tuned_all, tuned_test = final_encoder(texts), final_encoder(test)

    known_classes = np.unique(labels[fit])
    truth = np.searchsorted(known_classes, labels[held])
    base = Members.fit(texts[fit], frozen[fit], labels[fit], config)
    extra = Members.fit(texts[fit], tuned[fit], labels[fit], config)
    base_all = Members.fit(texts, frozen, labels, config)
    extra_all = Members.fit(texts, tuned_all, labels, config)
    weights, rule, _ = choose(
        base.scores(texts[held], frozen[held]),
        truth,
        [base.scores(texts[unknown], frozen[unknown])],
        config,
    )
    score("three frozen", base_all.scores(test, frozen_test), weights, rule, test_labels, classes)
    weights, rule, _ = choose(
        five_members(base, extra, texts[held], frozen[held], tuned[held]),
        truth,
        [five_members(base, extra, texts[unknown], frozen[unknown], tuned[unknown])],
        config,
    )
    score(
        "three frozen + two fine-tuned",
        five_members(base_all, extra_all, test, frozen_test, tuned_test),
        weights,
        rule,
        test_labels,
        classes,
    )


if __name__ == "__main__":
    main()
