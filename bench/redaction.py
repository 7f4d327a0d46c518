"""How well :mod:`bot.redaction` finds personal data: recall, precision, order-number FPs.

    .venv/bin/python -m bench.redaction [--misses] [--json]

On ``bench/data/pii/presidio.jsonl`` (Presidio's synthetic sentences, see
:mod:`bench.redaction_data`), per kind: *recall* is the share of labelled spans whose letters
and digits are all inside spans found as that kind; *precision* the share of spans found as a
kind that overlap a labelled span of that kind (a date or ZIP code masked as a phone counts
against it). On ``negatives.jsonl`` (order numbers, ids, prices, dates, postcodes, quantities,
no personal data) every span found is a false positive. ``--misses`` prints what was missed
and what was wrongly found.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from bench.redaction_data import DATA, Sample, load
from bot.redaction import CARD, EMAIL, IBAN, PHONE, Span, find

MEASURED = (CARD, EMAIL, PHONE, IBAN)
TARGETS = {CARD: 0.99, EMAIL: 0.99, PHONE: 0.95, IBAN: 0.95}


@dataclass
class Score:
    """Counts for one kind."""

    labelled: int = 0
    recalled: int = 0
    found: int = 0
    correct: int = 0
    negative_fp: int = 0
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of labelled spans found."""
        return self.recalled / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        """Share of found spans that are labelled so."""
        return self.correct / self.found if self.found else 1.0


def score(public: Sequence[Sample], negatives: Sequence[Sample]) -> dict[str, Score]:
    """Per kind counts over the public set and the negatives."""
    scores = {kind: Score() for kind in MEASURED}
    for sample in public:
        _score_sample(sample, find(sample.text), scores)
    for sample in negatives:
        for span in find(sample.text):
            if span.kind in scores:
                scores[span.kind].negative_fp += 1
                scores[span.kind].wrong.append(_shown(sample.text, span.start, span.end))
    return scores


def _score_sample(sample: Sample, spans: list[Span], scores: dict[str, Score]) -> None:
    for kind, start, end in sample.spans:
        if kind not in scores:
            continue
        scores[kind].labelled += 1
        if _covered(sample.text, start, end, [s for s in spans if s.kind == kind]):
            scores[kind].recalled += 1
        else:
            scores[kind].misses.append(_shown(sample.text, start, end))
    for span in spans:
        if span.kind not in scores:
            continue
        scores[span.kind].found += 1
        if any(k == span.kind and s < span.end and span.start < e for k, s, e in sample.spans):
            scores[span.kind].correct += 1
        else:
            scores[span.kind].wrong.append(_shown(sample.text, span.start, span.end))


def _covered(text: str, start: int, end: int, spans: list[Span]) -> bool:
    """Whether every letter and digit of ``text[start:end]`` is inside one of ``spans``."""
    return all(
        any(s.start <= at < s.end for s in spans) for at in range(start, end) if text[at].isalnum()
    )


def _shown(text: str, start: int, end: int) -> str:
    before, after = text[max(0, start - 30) : start], text[end : end + 15]
    return " ".join(f"{before}[[{text[start:end]}]]{after}".split())


def table(scores: dict[str, Score]) -> str:
    """The Markdown table of :func:`score`'s results."""
    rows = [
        "| kind | labelled | recall | target | precision | FP on order-number negatives |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, s in scores.items():
        rows.append(
            f"| {kind} | {s.labelled} | {s.recall:.1%} | ≥ {TARGETS[kind]:.0%} "
            f"| {s.precision:.1%} ({s.found - s.correct} of {s.found} wrong) | {s.negative_fp} |"
        )
    return "\n".join(rows)


def main() -> None:
    """Score the bundled data and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print misses and wrong finds")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args()
    public, negatives = load(DATA / "presidio.jsonl"), load(DATA / "negatives.jsonl")
    started = time.perf_counter()
    scores = score(public, negatives)
    per_sentence_ms = (time.perf_counter() - started) * 1000 / (len(public) + len(negatives))
    if args.json:
        print(json.dumps({k: asdict(s) for k, s in scores.items()}, indent=2))
        return
    print(f"{len(public)} public sentences, {len(negatives)} negatives")
    print(table(scores))
    print(f"{per_sentence_ms:.2f} ms per sentence")
    if args.misses:
        for kind, s in scores.items():
            for line in s.misses:
                print(f"missed {kind}: {line}")
            for line in s.wrong:
                print(f"wrong {kind}: {line}")


if __name__ == "__main__":
    main()
