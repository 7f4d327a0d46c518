"""Splitting articles into passages (headings kept, short paragraphs merged, long ones cut, never
over the cap) and trimming a passage for a reply on a sentence boundary."""

from __future__ import annotations

import pytest

from intents.knowledge.articles import SAMPLE_ARTICLES_PATH, load_articles
from intents.knowledge.documents import Article
from intents.knowledge.passages import (
    ELLIPSIS,
    MAX_PASSAGE_CHARS,
    split_all,
    split_article,
    trim_to,
)

URL = "https://shop.example.com/help/merino"


def article(body: str, title: str = "Merino jumpers") -> Article:
    return Article("merino.md", title, URL, body)


def sentences(count: int, words: int = 12) -> str:
    return " ".join(f"Sentence {n} " + "word " * words + "ends here." for n in range(count))


def test_passages_keep_title_url_and_the_heading_they_sit_under() -> None:
    body = (
        "# Merino jumpers\n\nIntro line.\n\n## Washing\n\nHand wash at 30°C.\n\n"
        "Use wool detergent.\n\n## Drying\n\nDry flat,\naway from heat."
    )
    passages = split_article(article(body))
    assert [(p.heading, p.text) for p in passages] == [
        (None, "Intro line."),  # the heading repeating the title is no heading
        ("Washing", "Hand wash at 30°C.\n\nUse wool detergent."),
        ("Drying", "Dry flat, away from heat."),  # a wrapped line joins its paragraph
    ]
    assert {(p.article, p.title, p.url) for p in passages} == {("merino.md", "Merino jumpers", URL)}
    assert passages[1].search_text() == (
        "Merino jumpers. Washing. Hand wash at 30°C.\n\nUse wool detergent."
    )


def test_a_heading_with_nothing_under_it_gives_no_passage() -> None:
    body = "## Empty\n\n## Also empty\n\n### Care\n\n- Brush gently\n- Air it out\n\n## Last"
    passages = split_article(article(body))
    assert [(p.heading, p.text) for p in passages] == [("Care", "- Brush gently\n- Air it out")]


def test_short_paragraphs_merge_up_to_the_cap_and_no_further() -> None:
    paragraph = "x" * 250 + "."
    passages = split_article(article("## Care\n\n" + "\n\n".join([paragraph] * 5)))
    assert [p.text.count(paragraph) for p in passages] == [2, 2, 1]
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)


def test_paragraphs_under_different_headings_never_merge() -> None:
    passages = split_article(article("## A\n\nOne.\n\n## B\n\nTwo."))
    assert [p.text for p in passages] == ["One.", "Two."]


def test_a_long_paragraph_is_cut_on_sentence_boundaries() -> None:
    paragraph = sentences(40)
    passages = split_article(article(f"## Care\n\n{paragraph}"))
    assert len(passages) > 1
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    assert all(p.text.endswith("ends here.") for p in passages)
    assert " ".join(p.text for p in passages) == paragraph  # nothing lost or repeated


def test_a_sentence_longer_than_the_cap_is_cut_on_words() -> None:
    passages = split_article(article("## Care\n\n" + "wool " * 400))
    assert all(0 < len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    assert sum(p.text.count("wool") for p in passages) == 400


def test_split_all_keeps_article_order() -> None:
    first = Article("a.md", "A", None, "One.")
    second = Article("b.md", "B", None, "Two.\n\n## More\n\nThree.")
    assert [(p.article, p.text) for p in split_all([first, second])] == [
        ("a.md", "One."),
        ("b.md", "Two."),
        ("b.md", "Three."),
    ]


def test_the_sample_articles_split_into_quotable_passages() -> None:
    passages = split_all(load_articles(SAMPLE_ARTICLES_PATH).articles)
    assert len(passages) >= 50
    assert all(0 < len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    # every sample passage sits under a ## section, but an article's opening (its gist, quoted
    # for a broad question) comes before the first section
    firsts = {p.article: p for p in reversed(passages)}
    assert all(p.heading or firsts[p.article] is p for p in passages)
    assert any(not p.heading for p in firsts.values())  # the merino care article's opening


@pytest.mark.parametrize("limit", [600, 320])
def test_trim_to_keeps_whole_sentences_within_the_limit(limit: int) -> None:
    text = sentences(30)
    trimmed = trim_to(text, limit)
    assert len(trimmed) <= limit
    assert trimmed.endswith("ends here.")
    assert text.startswith(trimmed)
    next_sentence = text[len(trimmed) :].split("ends here.")[0] + "ends here."
    assert len(trimmed) + len(next_sentence) > limit  # as many sentences as fit


@pytest.mark.parametrize("limit", [600, 320])
def test_trim_to_cuts_a_single_long_sentence_on_a_word_with_an_ellipsis(limit: int) -> None:
    text = "Merino " + "is very soft and warm " * 60 + "indeed."
    trimmed = trim_to(text, limit)
    assert len(trimmed) <= limit
    assert trimmed.endswith(ELLIPSIS)
    assert text.startswith(trimmed.removesuffix(ELLIPSIS))
    assert trimmed.removesuffix(ELLIPSIS).split()[-1] in {"is", "very", "soft", "and", "warm"}


def test_trim_to_leaves_short_text_alone_and_respects_quotes_and_abbreviations() -> None:
    assert trim_to("  Wash at 30°C.  ", 320) == "Wash at 30°C."
    text = 'Label says "Dry flat." Use e.g. a towel on a rack. Then ' + "wait " * 80
    assert trim_to(text, 60) == 'Label says "Dry flat." Use e.g. a towel on a rack.'
    assert trim_to("one\n\ntwo three four", 12) == "one"
    assert trim_to("anything", 0) == ""
