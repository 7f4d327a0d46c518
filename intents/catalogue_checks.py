"""Plain-English warnings about a training catalogue the engine will train on but not well.

Training never refuses these catalogues (see ``tests/scenarios/test_bad_catalogues.py``); it
just learns less from them, and says so here: intents with too few examples to
cross-validate, examples shared between intents or repeated within one, a very large number of
intents, examples that look non-English (the encoder is English-only), and empty or huge
examples. Each line names the intents and counts; lines come in a fixed order (checks in the
order above, intents by name), and a check names at most ``MAX_NAMED`` intents or pairs.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from bot.pipeline.language import not_english
from intents.calibration import FALLBACK_THRESHOLD
from intents.members import TrainingConfig
from intents.onnx_encoder import MAX_TOKENS
from intents.spelling import english_words
from intents.words import stems

MIN_CROSS_VALIDATED = 2  # examples every intent needs for calibration.out_of_fold to run
FOLDS = TrainingConfig().folds  # fewer examples than this: fewer folds for every intent
ADVISED_EXAMPLES = 10
MANY_INTENTS = 300  # more than this: slow training and crowded answers
LONG_EXAMPLE_CHARS = 1000  # roughly MAX_TOKENS word pieces: the encoder reads no further
# An example looks non-English when most of its letters are of another script, or when at least
# this share of its words, and at least FOREIGN_MIN_WORDS of them, are not English words (1 of
# BANKING77's 3,000 training examples and none of the retail catalogue's: "delete my acount");
# an intent does when this share of its examples, and at least FOREIGN_MIN_EXAMPLES, do.
FOREIGN_WORD_SHARE = 0.6
FOREIGN_MIN_WORDS = 2
FOREIGN_INTENT_SHARE = 0.5
FOREIGN_MIN_EXAMPLES = 2
MAX_NAMED = 10  # intents or pairs named per check; the rest are counted
SHOWN_CHARS = 60  # an example quoted in a warning is cut to this

_WORD = re.compile(r"[^\W\d_]{2,}")  # letters only: single letters and numbers say nothing
_NOT_WORD = re.compile(r"[^\w\s]+")


def catalogue_warnings(texts: Sequence[str], labels: Sequence[str]) -> list[str]:
    """One line per problem of the training examples ``texts`` of intents ``labels``: what is
    wrong, with which intents, and what the engine does about it (empty when none)."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, label in zip(texts, labels, strict=True):
        by_intent[label].append(text)
    intents = dict(sorted(by_intent.items()))
    return [
        *few_examples(intents),
        *shared_examples(intents),
        *repeated_examples(intents),
        *many_intents(intents),
        *non_english(intents),
        *empty_examples(intents),
        *long_examples(intents),
    ]


def normalised(text: str) -> str:
    """``text`` as duplicates are compared: case, punctuation and spacing ignored."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub("", folded).split())


def few_examples(intents: Mapping[str, list[str]]) -> list[str]:
    """Intents too small to cross-validate, then intents with fewer examples than folds."""
    lines = []
    single = [(n, "") for n, examples in intents.items() if len(examples) < MIN_CROSS_VALIDATED]
    if single:
        lines.append(
            f"{_names(single)} {_has(single)} a single example: an intent needs "
            f"{MIN_CROSS_VALIDATED} to be cross-validated, so the answer rule is chosen on the "
            f"other intents' examples alone (and on none, a fixed confidence threshold of "
            f"{FALLBACK_THRESHOLD}, when no other intent has two); give each at least "
            f"{ADVISED_EXAMPLES} examples"
        )
    few = {n: len(e) for n, e in intents.items() if MIN_CROSS_VALIDATED <= len(e) < FOLDS}
    if few and not single:
        folds = min(few.values())
        named = [(name, _count(count, "example")) for name, count in few.items()]
        lines.append(
            f"{_names(named)} {_has(named)} fewer than {FOLDS} examples: "
            f"cross-validation runs {folds} folds instead of {FOLDS} for every intent, and "
            f"the answer rule is chosen on fewer held-out messages; give each at least "
            f"{ADVISED_EXAMPLES} examples"
        )
    return lines


def shared_examples(intents: Mapping[str, list[str]]) -> list[str]:
    """Pairs of intents with examples in common, the most shared first."""
    owners: dict[str, list[str]] = defaultdict(list)
    shown: dict[str, str] = {}
    for name, examples in intents.items():
        for key in dict.fromkeys(normalised(e) for e in examples):
            if key:  # empty examples have their own warning
                owners[key].append(name)
        for example in examples:
            key = normalised(example)
            shown[key] = _example([example, shown.get(key, example)])
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, names in owners.items():
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                pairs[(a, b)].append(shown[key])
    ranked = sorted(pairs.items(), key=lambda item: (-len(item[1]), item[0]))
    lines = [
        f"intents `{a}` and `{b}` share {_count(len(shared), 'example')} "
        f"(e.g. {_quote(_example(shared))}): the model cannot tell them apart there, so messages "
        f"like these split their confidence between the two and are mostly escalated; merge "
        f"the intents or keep each example in one"
        for (a, b), shared in ranked[:MAX_NAMED]
    ]
    return lines + _more(len(ranked), "pairs of intents share examples")


def repeated_examples(intents: Mapping[str, list[str]]) -> list[str]:
    """Intents listing the same example more than once (minor: it only weighs more)."""
    repeated = {}
    for name, examples in intents.items():
        counts = Counter(key for key in map(normalised, examples) if key)
        extra = sum(n - 1 for n in counts.values())
        if extra:
            repeated[name] = extra
    if not repeated:
        return []
    named = [(name, f"{count:,} repeated") for name, count in repeated.items()]
    return [
        f"{_names(named)} {_has(named)} repeated examples (minor: a "
        f"repeat teaches nothing new, it only weighs more); remove the repeats"
    ]


def many_intents(intents: Mapping[str, list[str]]) -> list[str]:
    """A warning when the catalogue has very many intents."""
    if len(intents) <= MANY_INTENTS:
        return []
    examples = sum(len(e) for e in intents.values())
    return [
        f"{len(intents):,} intents ({examples:,} examples) is more than {MANY_INTENTS}: training "
        f"takes longer (it grows with intents times examples) and every message has more "
        f"look-alike intents to be confused with, so fewer are answered; merge intents that "
        f"get the same answer"
    ]


def non_english(intents: Mapping[str, list[str]]) -> list[str]:
    """Intents whose examples look non-English, each with one of them."""
    flagged = []
    for name, examples in intents.items():
        foreign = [e for e in examples if looks_foreign(e)]
        if len(foreign) >= max(FOREIGN_MIN_EXAMPLES, FOREIGN_INTENT_SHARE * len(examples)):
            flagged.append(
                f"intent `{name}` looks non-English ({len(foreign)} of "
                f"{_count(len(examples), 'example')}, e.g. {_quote(_example(foreign))}): the "
                f"encoder (all-MiniLM-L6-v2) is English-only, so such messages are matched on "
                f"their spelling more than their meaning; write the examples in English"
            )
    return flagged[:MAX_NAMED] + _more(len(flagged), "intents look non-English")


def looks_foreign(text: str) -> bool:
    """Whether ``text`` is what the dispatcher takes for another language (another script, or
    common Spanish, French, German… words), or most of its words are not English words (typos
    rarely are most)."""
    if not_english(text):
        return True
    english = english_words()
    words = _WORD.findall(text.casefold())
    unknown = [w for w in words if not any(stem in english for stem in stems(w))]
    return len(unknown) >= FOREIGN_MIN_WORDS and len(unknown) >= FOREIGN_WORD_SHARE * len(words)


def empty_examples(intents: Mapping[str, list[str]]) -> list[str]:
    """Intents with examples of no letters or digits."""
    empty = {n: sum(not normalised(e) for e in examples) for n, examples in intents.items()}
    named = [(name, f"{count:,} empty") for name, count in empty.items() if count]
    if not named:
        return []
    return [
        f"{_names(named)} {_has(named)} empty examples (no letters or "
        f"digits): they teach nothing and draw blank or emoji-only messages to the intent; "
        f"remove them"
    ]


def long_examples(intents: Mapping[str, list[str]]) -> list[str]:
    """Intents with examples longer than the encoder reads."""
    longest = {n: max(map(len, examples), default=0) for n, examples in intents.items()}
    named = [
        (n, f"{chars:,} characters") for n, chars in longest.items() if chars > LONG_EXAMPLE_CHARS
    ]
    if not named:
        return []
    return [
        f"{_names(named)} {_has(named)} an example longer than {LONG_EXAMPLE_CHARS:,} "
        f"characters: the encoder reads only its first {MAX_TOKENS} word pieces, and "
        f"customers rarely write that much; cut it to the question it asks"
    ]


def _names(named: Sequence[tuple[str, str]]) -> str:
    """ "intent `a` (note)", "intents `a` (note), `b` (note) and `c` (note)", or the first
    ``MAX_NAMED`` of them and how many more."""
    shown = [f"`{name}` ({note})" if note else f"`{name}`" for name, note in named[:MAX_NAMED]]
    if len(named) > MAX_NAMED:
        shown.append(f"{len(named) - MAX_NAMED} more")
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"{'intent' if len(named) == 1 else 'intents'} {listed}"


def _has(named: Sequence[object]) -> str:
    return "has" if len(named) == 1 else "have"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _example(examples: Sequence[str]) -> str:
    """The example to quote: the shortest, whatever the order of the rows."""
    return min(examples, key=lambda example: (len(example), example))


def _quote(example: str) -> str:
    flat = " ".join(example.split())
    return f'"{flat[:SHOWN_CHARS]}…"' if len(flat) > SHOWN_CHARS else f'"{flat}"'


def _more(total: int, what: str) -> list[str]:
    return [f"and {total - MAX_NAMED} more {what}"] if total > MAX_NAMED else []
