"""The demo shop's help centre (``intents/help_centre/``) answered as customers write: the
passage quoted for questions with typos, greetings and two sentences, the article's overview for
a question about the whole article, and unrelated questions refused."""

from __future__ import annotations

import pytest

from intents.knowledge.answerer import KnowledgeAnswerer


@pytest.mark.parametrize(
    ("question", "article", "heading"),
    [
        (
            "My wool jumper shrank in the wash. Can I get it back to normal size?",
            "merino-wool-care.md",
            "If your jumper shrank or lost its shape",
        ),
        (
            "hi, what temperature should i wash my merino jumper at?",
            "merino-wool-care.md",
            "Washing merino and wool",
        ),
        (
            "Do your gift cards expire? I got one last christmas",
            "gift-cards.md",
            "Expiry and lost cards",
        ),
        (
            "how can i check how much is left on my giftcard",
            "gift-cards.md",
            "Checking your gift card balance",
        ),
        (
            "hi there, can I pay in instalments with klarna?",
            "payment-methods.md",
            "Paying in 3 instalments with Klarna",
        ),
        (
            "how do i get the student discount? do i need to verify",
            "student-discount.md",
            "Verifying you're a student",
        ),
        ("how often shuold i wash my jeans", "washing-denim.md", "How often to wash your jeans"),
        (
            "ordering to canada, will i have to pay import duties?",
            "international-duties-and-taxes.md",
            "Who pays duties and import taxes",
        ),
    ],
)
def test_a_customers_question_quotes_the_passage_that_answers_it(
    help_centre: KnowledgeAnswerer, question: str, article: str, heading: str
) -> None:
    match = help_centre.answer(question)
    assert match is not None
    assert (match.passage.article, match.passage.heading) == (article, heading)


def test_a_general_care_question_quotes_the_articles_opening(
    help_centre: KnowledgeAnswerer,
) -> None:
    match = help_centre.answer("how do I care for a merino jumper?")
    assert match is not None
    assert (match.passage.article, match.passage.heading) == ("merino-wool-care.md", None)
    assert match.passage.text.startswith("A merino or wool jumper lasts for years")


def test_a_broad_question_to_an_article_without_an_opening_gets_its_sections(
    help_centre: KnowledgeAnswerer,
) -> None:
    match = help_centre.answer("tell me about your gift cards")
    assert match is not None
    assert match.passage.heading is None
    assert match.passage.text == (
        "Gift cards covers: buying a gift card, checking your gift card balance, using a gift "
        "card and expiry and lost cards."
    )


@pytest.mark.parametrize(
    "question",
    ["what time does the football start tonight?", "can you recommend a good pizza place nearby?"],
)
def test_a_question_the_help_centre_has_nothing_on_is_refused(
    help_centre: KnowledgeAnswerer, question: str
) -> None:
    assert help_centre.answer(question) is None
