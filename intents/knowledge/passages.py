"""Articles split into passages short enough to retrieve and quote: along headings and
paragraphs, short neighbours under one heading merged, long paragraphs cut on sentences; and
``trim_to``, which shortens a passage for a reply on a sentence boundary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from intents.knowledge.documents import Article, Passage

MAX_PASSAGE_CHARS = 600  # about what a web chat reply quotes; a retrieval unit of one topic
ELLIPSIS = "…"
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*\Z")
LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)])[ \t]+")
# Where a sentence ends: after . ! ? or … (and any closing quote or bracket), before spaces and
# something that does not start in lower case ("e.g. cotton" is not an end; "Dr. Smith" is,
# which costs a short quote at worst). A line break always ends one.
SENTENCE_END = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"'\u201d\u2019)\]]))[ \t]+(?=[^a-z\s])|[ \t]*\n\s*"
)


def split_all(articles: Iterable[Article]) -> list[Passage]:
    """The passages of every article, in order."""
    return [passage for article in articles for passage in split_article(article)]


def split_article(article: Article) -> list[Passage]:
    """The article's passages: each section's paragraphs merged up to ``MAX_PASSAGE_CHARS``,
    a longer paragraph cut on sentences; a heading with nothing under it gives none."""
    return [
        Passage(article.key, article.title, article.url, heading, text)
        for heading, paragraphs in sections(article)
        for text in merge(pieces(paragraphs))
    ]


def sections(article: Article) -> Iterator[tuple[str | None, list[str]]]:
    """(heading, paragraphs) in order; the heading that repeats the title counts as none."""
    heading: str | None = None
    paragraphs: list[str] = []
    for block in blocks(article.body):
        match = HEADING.match(block)
        if match is None:
            paragraphs.append(block)
            continue
        if paragraphs:
            yield heading, paragraphs
        text = match.group(2).strip()
        heading = None if not text or text.casefold() == article.title.casefold() else text
        paragraphs = []
    if paragraphs:
        yield heading, paragraphs


def blocks(body: str) -> Iterator[str]:
    """Headings and paragraphs of a Markdown-like body. A paragraph's wrapped lines are
    joined with spaces; list items keep lines of their own."""
    lines: list[str] = []
    for raw in body.splitlines():
        line = raw.strip()
        if HEADING.match(line) or not line:
            if lines:
                yield "\n".join(lines)
            lines = []
            if line:
                yield line
        elif lines and not LIST_ITEM.match(line):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    if lines:
        yield "\n".join(lines)


def pieces(paragraphs: list[str]) -> Iterator[str]:
    """The paragraphs, each longer one cut into runs of sentences of at most the cap."""
    for paragraph in paragraphs:
        rest = paragraph
        while len(rest) > MAX_PASSAGE_CHARS:
            head = trim_to(rest, MAX_PASSAGE_CHARS, mark=False)
            yield head
            rest = rest[len(head) :].strip()
        if rest:
            yield rest


def merge(texts: Iterable[str]) -> Iterator[str]:
    """Neighbouring texts joined (a blank line apart) while the result stays under the cap."""
    current = ""
    for text in texts:
        if current and len(current) + 2 + len(text) <= MAX_PASSAGE_CHARS:
            current = f"{current}\n\n{text}"
            continue
        if current:
            yield current
        current = text
    if current:
        yield current


def trim_to(text: str, limit: int, *, mark: bool = True) -> str:
    """``text`` cut to at most ``limit`` characters: at the last sentence end that fits; when
    even the first sentence is longer, at a word boundary, with "…" (when ``mark``)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    ends = [m.start() for m in SENTENCE_END.finditer(text) if 0 < m.start() <= limit]
    if ends:
        return text[: ends[-1]].rstrip()
    room = limit - len(ELLIPSIS) if mark else limit
    cut = text.rfind(" ", 0, room + 1)
    head = text[: cut if cut > 0 else room].rstrip()
    return head + ELLIPSIS if mark else head
