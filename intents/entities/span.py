"""Where an entity sits in a message, and the value it stands for."""

from __future__ import annotations

from typing import NamedTuple


class Span(NamedTuple):
    """One entity found in a text: ``text[start:end]`` and its slot ``value``."""

    start: int
    end: int
    value: str


def first_value(spans: list[Span]) -> str | None:
    """The value of the earliest span, or None when there is none."""
    return min(spans).value if spans else None


def overlaps(span: Span, others: list[Span]) -> bool:
    """Whether ``span`` shares a character with any of ``others``."""
    return any(span.start < other.end and other.start < span.end for other in others)
