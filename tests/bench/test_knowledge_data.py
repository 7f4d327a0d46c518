"""StackFAQ's conversion: articles that load back as written, splits by article."""

from __future__ import annotations

import json
from pathlib import Path

from bench.knowledge_data import Thread, assign, prepare
from intents.knowledge.articles import load_articles

RAW = {
    "root": {
        "qapair": [
            {
                "question": f"Question {n}: how? #{n}",
                "answer": [f"# Answer {n}  with  spaces", "Second answer."] if n % 2 else "One",
                "rephr": [f"paraphrase {n}", "*", "", f"paraphrase {n}", f"other {n}"],
            }
            for n in range(1, 11)
        ]
    }
}


def test_prepared_articles_load_back_with_their_title_and_url(tmp_path: Path) -> None:
    summary = prepare(json.dumps(RAW), tmp_path)
    assert summary == {"articles": 8, "held_out": 2, "questions": 20}  # "*", "" and dupes dropped
    library = load_articles(tmp_path / "articles")
    assert library.warnings == ()
    first = next(a for a in library.articles if a.key == "q001.md")
    assert first.title == "Question 1: how? #1"  # quoted in the front matter, read back plain
    assert first.url == "https://webapps.stackexchange.example/q/1"
    assert "Answer 1 with spaces" in first.body
    assert not first.body.startswith("#")  # escaped: a paragraph, not a heading


def test_splits_are_by_article_with_the_shares_asked_for() -> None:
    threads = [Thread(n, f"q{n}", ["a"], ["p"]) for n in range(1, 126)]
    splits = assign(threads)
    held = [n for n, (held_out, _) in splits.items() if held_out]
    assert len(held) == 25
    indexed_calibration = [n for n, (h, s) in splits.items() if not h and s == "calibration"]
    assert len(indexed_calibration) == 40
    assert assign(threads) == splits  # seeded: the same every time
