"""Help-centre answers measured on StackFAQ: retrieval, the calibrated answer score, latency.

    python -m bench.knowledge --prepare     # write bench/data/knowledge/stackfaq/ from the source
    python -m bench.knowledge --calibrate   # fit intents/knowledge/calibration.json
    python -m bench.knowledge [--json]      # the shipped calibration on the evaluation split
    python -m bench.knowledge --compare     # BM25 alone, encoder alone and both fusions

The index holds ``articles/`` (100 articles); ``held_out/`` (25) is never indexed, so their
questions must be refused (see :mod:`bench.knowledge_data` for the splits). The default run asks
each evaluation question on its own, encoder included (and timed without it), then times
retrieval on a ``--latency-passages`` index: the StackFAQ passages (indexed and held-out)
repeated as copies under new article keys, with the same embeddings, until there are that many.
``--compare`` fits a scorer per ranking on the calibration split (BM25 features only for BM25
alone, cosine features only for the encoder alone) and scores the evaluation split with
precomputed question embeddings (its latency is retrieval only).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from numpy.typing import NDArray

from bench.knowledge_data import DATA, prepare, source_json
from intents.build import make_encoder
from intents.encoder import Encoder
from intents.knowledge.answerer import CALIBRATION, FEATURES, AnswerScorer, features, fit_scorer
from intents.knowledge.articles import content_hash, load_articles
from intents.knowledge.documents import Passage
from intents.knowledge.evaluation import (
    LabelledQuestion,
    ask,
    evaluate,
    format_report,
    read_questions,
    summarise,
)
from intents.knowledge.index import (
    DEFAULT_K,
    FUSION,
    Fusion,
    KnowledgeIndex,
    load_or_build,
    tokenize,
)
from intents.knowledge.passages import split_all

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = DATA / "questions.csv"
LATENCY_PASSAGES = 2000
WARM_UP = 20  # searches before the latency run is timed
FEATURE_SETS: dict[Fusion, tuple[str, ...]] = {
    "bm25": ("bm25", "bm25_margin"),
    "cosine": ("cosine", "cosine_margin"),
    "scores": tuple(FEATURES),
    "rrf": tuple(FEATURES),
}


def passages_of(folder: Path) -> list[Passage]:
    """The passages of the articles in ``folder``."""
    return split_all(load_articles(folder).articles)


def embed(encoder: Encoder, questions: list[LabelledQuestion]) -> NDArray[np.float32]:
    """The questions' embeddings, one row each."""
    return encoder.encode([q.question for q in questions])


def calibrate(
    index: KnowledgeIndex,
    questions: list[LabelledQuestion],
    vectors: NDArray[np.float32],
    how: Fusion,
) -> AnswerScorer:
    """A scorer fitted on ``questions`` (their embeddings ``vectors``) for ranking ``how``."""
    names = FEATURE_SETS[how]
    rows, labels = [], []
    for question, vector in zip(questions, vectors, strict=True):
        hits = index.search_vector(question.question, vector, DEFAULT_K, how)
        rows.append(features(hits, names))
        labels.append(hits[0].passage.article == question.article)
    held = sum(q.article not in index.articles for q in questions)
    about = {
        "fusion": how,
        "fitted_on": f"StackFAQ calibration split: {len(questions) - held} answerable and "
        f"{held} held-out questions, {len(index.passages)} passages (python -m bench.knowledge "
        "--calibrate)",
        "commit": git_commit(),
        "date": datetime.date.today().isoformat(),
    }
    held_out = [q.article not in index.articles for q in questions]
    return fit_scorer(rows, labels, held_out, names, about)


def git_commit() -> str:
    """The repository's HEAD commit (what the calibration was fitted at)."""
    command = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    return result.stdout.strip() or "unknown"


def compare(
    index: KnowledgeIndex,
    calibration: list[LabelledQuestion],
    evaluation: list[LabelledQuestion],
    encoder: Encoder,
) -> dict[str, Any]:
    """Per ranking: a scorer fitted on ``calibration``, its report on ``evaluation``."""
    fit_vectors, eval_vectors = embed(encoder, calibration), embed(encoder, evaluation)
    out: dict[str, Any] = {}
    for how in FEATURE_SETS:
        scorer = calibrate(index, calibration, fit_vectors, how)
        outcomes = [
            ask(index, encoder, scorer, q, how, vector)
            for q, vector in zip(evaluation, eval_vectors, strict=True)
        ]
        out[how] = summarise(outcomes).as_dict() | {"threshold": round(scorer.threshold, 4)}
    return out


def padded(passages: list[Passage], embeddings: NDArray[np.float32], size: int) -> KnowledgeIndex:
    """An index of ``size`` passages: ``passages`` repeated under new article keys."""
    copies = -(-size // len(passages))
    rows = [
        Passage(f"copy{c}/{p.article}", p.title, p.url, p.heading, p.text)
        for c in range(copies)
        for p in passages
    ][:size]
    bm25 = bm25s.BM25()
    bm25.index([tokenize(p.search_text()) for p in rows], show_progress=False)
    return KnowledgeIndex(rows, bm25, np.tile(embeddings, (copies, 1))[:size])


def latency(
    index: KnowledgeIndex, questions: list[LabelledQuestion], encoder: Encoder, scorer: AnswerScorer
) -> dict[str, Any]:
    """p50/p99 per question on ``index``, encoder included and excluded, per ranking."""
    vectors = embed(encoder, questions)
    for question, vector in zip(questions[:WARM_UP], vectors, strict=False):
        index.search_vector(question.question, vector)  # first calls allocate; not measured
    # The machine is shared: its load says how much the timings are worth.
    out: dict[str, Any] = {"passages": len(index.passages), "load_average": os.getloadavg()}
    for how in ("bm25", "cosine", "scores"):
        outcomes = [
            ask(index, encoder, scorer, q, how, v) for q, v in zip(questions, vectors, strict=True)
        ]
        report = summarise(outcomes)
        out[how] = {"p50_ms": report.p50_retrieval_ms, "p99_ms": report.p99_retrieval_ms}
    with_encoder = summarise([ask(index, encoder, scorer, q) for q in questions])
    out["scores_with_encoder"] = {"p50_ms": with_encoder.p50_ms, "p99_ms": with_encoder.p99_ms}
    return out


def main() -> None:
    """Prepare, calibrate, compare or evaluate (see the module's doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--latency-passages", type=int, default=LATENCY_PASSAGES)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "cache")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(source_json())))
        return
    encoder = make_encoder("onnx-int8", args.cache)
    folder = DATA / "articles"
    index = load_or_build(args.cache, content_hash(folder), passages_of(folder), encoder)
    calibration = read_questions(QUESTIONS, "calibration")
    evaluation = read_questions(QUESTIONS, "evaluation")
    if args.calibrate:
        scorer = calibrate(index, calibration, embed(encoder, calibration), FUSION)
        CALIBRATION.write_text(json.dumps(scorer.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION} (threshold {scorer.threshold:.4f})")
        return
    if args.compare:
        result = compare(index, calibration, evaluation, encoder)
        print(json.dumps(result, indent=2))
        return
    scorer = AnswerScorer.load()
    report = evaluate(index, encoder, scorer, evaluation)
    extra = passages_of(DATA / "held_out")
    big = padded(
        index.passages + extra,
        np.concatenate([index.embeddings, encoder.encode([p.search_text() for p in extra])]),
        args.latency_passages,
    )
    timing = latency(big, evaluation, encoder, scorer)
    if args.json:
        print(json.dumps({"evaluation": report.as_dict(), "latency": timing}, indent=2))
    else:
        print(format_report(report))
        print(json.dumps({"latency": timing}, indent=2))


if __name__ == "__main__":
    main()
