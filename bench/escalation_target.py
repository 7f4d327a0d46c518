"""UNKNOWN_ESCALATION_TARGET from measurements: for each target, how many in-scope test messages
are answered (and how precisely) and how many messages of intents never trained on are kept out.

    python -m bench.escalation_target [--data DIR] [--fewshot DIR] [--held-out 10] [--seed 0]
                                      [--targets 0.5 0.6 ...] [--cache DIR] [--json]

One training per data set (BANKING77 and HWU64 in full, and their 10-per-intent seed-0 files of
``python -m bench.fewshot``): ``--held-out`` intents drawn with ``--seed`` are left out of
training, as in ``bench/unknown_intents.py``. Training chooses the answer rule for every target
of a grid (the trade-off curve kept in the model's calibration), so each target's rule is read
from it, exactly the rule a training with that target would choose, with no retraining. Test
scores: the known intents' rows answered and the precision of those answers, and the share of
the held-out intents' rows escalated. Each data set's texts are embedded once; train files are
never scored and test files never trained on.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from intents.build import encode_all, make_encoder
from intents.calibration import Evidence, Rule
from intents.evaluate import read_labelled_csv
from intents.members import Floats, TrainingConfig, blend
from intents.model import IntentModel, train
from intents.trade_off import at

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
FEWSHOT = ROOT / "var" / "fewshot"
TARGETS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.9)
REQUIRED_KEPT_OUT = 0.75  # what the default must keep out of the held-out intents' messages
# a training keeping out less than target + this is one the target decided (its kept-out share
# lands just above the target; a non-binding one keeps out what the precision rule happens to)
BINDING_SLACK = 0.01
Embed = Callable[[Sequence[str]], Floats]


@dataclass(frozen=True)
class DataSet:
    """A training file and the test file it is scored on (both of dataset ``source``)."""

    name: str
    source: str
    train: Path
    test: Path


@dataclass(frozen=True)
class Row:
    """One target on one data set: test numbers, and the training's own (out of fold)."""

    dataset: str
    target: float
    answered: float  # known intents' test rows answered
    precision: float | None  # of those answers
    kept_out: float  # held-out intents' test rows escalated
    trained_answered: float
    trained_kept_out: float


def data_sets(data: Path, fewshot: Path) -> list[DataSet]:
    """BANKING77 and HWU64 in full and at 10 per intent (seed 0)."""
    found = []
    for source, title in (("banking77", "BANKING77"), ("hwu64", "HWU64")):
        test = data / source / "test.csv"
        found.append(DataSet(title, source, data / source / "train.csv", test))
        small = fewshot / source / "10-per-intent-seed0.csv"
        found.append(DataSet(f"{title} 10/intent", source, small, test))
    return found


def rule_at(model: IntentModel, target: float) -> Rule:
    """The rule ``model``'s training chose for ``target`` (on its trade-off curve)."""
    if model.calibration is None or not model.calibration.trade_off:
        raise ValueError("the model measured no trade-off (too few intents to hide any)")
    return at(model.calibration.trade_off, target).rule


def held_out_intents(labels: Sequence[str], count: int, seed: int) -> list[str]:
    """``count`` intents drawn with ``seed``, as ``bench/unknown_intents.py`` draws them."""
    return random.Random(seed).sample(sorted(set(labels)), count)


def train_without(
    texts: Sequence[str], labels: Sequence[str], embeddings: Floats, hidden: Sequence[str]
) -> IntentModel:
    """The model trained (as ``omnibot train`` trains it) on the rows not of ``hidden``."""
    keep = ~np.isin(np.asarray(labels), list(hidden))
    kept_texts = [t for t, k in zip(texts, keep, strict=True) if k]
    kept_labels = [y for y, k in zip(labels, keep, strict=True) if k]
    return train(kept_texts, kept_labels, embeddings[keep], TrainingConfig())


def measure(
    name: str,
    model: IntentModel,
    test: tuple[Sequence[str], Sequence[str]],
    embeddings: Floats,
    hidden: Sequence[str],
    targets: Sequence[float],
) -> list[Row]:
    """Each target's rule scored on the test rows (those of ``hidden`` intents must be kept
    out); the members score the test rows once."""
    texts, labels = test
    scores = model.members.scores(texts, embeddings)
    blended = blend(scores.members, model.weights)
    evidence = Evidence.of_rows(blended, scores.nearest)
    truth = np.asarray(labels)
    correct = np.asarray(model.labels)[blended.argmax(axis=1)] == truth
    unknown = np.isin(truth, list(hidden))
    return [
        scored(name, model, target, rule_at(model, target).answers(evidence), correct, unknown)
        for target in targets
    ]


def scored(
    name: str,
    model: IntentModel,
    target: float,
    answered: NDArray[np.bool_],
    correct: NDArray[np.bool_],
    unknown: NDArray[np.bool_],
) -> Row:
    """The row of one target whose rule answered ``answered`` of the test rows."""
    assert model.calibration is not None
    trained = at(model.calibration.trade_off, target)
    known_answered = answered & ~unknown
    return Row(
        dataset=name,
        target=target,
        answered=float(answered[~unknown].mean()),
        precision=float(correct[known_answered].mean()) if known_answered.any() else None,
        kept_out=float((~answered[unknown]).mean()),
        trained_answered=trained.answered,
        trained_kept_out=trained.escalated,
    )


def binds(row: Row) -> bool:
    """Whether the target decided the rule on this data set: the training kept out no more than
    the target asked (a laxer target leaves the rule the precision alone chooses)."""
    return row.trained_kept_out < row.target + BINDING_SLACK


def recommend(rows: Sequence[Row], required: float = REQUIRED_KEPT_OUT) -> float | None:
    """The target keeping ``required`` of the held-out intents' messages out on every data set,
    vouched for by at least one data set where it decided the rule, answering the most in-scope
    messages on the worst data set, then on average (then the stricter target); None: none."""

    def of(target: float) -> list[Row]:
        return [r for r in rows if r.target == target]

    safe = [
        t
        for t in sorted({r.target for r in rows})
        if all(r.kept_out >= required for r in of(t)) and any(binds(r) for r in of(t))
    ]
    if not safe:
        return None

    def worst_then_mean(target: float) -> tuple[float, float, float]:
        answered = [r.answered for r in of(target)]
        return min(answered), float(np.mean(answered)), target

    return max(safe, key=worst_then_mean)


class Embeddings:
    """Each text embedded once, however many files it is in."""

    def __init__(self, embed: Embed) -> None:
        self.embed = embed
        self.known: dict[str, Floats] = {}

    def of(self, texts: Sequence[str]) -> Floats:
        """The embeddings of ``texts``, one row each."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.known))
        if missing:
            self.known.update(zip(missing, self.embed(missing), strict=True))
        return np.vstack([self.known[t] for t in texts])


def run(
    sets: Sequence[DataSet], embed: Embed, held_out: int, seed: int, targets: Sequence[float]
) -> list[Row]:
    """Train once per data set and score every target on its test file."""
    by_source: dict[str, Embeddings] = {}
    rows: list[Row] = []
    for data_set in sets:
        embeddings = by_source.setdefault(data_set.source, Embeddings(embed))
        texts, labels = read_labelled_csv(data_set.train)
        test = read_labelled_csv(data_set.test)
        start = time.perf_counter()
        train_vectors, test_vectors = embeddings.of(texts), embeddings.of(test[0])
        encoded = time.perf_counter()
        hidden = held_out_intents(labels, held_out, seed)
        model = train_without(texts, labels, train_vectors, hidden)
        trained = time.perf_counter()
        rows += measure(data_set.name, model, test, test_vectors, hidden, targets)
        print(
            f"{data_set.name}: {len(texts)} rows, embedded in {encoded - start:.0f} s, "
            f"trained in {trained - encoded:.0f} s",
            file=sys.stderr,
        )
    return rows


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2%}".replace("%", " %")

    lines = [
        "| data set | target | in-scope answered | precision | unknown kept out "
        "| trained: answered | trained: kept out | target decided the rule |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        numbers = (r.answered, r.precision, r.kept_out, r.trained_answered, r.trained_kept_out)
        cells = [r.dataset, f"{r.target:.2f}", *map(pct, numbers), "yes" if binds(r) else "no"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run the measurement and print the table (or JSON) and the recommended target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATASETS, help="folder of the datasets")
    parser.add_argument("--fewshot", type=Path, default=FEWSHOT, help="bench.fewshot's files")
    parser.add_argument("--held-out", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", nargs="+", type=float, default=list(TARGETS))
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "cache")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    encoder = make_encoder("onnx-int8", args.cache)

    def embed(texts: Sequence[str]) -> Floats:
        return encode_all(encoder, texts)

    rows = run(data_sets(args.data, args.fewshot), embed, args.held_out, args.seed, args.targets)
    best = recommend(rows)
    if args.json:
        print(json.dumps({"rows": [asdict(r) for r in rows], "recommended": best}, indent=2))
    else:
        print(table(rows))
        print(f"\nrecommended UNKNOWN_ESCALATION_TARGET: {best}")


if __name__ == "__main__":
    main()
