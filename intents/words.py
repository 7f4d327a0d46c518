"""Word shapes for spelling correction: deletion keys, edit distances, inflections."""

from __future__ import annotations

from collections.abc import Iterator

INFLECTIONS = ("s", "es", "ed", "ing", "er", "ers", "en", "ly")
MIN_STEM = 3  # letters


def stems(word: str) -> Iterator[str]:
    """``word`` and the words it may be inflected from ("resetting": "reset", "costed": "cost",
    "quicken": "quick", "lier": "lie")."""
    yield word
    for ending in INFLECTIONS:
        stem = word.removesuffix(ending)
        if stem == word or len(stem) < MIN_STEM:
            continue
        if not (ending == "s" and stem.endswith("s")):
            yield stem
        if ending != "s":
            yield stem + "e"  # "negating": "negate"
        if len(stem) > MIN_STEM and stem[-1] == stem[-2] and ending in ("ed", "ing", "er"):
            yield stem[:-1]  # "resetting": "reset"


def undoubled(word: str) -> str:
    """``word`` with every doubled letter single ("hhw": "hw")."""
    return "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])


def deletions(word: str, edits: int) -> set[str]:
    """``word`` and every string made by deleting up to ``edits`` of its letters."""
    keys = {word}
    for _ in range(edits):
        keys |= {key[:i] + key[i + 1 :] for key in keys for i in range(len(key))}
    return keys


def one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter dropped, added or replaced, or two adjacent
    letters swapped."""
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(long) - len(short) != 1:
        return False
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1 :]


def distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: letters dropped, added, replaced, adjacent letters swapped."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], previous2[j - 2] + 1)
        previous2, previous = previous, row
    return previous[len(b)]
