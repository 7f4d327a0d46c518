"""The help-centre article a bot message was answered from, as recorded on the message.

The knowledge engine finds the article; the core only carries what it names onto the bot's
message (stored with it, shown to agents, linked for customers). Nothing here knows how
articles are found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict


class ArticleDict(TypedDict):
    """An article reference as stored with a message (agents and analytics see all of it)."""

    key: str
    title: str
    url: str | None
    score: float


@dataclass(frozen=True)
class ArticleRef:
    """The article that answered: its ``key`` in the knowledge index, its ``title``, its
    ``url`` (None when the article has none) and the ``score`` that made the bot sure."""

    key: str
    title: str
    url: str | None
    score: float

    def to_dict(self) -> ArticleDict:
        """The JSON-ready form stored with the message."""
        return {"key": self.key, "title": self.title, "url": self.url, "score": self.score}


def article_from_dict(value: object) -> ArticleRef | None:
    """The article a stored message names, or None when it names none or the stored value is
    malformed: a history written by another version, or edited by hand, must still load."""
    if not isinstance(value, dict):
        return None
    key, title, url, score = (value.get(name) for name in ("key", "title", "url", "score"))
    if not isinstance(key, str) or not isinstance(title, str):
        return None
    if url is not None and not isinstance(url, str):
        return None
    # bool is an int to Python, but True is no score
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return None
    return ArticleRef(key=key, title=title, url=url, score=float(score))
