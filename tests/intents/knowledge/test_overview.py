"""Broad questions: the rule that tells them from specific ones, and the overview quoted for
them (an article's opening passage, else a lead built from its headings, within the limits)."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.sms.text import ARTICLE_BODY_CHARS, article_body
from intents.knowledge.documents import Passage
from intents.knowledge.overview import (
    LEAD_CHARS,
    TITLE_OVER_HEADING,
    TITLE_OVER_PASSAGE,
    is_broad,
    lead,
    overview,
    section_headings,
)

TITLE = "Paying with Klarna, PayPal and other methods"
URL = "https://shop.example.com/help/payment-methods"
HEADINGS = ["Ways to pay", "PayPal and Apple Pay", "Is paying on your site safe?"]


def article(headings: Sequence[str | None]) -> list[Passage]:
    return [Passage("pay.md", TITLE, URL, h, f"Text under {h}.") for h in headings]


def test_a_title_clearly_above_every_passage_and_heading_is_broad() -> None:
    title = 0.7
    passages = [title - TITLE_OVER_PASSAGE - 0.01, 0.5, 0.4]
    headings = [title - TITLE_OVER_HEADING - 0.01, 0.3, 0.2]
    assert is_broad(title, passages, headings)


def test_a_title_about_as_close_as_a_passage_is_not_broad() -> None:
    assert not is_broad(0.7, [0.7 - TITLE_OVER_PASSAGE + 0.01, 0.4], [0.3, 0.3, 0.3])


def test_a_heading_about_as_close_as_the_title_makes_it_specific() -> None:
    assert not is_broad(0.7, [0.5, 0.4], [0.7 - TITLE_OVER_HEADING + 0.01, 0.3, 0.3])


def test_an_article_of_two_sections_is_never_answered_with_an_overview() -> None:
    assert not is_broad(0.9, [0.1, 0.1], [0.1, 0.1])


def test_the_opening_passage_is_the_overview_when_there_is_one() -> None:
    passages = article([None, *HEADINGS])
    assert overview(passages) is passages[0]


def test_without_an_opening_passage_the_overview_lists_the_sections() -> None:
    passages = article([HEADINGS[0], *HEADINGS])  # a long section: two passages, one heading
    quoted = overview(passages)
    assert quoted.heading is None
    assert (quoted.article, quoted.title, quoted.url) == ("pay.md", TITLE, URL)
    assert quoted.text == (
        f"{TITLE} covers: ways to pay, PayPal and Apple Pay and is paying on your site safe."
    )
    assert section_headings(passages) == HEADINGS


def test_a_long_list_of_sections_is_cut_with_and_more_within_the_cap() -> None:
    headings = [f"Section number {n} about something rather long" for n in range(12)]
    text = lead(TITLE, headings)
    assert len(text) <= LEAD_CHARS
    assert text.startswith(f"{TITLE} covers: section number 0 about")
    assert text.endswith(" and more.")


def test_a_lead_fits_an_sms_with_its_title_and_link_whole() -> None:
    text = overview(article([f"Paying with method number {n}" for n in range(10)])).text
    assert text.endswith(" and more.")
    body = article_body(text, TITLE, URL)
    assert len(body) <= ARTICLE_BODY_CHARS
    assert body == f"{text}\n{TITLE}: {URL}"
