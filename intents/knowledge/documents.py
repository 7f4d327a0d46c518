"""The shapes help-centre knowledge comes in: an article as loaded, and the passages it is
split into (what is indexed, retrieved and quoted)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One help-centre article. ``body`` is Markdown-like text: ``#`` headings on lines of
    their own, paragraphs separated by blank lines (HTML and Zendesk bodies are converted to
    it when loaded)."""

    key: str  # stable id: the file's path in the folder, "#<n>" appended for an export's n-th
    title: str
    url: str | None
    body: str


@dataclass(frozen=True)
class Passage:
    """A piece of an article short enough to quote, with the article's title and the heading
    it sits under (both help retrieval: "Care" under "Merino jumper" says what it is about)."""

    article: str  # the Article's key
    title: str
    url: str | None
    heading: str | None
    text: str

    def search_text(self) -> str:
        """What retrieval matches a question against: title, heading and text."""
        return ". ".join(part for part in (self.title, self.heading, self.text) if part)
