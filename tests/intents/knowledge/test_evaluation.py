"""The knowledge evaluation counts answered-right, precision and held-out answers exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.encoder import Encoder
from intents.knowledge.answerer import AnswerScorer
from intents.knowledge.evaluation import (
    LabelledQuestion,
    QuestionsFileError,
    evaluate,
    evaluate_folder,
    format_report,
    read_questions,
)
from intents.knowledge.index import KnowledgeIndex
from tests.intents.knowledge.tiny_help_centre import ARTICLES

QUESTIONS = [
    LabelledQuestion("how do I wash a merino jumper?", "merino.md", "evaluation"),
    LabelledQuestion("do gift cards expire?", "gift-cards.md", "evaluation"),
    LabelledQuestion("how long do I have to return an item?", "returns.md", "evaluation"),
    LabelledQuestion("my kettle stopped working, can I claim?", "sizing.md", "evaluation"),
    LabelledQuestion("can I pay with PayPal?", "payments.md", "evaluation"),  # not indexed
]


def scorer(threshold: float) -> AnswerScorer:
    """A scorer whose score is the top hit's cosine (a steep logistic around 0.5)."""
    return AnswerScorer(("cosine",), (40.0,), -20.0, threshold, {})


def test_answering_everything_counts_wrong_articles_and_held_out_questions(
    index: KnowledgeIndex, encoder: Encoder
) -> None:
    report = evaluate(index, encoder, scorer(0.0), QUESTIONS)
    assert (report.answerable, report.held_out) == (4, 1)
    assert (report.answered, report.answered_right, report.held_out_answered) == (5, 3, 1)
    assert report.top_right == 3  # the kettle question's label points at the wrong article
    assert report.answered_right_share == 0.75
    assert report.precision == 0.6
    assert report.held_out_answered_share == 1.0
    assert 0 < report.p50_retrieval_ms <= report.p50_ms
    assert report.p50_ms <= report.p99_ms


def test_answering_nothing_has_no_wrong_answers(index: KnowledgeIndex, encoder: Encoder) -> None:
    report = evaluate(index, encoder, scorer(1.0), QUESTIONS)
    assert (report.answered, report.answered_right, report.held_out_answered) == (0, 0, 0)
    assert report.precision == 1.0
    assert report.answered_right_share == 0.0
    assert "answered right: 0.0% (0/4" in format_report(report)


def test_read_questions_filters_by_split_and_skips_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "questions.csv"
    path.write_text(
        "question,article_key,split\n"
        '"a, with a comma",x.md,calibration\n'
        "b,y.md,evaluation\n"
        ",z.md,evaluation\n",
        encoding="utf-8",
    )
    assert [q.question for q in read_questions(path)] == ["a, with a comma", "b"]
    assert read_questions(path, "calibration") == [
        LabelledQuestion("a, with a comma", "x.md", "calibration")
    ]


def test_a_questions_file_without_the_columns_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "questions.csv"
    path.write_text("text,label\nhi,greet\n", encoding="utf-8")
    with pytest.raises(QuestionsFileError, match="question and article_key"):
        read_questions(path)
    with pytest.raises(QuestionsFileError, match="cannot read"):
        read_questions(tmp_path / "missing.csv")


def test_evaluate_folder_indexes_the_articles_and_caches_the_index(
    encoder: Encoder, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for key, (title, text) in ARTICLES.items():
        (folder / key).write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    csv = tmp_path / "questions.csv"
    rows = "".join(f'"{q.question}",{q.article},{q.split}\n' for q in QUESTIONS)
    csv.write_text("question,article_key,split\n" + rows, encoding="utf-8")
    report = evaluate_folder(folder, csv, encoder, tmp_path / "cache", scorer(0.0))
    assert (report.answered, report.answered_right, report.held_out_answered) == (5, 3, 1)
    assert len(list((tmp_path / "cache" / "knowledge").iterdir())) == 1
