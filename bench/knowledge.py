"""Help-centre answers measured on StackFAQ: retrieval, the calibrated answer score, latency.

    python -m bench.knowledge --prepare     # write bench/data/knowledge/stackfaq/ from the source
    python -m bench.knowledge --calibrate   # choose the features, fit calibration.json
    python -m bench.knowledge [--json]      # the shipped calibration: rotation, single split
    python -m bench.knowledge --compare     # BM25 alone, encoder alone and both fusions

Two measurements. *Rotation* (:mod:`bench.knowledge_rotation`): every article of a split is
held out of the index once, so refusals are measured on all the split's articles; the answer
score is calibrated this way (calibration split) and measured this way (evaluation split). The
*single split*: the index holds ``articles/`` (100 articles) and ``held_out/`` (25) is never
indexed (see :mod:`bench.knowledge_data`); each evaluation question is asked on its own,
encoder included (and timed without it), as ``omnibot knowledge eval`` does. Then retrieval is
timed on a ``--latency-passages`` index: the StackFAQ passages repeated as copies under new
article keys, with the same embeddings, until there are that many. ``--compare`` chooses and
fits a scorer per ranking on the calibration rounds and reports it on the evaluation rounds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from bench.knowledge_data import DATA, prepare, source_json
from bench.knowledge_rotation import CANDIDATES, corpus, embed, fit, passages_of, select
from intents.build import make_encoder
from intents.encoder import Encoder
from intents.knowledge.answerer import CALIBRATION, AnswerScorer
from intents.knowledge.articles import content_hash
from intents.knowledge.documents import Passage
from intents.knowledge.evaluation import (
    LabelledQuestion,
    ask,
    evaluate,
    format_report,
    read_questions,
    summarise,
)
from intents.knowledge.index import FUSION, Fusion, KnowledgeIndex, load_or_build
from intents.knowledge.rotation import Asked, Corpus, evaluate_rotation, rotate

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = DATA / "questions.csv"
LATENCY_PASSAGES = 2000
WARM_UP = 20  # searches before the latency run is timed


def rounds(corpus_: Corpus, encoder: Encoder, split: str, how: Fusion = FUSION) -> list[Asked]:
    """Every question of ``split`` asked in every round of its rotation."""
    questions = read_questions(QUESTIONS, split)
    return rotate(corpus_, questions, embed(encoder, questions), how=how)


def calibrate(asked: list[Asked], how: Fusion) -> tuple[AnswerScorer, list[Any]]:
    """The scorer for ranking ``how``: features chosen and fitted on the calibration rounds
    ``asked``; with the selection's path."""
    path = select(asked, CANDIDATES[how])
    held = sum(a.held_out for a in asked)
    about = {
        "fusion": how,
        "fitted_on": f"StackFAQ calibration split in rotation: 50 articles, 5 rounds of 10 held "
        f"out of a 115-article index; {len(asked) - held} answerable and {held} held-out "
        "questions; features chosen greedily on them (python -m bench.knowledge --calibrate)",
        "selection": [
            {"features": list(names), "answered_right": round(share, 4)} for names, share in path
        ],
        "commit": git_commit(),
        "date": datetime.date.today().isoformat(),
    }
    return fit(asked, path[-1][0], about), path


def git_commit() -> str:
    """The repository's HEAD commit (what the calibration was fitted at)."""
    command = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    return result.stdout.strip() or "unknown"


def compare(corpus_: Corpus, encoder: Encoder) -> dict[str, Any]:
    """Per ranking: a scorer chosen and fitted on the calibration rounds, its report on the
    evaluation rounds."""
    out: dict[str, Any] = {}
    for how in CANDIDATES:
        scorer, _ = calibrate(rounds(corpus_, encoder, "calibration", how), how)
        report = evaluate_rotation(rounds(corpus_, encoder, "evaluation", how), scorer)
        out[how] = report.as_dict() | {
            "threshold": round(scorer.threshold, 4),
            "features": list(scorer.names),
        }
    return out


def padded(corpus_: Corpus, size: int) -> KnowledgeIndex:
    """An index of ``size`` passages: the corpus's repeated under new article keys."""
    copies = -(-size // len(corpus_.passages))
    rows = [
        Passage(f"copy{c}/{p.article}", p.title, p.url, p.heading, p.text)
        for c in range(copies)
        for p in corpus_.passages
    ][:size]
    titles = corpus_.titles or {}
    copied = {f"copy{c}/{key}": row for c in range(copies) for key, row in titles.items()}
    embeddings = np.tile(corpus_.embeddings, (copies, 1))[:size]
    return KnowledgeIndex.from_embeddings(rows, embeddings, copied or None)


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


def measure(args: argparse.Namespace, corpus_: Corpus, encoder: Encoder) -> None:
    """The shipped calibration in rotation and on the single split, and the latency."""
    scorer = AnswerScorer.load()
    rotation = evaluate_rotation(rounds(corpus_, encoder, "evaluation"), scorer)
    folder = DATA / "articles"
    index = load_or_build(args.cache, content_hash(folder), passages_of(folder), encoder)
    evaluation = read_questions(QUESTIONS, "evaluation")
    single = evaluate(index, encoder, scorer, evaluation)
    timing = latency(padded(corpus_, args.latency_passages), evaluation, encoder, scorer)
    if args.json:
        result = {"rotation": rotation.as_dict(), "single_split": single.as_dict()}
        print(json.dumps(result | {"latency": timing}, indent=2))
        return
    print("rotation (evaluation split, every article held out once):")
    print("\n".join(format_report(rotation).splitlines()[:3]))
    print("single split (100 indexed, 25 held-out articles):")
    print(format_report(single))
    print(json.dumps({"latency": timing}, indent=2))


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
    corpus_ = corpus(args.cache, encoder)
    if args.calibrate:
        scorer, path = calibrate(rounds(corpus_, encoder, "calibration"), FUSION)
        CALIBRATION.write_text(json.dumps(scorer.to_json(), indent=2) + "\n", encoding="utf-8")
        for names, share in path:
            print(f"{share:.1%} answered right with {', '.join(names)}")
        print(f"wrote {CALIBRATION} (threshold {scorer.threshold:.4f})")
    elif args.compare:
        print(json.dumps(compare(corpus_, encoder), indent=2))
    else:
        measure(args, corpus_, encoder)


if __name__ == "__main__":
    main()
