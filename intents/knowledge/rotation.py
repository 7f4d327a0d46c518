"""Rotation over articles: every article of a split held out of the index once.

One seeded split that holds a few articles out of the index measures "questions the help centre
has no article for" on those few articles only: on StackFAQ 15 held-out evaluation articles,
where one article moves the held-out share by ~3 points. Rotation cuts a split's articles into
``ROUNDS`` groups (seeded); each round indexes every article of the corpus but one group, and
asks all the split's questions: those of the group are held out (any answer is wrong), the
others answerable. Every article of the split is held out exactly once, so the held-out share
is measured on all its articles' questions; each answerable question is asked ``ROUNDS - 1``
times, against indexes that differ in their other articles.

Embeddings are computed once (:class:`Corpus`, question vectors) and reused by every round; each
round's BM25 is fitted on its indexed passages only, as a help centre without those articles
would be (:meth:`KnowledgeIndex.from_embeddings`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from intents.knowledge.answerer import AnswerScorer
from intents.knowledge.documents import Passage
from intents.knowledge.evaluation import KnowledgeReport, LabelledQuestion, Outcome, summarise
from intents.knowledge.index import DEFAULT_K, FUSION, Fusion, Hit, KnowledgeIndex

# Five groups: a round holds out 20 % of the split's articles, as the single split holds out 20 %
# of StackFAQ's, so that answers' precision is measured on the same mix of held-out questions
# (with 2 rounds half the questions asked were held out, and precision fell with the mix).
ROUNDS = 5
SEED = 25


@dataclass(frozen=True)
class Corpus:
    """Every article's passages with their embeddings (one row each) and its title's embedding,
    computed once."""

    passages: list[Passage]
    embeddings: NDArray[np.float32]
    titles: dict[str, NDArray[np.float32]] | None = field(default=None)

    @classmethod
    def of(cls, index: KnowledgeIndex) -> Corpus:
        """The passages and embeddings of ``index`` (built once over every article)."""
        return cls(index.passages, index.embeddings, index.title_vectors())

    def index_without(self, held_out: frozenset[str]) -> KnowledgeIndex:
        """An index of every passage whose article is not in ``held_out``."""
        keep = [i for i, p in enumerate(self.passages) if p.article not in held_out]
        return KnowledgeIndex.from_embeddings(
            [self.passages[i] for i in keep], self.embeddings[keep], self.titles
        )


@dataclass(frozen=True)
class Asked:
    """One question asked in one round: its hits, and whether its article was held out."""

    question: LabelledQuestion
    held_out: bool
    hits: list[Hit]

    @property
    def right(self) -> bool:
        """The question is answerable and the top passage is from its article."""
        top = self.hits[0].passage.article if self.hits else None
        return not self.held_out and top == self.question.article

    def outcome(self, scorer: AnswerScorer) -> Outcome:
        """What ``scorer`` makes of the hits (no latency: the vectors were computed ahead)."""
        score = scorer.score(self.hits)
        answered = bool(self.hits) and score >= scorer.threshold
        return Outcome(self.question, self.held_out, self.hits, score, answered, 0.0, 0.0)


def groups(articles: Sequence[str], rounds: int = ROUNDS, seed: int = SEED) -> list[frozenset[str]]:
    """``articles`` shuffled (seeded) and dealt into ``rounds`` groups of near-equal size."""
    order = sorted(set(articles))
    random.Random(seed).shuffle(order)
    if rounds < 2 or len(order) < rounds:
        raise ValueError(f"{rounds} rounds of rotation need at least {rounds} articles, 2 rounds")
    return [frozenset(order[i::rounds]) for i in range(rounds)]


def rotate(
    corpus: Corpus,
    questions: Sequence[LabelledQuestion],
    vectors: NDArray[np.float32],
    rounds: int = ROUNDS,
    seed: int = SEED,
    how: Fusion = FUSION,
) -> list[Asked]:
    """Every question (embedded as ``vectors``, one row each) asked in every round, against the
    corpus without that round's group of the questions' articles."""
    asked = []
    for group in groups([q.article for q in questions], rounds, seed):
        index = corpus.index_without(group)
        asked += [
            Asked(q, q.article in group, index.search_vector(q.question, vector, DEFAULT_K, how))
            for q, vector in zip(questions, vectors, strict=True)
        ]
    return asked


def evaluate_rotation(asked: Sequence[Asked], scorer: AnswerScorer) -> KnowledgeReport:
    """The report over every round's questions: answerable ones count once per round their
    article was indexed in, held-out ones once (latencies are zero)."""
    return summarise([one.outcome(scorer) for one in asked])
