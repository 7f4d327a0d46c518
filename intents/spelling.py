"""Typos and text-speak put right before a message is classified.

A word the training examples never use is replaced by the training word one edit away (a
letter dropped, added, replaced, or two adjacent letters swapped) that the most examples use,
and common text-speak ("u", "pls", "hw") by its word when the training data lacks the short
form. Words of fewer than four letters are only expanded, never corrected (too many real
words sit one edit from them), and neither are English words the training data lacks (the
encoder's WordPiece vocabulary: "candles", "tall" are not typos of "handles", "call"). The
training vocabulary is the TF-IDF member's, so it comes with every trained model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from sklearn.feature_extraction.text import TfidfVectorizer

from intents.encoder import model_dir

MIN_CORRECTED = 4  # letters

TEXT_SPEAK: dict[str, str] = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thank you",
    "wat": "what",
    "wot": "what",
    "hw": "how",
    "cn": "can",
    "bak": "back",
    "y": "why",
    "b4": "before",
    "cuz": "because",
    "coz": "because",
    "tmrw": "tomorrow",
    "msg": "message",
    "ppl": "people",
    "rly": "really",
    "im": "i'm",
    "idk": "i don't know",
    "dont": "don't",
    "cant": "can't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "arent": "aren't",
    "havent": "haven't",
    "wont": "won't",
}

_WORD = re.compile(r"[A-Za-z0-9]+")


class Speller:
    """Puts a message's unknown words right against a training vocabulary."""

    def __init__(
        self, frequency: Mapping[str, float], english: frozenset[str] = frozenset()
    ) -> None:
        self.frequency = dict(frequency)  # word -> how common it is in training (higher: more)
        self.english = english  # real words, never corrected
        # every word and each of its one-letter deletions -> the words (SymSpell's index): two
        # words one edit apart share a key, so a lookup costs a few dict reads, not ~500
        self._index: dict[str, list[str]] = {}
        for word in self.frequency:
            for key in {word, *_deletions(word)}:
                self._index.setdefault(key, []).append(word)

    @classmethod
    def from_vectorizer(
        cls, words: TfidfVectorizer, english: frozenset[str] = frozenset()
    ) -> Speller:
        """The vocabulary of a fitted word TF-IDF vectoriser (a lower idf is a commoner word);
        ``english``: real words never corrected."""
        idf = words.idf_
        frequency = {w: -float(idf[i]) for w, i in words.vocabulary_.items() if w.isalpha()}
        return cls(frequency, english)

    def word(self, word: str) -> str:
        """``word`` put right, or as it was."""
        lower = word.lower()
        if lower in self.frequency:
            return word
        if lower in TEXT_SPEAK:
            return TEXT_SPEAK[lower]
        if len(lower) < MIN_CORRECTED or not lower.isalpha() or lower in self.english:
            return word
        known = {
            candidate
            for key in {lower, *_deletions(lower)}
            for candidate in self._index.get(key, ())
            if _one_edit(lower, candidate)
        }
        if not known:
            return word
        return max(known, key=lambda candidate: (self.frequency[candidate], candidate))

    def __call__(self, text: str) -> str:
        """``text`` with every unknown word put right."""
        return _WORD.sub(lambda match: self.word(match.group()), text)

    def all(self, texts: Sequence[str]) -> list[str]:
        """Every text put right."""
        return [self(text) for text in texts]


@functools.cache
def english_words() -> frozenset[str]:
    """The whole words of the encoder's WordPiece vocabulary (about 22,000)."""
    with (model_dir() / "vocab.txt").open(encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip().isalpha())


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
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
