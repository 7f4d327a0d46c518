"""Typos and text-speak put right before a message is classified.

A word the training examples never use is replaced by a training word one edit away (a letter
dropped, added, replaced, or two adjacent letters swapped), or two edits away for long words
when none is one away. Among candidates the one the training examples use most *next to the
message's neighbouring words* wins (bigram counts), then the commonest. Words of two or three
letters have too many real words one edit away, so they are corrected only when the training
examples put the candidate next to a neighbour ("mmy card" -> "my card"); "2" and "4" between
words become "to" and "for" on the same evidence ("need 2 find", not "2 days"). Common
text-speak ("u", "pls", "hw") becomes its word. English words the training data lacks (the
encoder's WordPiece vocabulary: "candles", "tall" are not typos of "handles", "call") stay. The
counts are the TF-IDF member's (document frequencies, from its idf), so they come with every
trained model.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence

from sklearn.feature_extraction.text import TfidfVectorizer

from intents.encoder import model_dir
from intents.words import deletions, distance, one_edit, stems, undoubled

MIN_CORRECTED = 4  # letters: shorter words are corrected only on their neighbours' evidence
MIN_SHORT = 2  # letters: single letters ("a", "i") are left alone
MIN_TWO_EDITS = 7  # letters: words this long may be two edits from their training word
MIN_MISUSED = 3  # examples pairing each neighbour with a training word to replace a real word
MIN_CONTEXT = 2  # training examples that put a short word's candidate next to a neighbour
# Short words among the encoder's commonest (its WordPiece vocabulary runs commonest first, real
# words from line ~2,000) are real words ("car", "he"); rarer ones ("mt", "th") may be typos.
COMMON_RANK = 7000
# "2" and "4" as words, and what they stand for in text-speak
DIGIT_WORDS: dict[str, tuple[str, ...]] = {"2": ("to", "too"), "4": ("for",)}
# a digit is a number before a word at least this share of whose examples count it ("days")
MIN_NUMBERED = 0.05
NUMBERS = frozenset({"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"})
NUMBERS |= {"few", "several", "couple"}
# single letters that stand for a word in text-speak: the first unless the neighbours say another
LETTER_WORDS: dict[str, tuple[str, ...]] = {"y": ("why", "my")}
NUMERIC_MARKS = "$£€.,:-/%x"  # next to these a digit is a number ("$2", "2.5", "4-digit", "2x")

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
    "b4": "before",
    "2day": "today",
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
_SYMBOLS = re.compile(r"(?<!\S)(&|w/)(?!\S)", re.IGNORECASE)
SYMBOL_WORDS = {"&": "and", "w/": "with"}


class Speller:
    """Puts a message's unknown words right against a training vocabulary."""

    def __init__(self, counts: Mapping[str, int], english: Mapping[str, int] | None = None) -> None:
        # word or "word word" -> how many training examples use it
        self.counts = {term: n for term, n in counts.items() if n > 0}
        self.frequency = {w: n for w, n in self.counts.items() if w.isalpha()}
        self.english = english or {}  # real words (-> rank, commonest first), never corrected
        self._counted = self._numbered()
        # every word and its one-letter deletions -> the words (SymSpell's index): two words
        # one edit apart share a key, so a lookup costs a few dict reads, not a vocabulary scan;
        # ``_far`` adds the two-letter deletions of long words, for words two edits away
        self._one: dict[str, list[str]] = {}
        self._far: dict[str, list[str]] = {}
        for word in self.frequency:
            near = deletions(word, 1)
            for key in near:
                self._one.setdefault(key, []).append(word)
            if len(word) >= MIN_TWO_EDITS - 2:
                for key in deletions(word, 2) - near:
                    self._far.setdefault(key, []).append(word)

    def _numbered(self) -> set[str]:
        """The words the training examples often count ("24 hours", "two days"; not "the")."""
        counted: dict[str, int] = {}
        for pair, n in self.counts.items():
            first, _, second = pair.partition(" ")
            if second and (first.isdigit() or first in NUMBERS):
                counted[second] = counted.get(second, 0) + n
        return {w for w, n in counted.items() if n >= MIN_NUMBERED * self.counts.get(w, n)}

    @classmethod
    def from_vectorizer(
        cls, words: TfidfVectorizer, english: Mapping[str, int] | None = None
    ) -> Speller:
        """The vocabulary of a fitted word TF-IDF vectoriser (words and word pairs, counted
        from its smoothed idf); ``english``: real words never corrected."""
        idf = words.idf_
        # smoothed idf = ln((1 + n) / (1 + df)) + 1; the rarest term is in one example
        examples = 2 * math.exp(float(idf.max()) - 1) - 1
        counts = {
            term: round((1 + examples) / math.exp(float(idf[i]) - 1) - 1)
            for term, i in words.vocabulary_.items()
        }
        return cls(counts, english)

    def word(self, word: str, before: str = "", after: str = "") -> str:
        """``word`` put right between the words ``before`` and ``after``, or as it was."""
        lower = word.lower()
        lower = undoubled(lower) if undoubled(lower) in TEXT_SPEAK else lower  # "hhw", "watt"
        if lower in TEXT_SPEAK and self._speaks(lower):
            return TEXT_SPEAK[lower]
        if lower in DIGIT_WORDS:
            if after in self._counted:  # "2 days", "4 cards": a number
                return word
            return self._best(DIGIT_WORDS[lower], before, after, MIN_CONTEXT) or word
        if lower in LETTER_WORDS:  # the usual word, unless only another pairs with a neighbour
            usual, *others = LETTER_WORDS[lower]
            return (
                self._best([usual], before, after, 1)
                or self._best(others, before, after, 1)
                or usual
            )
        if len(lower) < MIN_SHORT or not lower.isalpha():
            return word
        if lower in self.frequency or self._real(lower):
            return self._misused(lower, before, after) or word
        candidates = self._candidates(lower)
        short = len(lower) < MIN_CORRECTED
        return self._best(candidates, before, after, MIN_CONTEXT if short else 0) or word

    def _misused(self, word: str, before: str, after: str) -> str | None:
        """The training word one edit from the real word ``word`` that both neighbours pair
        with in training when neither pairs with ``word`` ("take he amount": "the"), or None."""
        neighbours = (f"{before} {{}}", f"{{}} {after}")
        if not (before and after) or any(pair.format(word) in self.counts for pair in neighbours):
            return None
        best, most = None, 0
        for candidate in self._near(word):
            least = min(self.counts.get(pair.format(candidate), 0) for pair in neighbours)
            if least >= MIN_MISUSED and least > most:
                best, most = candidate, least
        return best

    def _speaks(self, short: str) -> bool:
        """Whether the text-speak ``short`` is rarer in training than its word (or unknown)."""
        word = _WORD.match(TEXT_SPEAK[short])
        return self.frequency.get(short, 0) < self.frequency.get(word.group() if word else "", 1)

    def _real(self, word: str) -> bool:
        """Whether ``word`` is a real word: any the encoder knows, but only the commonest when
        it is short."""
        if len(word) < MIN_CORRECTED:
            return self.english.get(word, COMMON_RANK) < COMMON_RANK
        return any(stem in self.english for stem in stems(word))

    def _candidates(self, word: str) -> list[str]:
        """The training words one edit from ``word``, else two when it is long enough."""
        near = self._near(word)
        if near or len(word) < MIN_TWO_EDITS:
            return near
        keys = deletions(word, 2)
        found = {c for key in keys for c in self._one.get(key, ())}
        found |= {c for key in keys for c in self._far.get(key, ())}
        return [c for c in found if abs(len(c) - len(word)) <= 2 and distance(word, c) == 2]

    def _near(self, word: str) -> list[str]:
        """The training words one edit from ``word``."""
        keys = deletions(word, 1)
        return list({c for key in keys for c in self._one.get(key, ()) if one_edit(word, c)})

    def _best(
        self, candidates: Sequence[str], before: str, after: str, min_context: int
    ) -> str | None:
        """The candidate the training examples use most beside ``before`` and ``after``, then
        the commonest; None when none has ``min_context`` examples beside them."""
        best, best_score = None, (0, 0)
        for candidate in candidates:
            left = self.counts.get(f"{before} {candidate}", 0)
            right = self.counts.get(f"{candidate} {after}", 0)
            score = (left + right, self.frequency.get(candidate, 0))
            if left + right >= min_context and (best is None or score > best_score):
                best, best_score = candidate, score
        return best

    def __call__(self, text: str) -> str:
        """``text`` with every unknown word put right."""
        text = _SYMBOLS.sub(lambda match: SYMBOL_WORDS[match.group().lower()], text)
        return "".join(self._pieces(text))

    def _pieces(self, text: str) -> Iterator[str]:
        matches = list(_WORD.finditer(text))
        # the neighbours as the TF-IDF pairs see them: single letters ("a", "i") skipped
        words = [m.group().lower() for m in matches]
        end, before = 0, ""
        for i, match in enumerate(matches):
            after = next((w for w in words[i + 1 :] if len(w) >= MIN_SHORT), "")
            fixed = match.group()
            if fixed not in DIGIT_WORDS or _free(text, match.start(), match.end()):
                fixed = self.word(fixed, before, after)
            yield text[end : match.start()] + fixed
            end = match.end()
            if len(fixed) >= MIN_SHORT:
                before = fixed.lower()
        yield text[end:]

    def all(self, texts: Sequence[str]) -> list[str]:
        """Every text put right."""
        return [self(text) for text in texts]


@functools.cache
def english_words() -> Mapping[str, int]:
    """The whole words of the encoder's WordPiece vocabulary (about 22,000), each with its line
    (the vocabulary runs from the commonest)."""
    with (model_dir() / "vocab.txt").open(encoding="utf-8") as handle:
        lines = enumerate(line.strip() for line in handle)
        return {word: rank for rank, word in lines if word.isalpha()}


def _free(text: str, start: int, end: int) -> bool:
    """Whether the word at ``start:end`` stands alone as a word (not "$2", "2.5", "4-digit")."""
    if start > 0 and text[start - 1] in NUMERIC_MARKS:
        return False
    return end == len(text) or text[end] not in NUMERIC_MARKS or not text[end + 1 : end + 2].strip()
