"""A broad question about a whole article ("how do I care for a merino jumper?", "tell me about
gift cards") is answered with the article's gist rather than its closest passage, as a good
agent would: the article's opening passage when it has one, else a lead built from its headings
("Gift cards covers: buying a gift card, checking your balance, ...").

A question is broad when its article's title stands clearly above every passage of the article
(``TITLE_OVER_PASSAGE``) and above every section heading (``TITLE_OVER_HEADING``: a question
closer to a heading than to the title asks about that section), and the article has
``MIN_SECTIONS`` sections or more. The margins were chosen on customer-style questions to the
demo help centre, broad and specific (``tests/intents/knowledge/test_overview_questions.py``;
bench/README.md has the counts). Only which passage is quoted changes: whether to answer, and
from which article, is the answer score's decision alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from intents.knowledge.documents import Passage

# The title's cosine with the question over the best passage's: below it, a title that matches
# about as well as a passage does is no sign of a broad question ("can I pay in instalments
# with Klarna?" is 0.028 closer to "Paying with Klarna, PayPal and other methods").
TITLE_OVER_PASSAGE = 0.04
# The title's cosine over the best section heading's: a specific question that names the
# article's topic still matches its section's heading about as well as the title ("how do i get
# the student discount? do i need to verify" is 0.017 closer to "Verifying you're a student").
TITLE_OVER_HEADING = 0.02
MIN_SECTIONS = 3  # an article of one or two sections: its best passage already is the gist
LEAD_CHARS = 220  # a heading lead fits an SMS beside a title and link of about 100 characters
_MORE = "and more"


def is_broad(title: float, passages: Sequence[float], headings: Sequence[float]) -> bool:
    """Whether a question whose cosines with an article's title, passages and section headings
    are these asks about the article as a whole."""
    return title_over_passages(title, passages, len(headings)) and title_over_headings(
        title, headings
    )


def title_over_passages(title: float, passages: Sequence[float], sections: int) -> bool:
    """Whether the title's cosine stands ``TITLE_OVER_PASSAGE`` above every passage's in an
    article of at least ``MIN_SECTIONS`` sections (the first half of :func:`is_broad`)."""
    return (
        sections >= MIN_SECTIONS and bool(passages) and title - max(passages) >= TITLE_OVER_PASSAGE
    )


def title_over_headings(title: float, headings: Sequence[float]) -> bool:
    """Whether the title's cosine stands ``TITLE_OVER_HEADING`` above every section heading's
    (the second half of :func:`is_broad`)."""
    return all(title - heading >= TITLE_OVER_HEADING for heading in headings)


def section_headings(passages: Sequence[Passage]) -> list[str]:
    """The article's section headings, in order, each once."""
    return list(dict.fromkeys(p.heading for p in passages if p.heading))


def overview(passages: Sequence[Passage]) -> Passage:
    """The passage that gives the gist of the article of ``passages`` (its passages in order):
    its opening passage when that sits under no heading, else a lead listing its sections."""
    first = passages[0]
    if first.heading is None:
        return first
    text = lead(first.title, section_headings(passages))
    return Passage(first.article, first.title, first.url, None, text)


def lead(title: str, headings: Sequence[str]) -> str:
    """ "<title> covers: a, b and c." over the ``headings`` (as many as fit ``LEAD_CHARS``,
    then "and more")."""
    topics = [_topic(heading) for heading in headings]
    for count in range(len(topics), 0, -1):
        shown = topics[:count] + ([_MORE] if count < len(topics) else [])
        text = f"{title} covers: {_listing(shown)}."
        if len(text) <= LEAD_CHARS or count == 1:
            return text
    return f"{title}."


def _topic(heading: str) -> str:
    """A heading as an item of a sentence: its end punctuation dropped, its first letter in
    lower case unless the word is a name or an acronym ("PayPal", "UK")."""
    text = heading.strip().rstrip("?.!:")
    first = text.split(" ", 1)[0]
    if first[1:] != first[1:].lower() or first in {"I", "I'm"}:
        return text
    return text[:1].lower() + text[1:]


def _listing(items: Sequence[str]) -> str:
    """``items`` as an English list: "a", "a and b", "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
