"""How well help-centre answers work on labelled questions: answered right, precision, held-out
questions answered, and latency (what ``omnibot knowledge eval`` and ``bench/knowledge.py``
print).

Questions come from a CSV ``question,article_key[,split]``. A question whose article is not in
the index is *held out*: any answer to it is wrong. Answerable questions count as answered right
when the top passage's article is theirs and its score passes the threshold. Each question is
asked on its own (encoder included, as when serving); latency is measured with and without the
question's encoding.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from intents.encoder import Encoder
from intents.knowledge.answerer import AnswerScorer
from intents.knowledge.index import DEFAULT_K, FUSION, Fusion, Hit, KnowledgeIndex, load_or_build


class QuestionsFileError(Exception):
    """A questions CSV that cannot be read or lacks the ``question`` / ``article_key`` columns."""


@dataclass(frozen=True)
class LabelledQuestion:
    """A question, the key of the article that answers it, and its split (may be empty)."""

    question: str
    article: str
    split: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one question."""

    question: LabelledQuestion
    held_out: bool
    hits: list[Hit]
    score: float
    answered: bool
    total_ms: float  # encoding, retrieval and scoring
    retrieval_ms: float  # retrieval and scoring only

    @property
    def top_right(self) -> bool:
        """The top passage is from the question's article (whatever the score)."""
        return bool(self.hits) and self.hits[0].passage.article == self.question.article

    @property
    def right(self) -> bool:
        """Answered, from the question's article."""
        return self.answered and self.top_right


@dataclass(frozen=True)
class KnowledgeReport:
    """Counts and latency percentiles over a set of questions."""

    answerable: int
    held_out: int
    answered: int
    answered_right: int
    held_out_answered: int
    top_right: int  # answerable questions whose top passage is from their article
    p50_ms: float
    p99_ms: float
    p50_retrieval_ms: float
    p99_retrieval_ms: float

    @property
    def answered_right_share(self) -> float:
        """Share of the answerable questions answered from their article."""
        return self.answered_right / self.answerable if self.answerable else 0.0

    @property
    def precision(self) -> float:
        """Share of the answers that were right (held-out questions answered are wrong)."""
        return self.answered_right / self.answered if self.answered else 1.0

    @property
    def held_out_answered_share(self) -> float:
        """Share of the held-out questions that were (wrongly) answered."""
        return self.held_out_answered / self.held_out if self.held_out else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counts, shares and latencies as JSON-ready values."""
        shares = ("answered_right_share", "precision", "held_out_answered_share")
        return {**asdict(self), **{name: round(getattr(self, name), 4) for name in shares}}


def read_questions(path: Path, split: str | None = None) -> list[LabelledQuestion]:
    """The questions in the CSV at ``path`` (only those of ``split`` when given)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise QuestionsFileError(f"cannot read questions from {path}: {error}") from error
    if rows and not {"question", "article_key"} <= rows[0].keys():
        raise QuestionsFileError(f"{path} needs the columns question and article_key")
    questions = [
        LabelledQuestion(row["question"], row["article_key"], row.get("split") or "")
        for row in rows
        if row["question"] and row["article_key"]
    ]
    return [q for q in questions if split is None or q.split == split]


def ask(
    index: KnowledgeIndex,
    encoder: Encoder,
    scorer: AnswerScorer,
    question: LabelledQuestion,
    how: Fusion = FUSION,
    vector: NDArray[np.float32] | None = None,
) -> Outcome:
    """Ask ``question`` (embedded by ``encoder`` unless ``vector`` is given) and time it."""
    start = time.perf_counter()
    if vector is None:
        vector = encoder.encode([question.question])[0]
    encoded = time.perf_counter()
    hits = index.search_vector(question.question, vector, DEFAULT_K, how)
    score = scorer.score(hits)
    done = time.perf_counter()
    held_out = question.article not in index.articles
    answered = bool(hits) and score >= scorer.threshold
    return Outcome(
        question, held_out, hits, score, answered, (done - start) * 1e3, (done - encoded) * 1e3
    )


def summarise(outcomes: Sequence[Outcome]) -> KnowledgeReport:
    """The report over ``outcomes``."""
    answerable = [o for o in outcomes if not o.held_out]
    total = np.asarray([o.total_ms for o in outcomes] or [0.0])
    retrieval = np.asarray([o.retrieval_ms for o in outcomes] or [0.0])
    return KnowledgeReport(
        answerable=len(answerable),
        held_out=len(outcomes) - len(answerable),
        answered=sum(o.answered for o in outcomes),
        answered_right=sum(o.right for o in outcomes),
        held_out_answered=sum(o.answered for o in outcomes if o.held_out),
        top_right=sum(o.top_right for o in answerable),
        p50_ms=round(float(np.percentile(total, 50)), 2),
        p99_ms=round(float(np.percentile(total, 99)), 2),
        p50_retrieval_ms=round(float(np.percentile(retrieval, 50)), 2),
        p99_retrieval_ms=round(float(np.percentile(retrieval, 99)), 2),
    )


def evaluate(
    index: KnowledgeIndex,
    encoder: Encoder,
    scorer: AnswerScorer,
    questions: Sequence[LabelledQuestion],
    how: Fusion = FUSION,
) -> KnowledgeReport:
    """Ask every question, one at a time, and summarise."""
    return summarise([ask(index, encoder, scorer, question, how) for question in questions])


def evaluate_folder(
    folder: Path,
    questions_csv: Path,
    encoder: Encoder,
    cache_dir: Path,
    scorer: AnswerScorer | None = None,
    split: str | None = None,
) -> KnowledgeReport:
    """:func:`evaluate` over the articles in ``folder`` (index from the cache, else built and
    cached) and the questions in ``questions_csv``; the shipped calibration by default."""
    from intents.knowledge.articles import content_hash, load_articles
    from intents.knowledge.passages import split_all

    passages = split_all(load_articles(folder).articles)
    index = load_or_build(cache_dir, content_hash(folder), passages, encoder)
    questions = read_questions(questions_csv, split)
    return evaluate(index, encoder, scorer or AnswerScorer.load(), questions)


def format_report(report: KnowledgeReport) -> str:
    """The report as a few lines for a terminal."""
    return "\n".join(
        (
            f"answerable questions answered right: {report.answered_right_share:.1%} "
            f"({report.answered_right}/{report.answerable}; top passage right "
            f"{report.top_right}/{report.answerable})",
            f"precision of the answers: {report.precision:.1%} "
            f"({report.answered_right}/{report.answered})",
            f"held-out questions answered (wrongly): {report.held_out_answered_share:.1%} "
            f"({report.held_out_answered}/{report.held_out})",
            f"latency per question: p50 {report.p50_ms:.1f} ms, p99 {report.p99_ms:.1f} ms "
            f"(retrieval without encoding: p50 {report.p50_retrieval_ms:.2f} ms, "
            f"p99 {report.p99_retrieval_ms:.2f} ms)",
        )
    )
