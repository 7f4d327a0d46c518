"""The answer score's features are chosen on the calibration rounds: a feature that tells
answerable from held-out questions apart is chosen, one that does not is left out."""

from __future__ import annotations

from bench.knowledge_rotation import fit, select
from intents.knowledge.documents import Passage
from intents.knowledge.evaluation import LabelledQuestion
from intents.knowledge.index import Hit
from intents.knowledge.rotation import Asked


def asked(n: int, held_out: bool) -> Asked:
    """A question whose top hit has a high cosine when answerable, a low one when held out;
    its BM25 says nothing either way."""
    cosine = (0.7 if not held_out else 0.3) + (n % 10) / 100

    def hit(article: str, score: float, rank: int) -> Hit:
        return Hit(Passage(article, article, None, None, "text"), 2.0, score, score, rank)

    question = LabelledQuestion(f"q{n}", "x.md" if held_out else "a.md", "calibration")
    return Asked(question, held_out, [hit("a.md", cosine, 0), hit("b.md", 0.2, 1)])


def test_select_chooses_the_telling_feature_and_stops() -> None:
    rounds = [asked(n, held_out=n % 3 == 0) for n in range(60)]
    path = select(rounds, ["bm25", "cosine"])
    assert [names for names, _ in path] == [("cosine",)]  # BM25 adds nothing: not chosen
    assert path[0][1] == 1.0  # every answerable question answered right
    scorer = fit(rounds, path[-1][0], {})
    assert all(scorer.score(a.hits) >= scorer.threshold for a in rounds if not a.held_out)
    assert all(scorer.score(a.hits) < scorer.threshold for a in rounds if a.held_out)
