"""The escalation-target bench: each target's rule read from one training is the rule a training
for that target chooses, scored as the model would answer, and the recommendation is safe."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.escalation_target import (
    Embeddings,
    Row,
    data_sets,
    held_out_intents,
    measure,
    recommend,
    rule_at,
    run,
    table,
    train_without,
)
from intents.members import Floats, TrainingConfig
from intents.model import IntentModel, train
from tests.intents.toy_catalogue import toy_catalogue

TARGETS = (0.5, 0.6, 0.75, 0.9)


@pytest.fixture(scope="module")
def toy() -> tuple[list[str], list[str], Floats]:
    return toy_catalogue(spread=1.1)


@pytest.fixture(scope="module")
def trained(toy: tuple[list[str], list[str], Floats]) -> IntentModel:
    return train(*toy, TrainingConfig())


@pytest.mark.parametrize("target", [0.6, 0.9])
def test_the_rule_read_for_a_target_is_the_rule_a_training_for_it_chooses(
    toy: tuple[list[str], list[str], Floats], trained: IntentModel, target: float
) -> None:
    assert rule_at(trained, TrainingConfig().target_unknown_escalated) == trained.rule
    retrained = train(*toy, TrainingConfig(target_unknown_escalated=target))
    assert rule_at(trained, target) == retrained.rule
    assert rule_at(retrained, TrainingConfig().target_unknown_escalated) == trained.rule


def test_the_measured_shares_are_what_the_model_answers(
    toy: tuple[list[str], list[str], Floats],
) -> None:
    texts, labels, embeddings = toy
    test_texts, test_labels, test_embeddings = toy_catalogue(spread=1.1, seed=1)
    hidden = held_out_intents(labels, 3, seed=0)
    model = train_without(texts, labels, embeddings, hidden)
    assert not set(hidden) & set(model.labels)
    rows = measure("toy", model, (test_texts, test_labels), test_embeddings, hidden, TARGETS)
    unknown = np.isin(test_labels, hidden)
    for row in rows:
        served = replace(model, rule=rule_at(model, row.target))
        answered = np.array([p.confident for p in served.predict(test_texts, test_embeddings)])
        assert row.answered == pytest.approx(answered[~unknown].mean())
        assert row.kept_out == pytest.approx((~answered[unknown]).mean())
    assert rows[-1].trained_kept_out >= 0.9 > rows[0].trained_kept_out


def row(dataset: str, target: float, answered: float, kept_out: float, binds: bool = True) -> Row:
    trained_kept_out = target if binds else target + 0.1
    return Row(dataset, target, answered, 0.98, kept_out, answered, trained_kept_out)


def test_the_recommended_target_keeps_enough_out_everywhere_and_answers_most() -> None:
    rows = [
        row("a", 0.5, 0.95, 0.80, binds=False),  # safe here only because the target did nothing
        row("b", 0.5, 0.90, 0.76, binds=False),
        row("a", 0.6, 0.90, 0.80),
        row("b", 0.6, 0.85, 0.70),  # too few kept out on b
        row("a", 0.7, 0.88, 0.85),
        row("b", 0.7, 0.60, 0.78),
        row("a", 0.8, 0.70, 0.90),
        row("b", 0.8, 0.65, 0.90),  # answers more on the worse data set than 0.7
        row("a", 0.9, 0.70, 0.95),
        row("b", 0.9, 0.65, 0.95, binds=False),  # as many answers, more kept out
    ]
    assert recommend(rows) == 0.9
    assert recommend(rows[:8]) == 0.8
    assert recommend(rows, required=0.99) is None
    assert "| a | 0.50 | 95.00 % | 98.00 % | 80.00 % | 95.00 % | 60.00 % | no |" in table(rows)


def test_each_text_is_embedded_once() -> None:
    calls: list[list[str]] = []

    def embed(texts: Sequence[str]) -> Floats:
        calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts])

    embeddings = Embeddings(embed)
    assert embeddings.of(["ab", "c", "ab"]).tolist() == [[2, 1], [1, 1], [2, 1]]
    assert embeddings.of(["c", "dddd"])[1].tolist() == [4, 1]
    assert calls == [["ab", "c"], ["dddd"]]


def write(path: Path, texts: Sequence[str], labels: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "category"), *zip(texts, labels, strict=True)])


def test_one_training_per_data_set_scores_every_target(tmp_path: Path) -> None:
    train_rows = toy_catalogue(spread=1.1)
    test_rows = toy_catalogue(spread=1.1, seed=1)
    vectors = dict(zip(train_rows[0] + test_rows[0], [*train_rows[2], *test_rows[2]], strict=True))
    for source in ("banking77", "hwu64"):
        write(tmp_path / "data" / source / "train.csv", *train_rows[:2])
        write(tmp_path / "data" / source / "test.csv", *test_rows[:2])
        small = tmp_path / "fewshot" / source / "10-per-intent-seed0.csv"
        write(small, train_rows[0][::2], train_rows[1][::2])
    embedded: list[str] = []

    def embed(texts: Sequence[str]) -> Floats:
        embedded.extend(texts)
        return np.array([vectors[t] for t in texts])

    sets = data_sets(tmp_path / "data", tmp_path / "fewshot")
    rows = run(sets, embed, held_out=3, seed=0, targets=TARGETS)
    assert [(r.dataset, r.target) for r in rows] == [(s.name, t) for s in sets for t in TARGETS]
    assert len(embedded) == 2 * len(set(train_rows[0] + test_rows[0]))  # once per source
