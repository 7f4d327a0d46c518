"""Typos and text-speak: train as ``omnibot eval`` does, then score the test file clean and
with realistic noise (1-2 typos a message, SMS abbreviations), and print the drop.

    python -m bench.noisy [--data DIR] [--seed 0] [--encoder onnx-int8] [--json]

The noise is a pure function of the text and a seeded ``random.Random``: every whole word in
``SMS_ABBREVIATIONS`` is abbreviated ("how long to deliver" -> "hw long 2 deliver"), then one or
two edits land on letters, each a dropped letter, a doubled letter, two adjacent letters swapped
or a letter replaced by a neighbouring key on a QWERTY keyboard.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.contracts import Prediction
from intents.build import ENCODERS, BuildOptions, build_classifier
from intents.evaluate import EvalResult, evaluate, read_labelled_csv

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"

SMS_ABBREVIATIONS: dict[str, str] = {
    "you": "u",
    "your": "ur",
    "you're": "ur",
    "are": "r",
    "for": "4",
    "to": "2",
    "too": "2",
    "please": "pls",
    "thanks": "thx",
    "thank you": "ty",
    "what": "wat",
    "how": "hw",
    "can": "cn",
    "back": "bak",
    "address": "adress",
    "why": "y",
    "before": "b4",
    "because": "cuz",
    "tomorrow": "tmrw",
    "today": "2day",
    "message": "msg",
    "people": "ppl",
    "really": "rly",
    "and": "&",
    "with": "w/",
    "don't": "dont",
    "i'm": "im",
    "can't": "cant",
    "didn't": "didnt",
    "doesn't": "doesnt",
    "isn't": "isnt",
}

EDITS = ("drop", "double", "swap", "neighbour")

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Keys touching each key on a staggered QWERTY layout: same row left/right, and the two keys
# above and below (row r's key i sits between keys i-1 and i of the row below... roughly).
QWERTY_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_QWERTY_ROWS):
    for _i, _key in enumerate(_row):
        _near = [_row[_j] for _j in (_i - 1, _i + 1) if 0 <= _j < len(_row)]
        if _r > 0:
            _above = _QWERTY_ROWS[_r - 1]
            _near += [_above[_j] for _j in (_i, _i + 1) if 0 <= _j < len(_above)]
        if _r < len(_QWERTY_ROWS) - 1:
            _below = _QWERTY_ROWS[_r + 1]
            _near += [_below[_j] for _j in (_i - 1, _i) if 0 <= _j < len(_below)]
        QWERTY_NEIGHBOURS[_key] = "".join(_near)

# A whole word: not preceded or followed by a letter, digit or apostrophe ("to" in "toast"
# or "to's" is not the word "to").
_ABBREVIATION = re.compile(
    r"(?<![\w'])("
    + "|".join(re.escape(word) for word in sorted(SMS_ABBREVIATIONS, key=len, reverse=True))
    + r")(?![\w'])",
    re.IGNORECASE,
)


def abbreviate(text: str) -> str:
    """``text`` with every whole word of ``SMS_ABBREVIATIONS`` replaced by its text-speak."""
    return _ABBREVIATION.sub(lambda match: SMS_ABBREVIATIONS[match.group(1).lower()], text)


def _neighbour(letter: str, rng: random.Random) -> str:
    near = QWERTY_NEIGHBOURS.get(letter.lower())
    if not near:
        return letter
    key = rng.choice(near)
    return key.upper() if letter.isupper() else key


def _apply(text: str, edit: str, rng: random.Random) -> str | None:
    """``text`` after one ``edit`` at a random letter, or None when it has no place for it."""
    letters = [i for i, char in enumerate(text) if char.isalpha()]
    if edit == "swap":
        # two adjacent, different letters (swapping "ee" changes nothing)
        letters = [i for i in letters if i + 1 < len(text) and text[i + 1].isalpha()]
        letters = [i for i in letters if text[i].lower() != text[i + 1].lower()]
    elif edit == "neighbour":
        letters = [i for i in letters if text[i].lower() in QWERTY_NEIGHBOURS]
    elif edit == "drop" and len(text.strip()) <= 1:
        letters = []  # never empty a message
    if not letters:
        return None
    i = rng.choice(letters)
    if edit == "drop":
        return text[:i] + text[i + 1 :]
    if edit == "double":
        return text[: i + 1] + text[i] + text[i + 1 :]
    if edit == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + _neighbour(text[i], rng) + text[i + 1 :]


@dataclass(frozen=True)
class Noised:
    """A noised message and the typing edits made after abbreviating it."""

    text: str
    abbreviated: str
    edits: tuple[str, ...]


def add_noise(text: str, rng: random.Random) -> Noised:
    """``text`` abbreviated, then with one or two typing edits (none when it has no letters)."""
    abbreviated = abbreviate(text)
    wanted = rng.choice((1, 2))
    noised, edits = abbreviated, []
    for _ in range(wanted):
        for edit in rng.sample(EDITS, len(EDITS)):  # the first kind that has a place
            changed = _apply(noised, edit, rng)
            if changed is not None:
                noised = changed
                edits.append(edit)
                break
    return Noised(noised, abbreviated, tuple(edits))


def noisy_texts(texts: Sequence[str], seed: int = 0) -> list[str]:
    """Every text noised, from one ``random.Random(seed)`` in order (the same list each run)."""
    rng = random.Random(seed)
    return [add_noise(text, rng).text for text in texts]


def _answered_right(predictions: Sequence[Prediction], labels: Sequence[str]) -> Counter[str]:
    return Counter(
        label
        for p, label in zip(predictions, labels, strict=True)
        if p.confident and p.intent == label
    )


def compare(
    labels: Sequence[str],
    clean: tuple[EvalResult, list[Prediction]],
    noisy: tuple[EvalResult, list[Prediction]],
    worst: int = 8,
) -> dict[str, Any]:
    """The clean and noisy numbers, the drop, and where the noisy errors go."""
    clean_result, clean_predictions = clean
    noisy_result, noisy_predictions = noisy
    per_intent = Counter(labels)
    lost = _answered_right(clean_predictions, labels)
    lost.subtract(_answered_right(noisy_predictions, labels))
    wrong = Counter(
        f"{label} -> {p.intent}"
        for p, label in zip(noisy_predictions, labels, strict=True)
        if p.confident and p.intent != label
    )
    clean_wrong = Counter(
        f"{label} -> {p.intent}"
        for p, label in zip(clean_predictions, labels, strict=True)
        if p.confident and p.intent != label
    )

    def numbers(result: EvalResult) -> dict[str, Any]:
        return {
            "accuracy": result.accuracy,
            "answered_share": result.answered_share,
            "answered_precision": result.answered_precision,
        }

    return {
        "rule": {
            "threshold": clean_result.threshold,
            "min_similarity": clean_result.min_similarity,
        },
        "clean": numbers(clean_result),
        "noisy": numbers(noisy_result),
        "drop_points": {
            "accuracy": 100 * (clean_result.accuracy - noisy_result.accuracy),
            "answered_share": 100 * (clean_result.answered_share - noisy_result.answered_share),
            "answered_precision": 100
            * ((clean_result.answered_precision or 0) - (noisy_result.answered_precision or 0)),
        },
        "wrong_answers": {"clean": sum(clean_wrong.values()), "noisy": sum(wrong.values())},
        "intents_losing_most_right_answers": [
            {"intent": intent, "lost": count, "test_rows": per_intent[intent]}
            for intent, count in lost.most_common(worst)
            if count > 0
        ],
        "noisy_wrong_answers_most_common": [
            {"pair": pair, "count": count} for pair, count in wrong.most_common(worst)
        ],
    }


def describe(report: dict[str, Any]) -> str:
    """The human-readable form of ``compare``'s report."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.2f} %"

    lines = [f"answer rule: {report['rule']}", "             accuracy   answered   precision"]
    for name in ("clean", "noisy"):
        row = report[name]
        lines.append(
            f"{name:<12} {pct(row['accuracy']):>9}  {pct(row['answered_share']):>9}  "
            f"{pct(row['answered_precision']):>9}"
        )
    drop = report["drop_points"]
    lines.append(
        f"drop (pts)   {drop['accuracy']:>9.2f}  {drop['answered_share']:>9.2f}  "
        f"{drop['answered_precision']:>9.2f}"
    )
    lines.append(f"wrong answers: {report['wrong_answers']}")
    lines.append("intents losing most right answers:")
    lines += [
        f"  {row['intent']}: {row['lost']} of {row['test_rows']}"
        for row in report["intents_losing_most_right_answers"]
    ]
    lines.append("most common noisy wrong answers:")
    lines += [
        f"  {row['pair']}: {row['count']}" for row in report["noisy_wrong_answers_most_common"]
    ]
    lines.append("examples:")
    lines += [f"  {before!r} -> {after!r}" for before, after in report.get("examples", [])]
    return "\n".join(lines)


def main() -> None:
    """Train, score clean and noisy test text, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", choices=ENCODERS, default="onnx-int8")
    parser.add_argument("--cache", type=Path, help="model cache (default: a new temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    train_texts, train_labels = read_labelled_csv(args.data / "train.csv")
    test_texts, test_labels = read_labelled_csv(args.data / "test.csv")
    noised = noisy_texts(test_texts, args.seed)
    cache = args.cache or Path(tempfile.mkdtemp(prefix="omnibot-bench-"))
    classifier = build_classifier(
        train_texts, train_labels, cache, BuildOptions(encoder=args.encoder), progress=True
    )
    clean = evaluate(classifier, test_texts, test_labels, progress=True)
    noisy = evaluate(classifier, noised, test_labels, progress=True)
    report = compare(test_labels, clean, noisy)
    report["seed"] = args.seed
    report["examples"] = list(zip(test_texts[:8], noised[:8], strict=True))
    print(json.dumps(report, indent=2) if args.json else describe(report))


if __name__ == "__main__":
    main()
