"""A message cut into the requests it makes, in order.

Cuts fall at sentence ends (". ", "? ", "! ", not after "no." or "e.g."), at "; ", at a line
break before a new question, and at a conjunction ("and", "also", "plus", "oh and", "btw") that
opens a new request: a question word, or an auxiliary with its subject ("…, and is there…",
"… and can I…"); after a comma or "also" a pronoun opens one too ("…, and my card…"). So "return
and refund", "black and white" or "click and collect" are never cut. A piece of two words or
fewer ("It's 12345", "thanks!") or opening with a contrast ("But nothing came") belongs with
the request before it, and so do pieces that only together report a problem (a contradicted
status told in two sentences); a greeting ("Hi!", "hello there,") goes with the request after
it: it is kept, not dropped. The connective opening a piece ("also", "btw") is left out of it.
A long paste or an e-mail thread is one piece.
"""

from __future__ import annotations

import re

from intents.problems import detect

MAX_PARTS = 3  # more candidate requests than this: a paste, read whole
MAX_CHARS = 400  # longer than this: a story or a paste, read whole
MIN_WORDS = 3  # a piece with fewer words leans on its neighbour

_QUESTION = r"(?:how|hw|what|whats|what's|wat|wot|where|wheres|where's|when|why|who|which)"
_AUXILIARY = r"(?:is|are|do|does|did|can|cn|could|will|would|should|have|has)"
_SUBJECT = r"(?:i|you|u|it|they|we|there|this|that|the|my|your|ur|a|an|these|those|anyone)"
_PRONOUN = r"(?:i|i'd|i'm|im|i've|ive|my|please|pls|plz)"
_OPENS = rf"(?:{_QUESTION}|{_AUXILIARY}\s+{_SUBJECT}|please|pls|plz)\b"
_LINKS = r"(?:oh and|and also|and|also|plus|btw|by the way)"
_ABBREVIATIONS = frozenset(
    {"no", "nr", "st", "mr", "mrs", "ms", "dr", "eg", "e.g", "ie", "i.e", "etc", "approx", "vs"}
    | {"ref", "tel", "ave", "rd", "inc", "ltd", "co", "dept", "fig", "jan", "feb", "aug", "sept"}
)

_SENTENCE_END = re.compile(r"(?<=[.?!])[\"')\]]*\s+(?=\S)")
_SEMICOLON = re.compile(r"\s*;\s+")
_NEW_LINE = re.compile(rf"\s*\n\s*(?=(?:{_LINKS}\s+)?(?:{_OPENS}|{_PRONOUN}\b))", re.IGNORECASE)
_CONJUNCTION = re.compile(
    rf",?\s+{_LINKS}\s+(?={_OPENS})"  # "…, and is there…", "… also do you…"
    rf"|,\s*{_LINKS}\s+(?={_PRONOUN}\b)"  # "…, and my card…"
    rf"|\s+(?:also|plus|btw|by the way)\s+(?={_PRONOUN}\b)",  # "… btw i need…"
    re.IGNORECASE,
)
_LEADING_LINK = re.compile(rf"^{_LINKS}\b[\s,]*", re.IGNORECASE)
_GREETING = re.compile(
    r"(?:(?:hi+|hello+|hey+|hiya|yo|howdy|greetings|good (?:morning|afternoon|evening)|morning|"
    r"evening|dear|there|team|all|folks|guys|sir|madam|ok|okay|so|um+|hmm+)\b[\s,.!]*)+",
    re.IGNORECASE,
)
_EMAIL_THREAD = re.compile(
    r"^\s*(?:>|from:|sent:|to:|subject:|date:|on .{4,80} wrote:|-{2,}\s*original message)",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"\S+")
# A piece opening with a contrast goes on with the one before ("It says delivered. But…").
_CONTRAST = re.compile(
    r"\s*(?:but|yet|however|though|although|and still|still|even so|instead)\b", re.IGNORECASE
)


def split(text: str) -> list[str]:
    """The requests ``text`` makes, in order: at most :data:`MAX_PARTS`, each stripped; the
    whole message, stripped, when there is nothing to cut or it is a paste (``[text]`` for a
    blank one)."""
    whole = text.strip()
    if not whole:
        return [text]
    if len(whole) > MAX_CHARS or _EMAIL_THREAD.search(whole):
        return [whole]
    spans = _attach(whole, _keep_problem_whole(whole, _pieces(whole)))
    if len(spans) > MAX_PARTS:
        return [whole]
    parts = [_LEADING_LINK.sub("", whole[start:end]).strip() for start, end in spans]
    return [part for part in parts if part] or [whole]


def _pieces(text: str) -> list[tuple[int, int]]:
    """The spans between every cut of ``text``."""
    cuts = sorted(
        (match.start(), match.end())
        for pattern in (_SENTENCE_END, _SEMICOLON, _NEW_LINE, _CONJUNCTION)
        for match in pattern.finditer(text)
        if pattern is not _SENTENCE_END or not _abbreviated(text, match.start())
    )
    spans, start = [], 0
    for cut_start, cut_end in cuts:
        if cut_start >= start:  # overlapping cuts: the first wins
            spans.append((start, cut_start))
            start = cut_end
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _keep_problem_whole(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with the pieces that only together report a problem joined ("Tracking says
    delivered. I've looked everywhere, nothing." is one report, not two requests)."""
    problem = detect(text)
    cue = problem.cue if problem is not None else ""
    start = text.find(cue) if cue else -1
    if start < 0:
        return spans
    end = start + len(cue)
    inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    if len(inside) < 2:
        return spans
    first, last = inside[0], inside[-1]
    return [*spans[:first], (spans[first][0], spans[last][1]), *spans[last + 1 :]]


def _abbreviated(text: str, end: int) -> bool:
    """Whether the sentence end at ``end`` is the full stop of an abbreviation ("no.", "e.g.")
    or an initial ("J. Smith")."""
    if text[end - 1] != ".":
        return False
    word = text[:end].rsplit(maxsplit=1)[-1].rstrip(".").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _attach(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with every short piece joined to the request before it and every greeting
    to the request after it (a short first piece too)."""
    kept: list[tuple[int, int]] = []
    carry: int | None = None  # where a greeting waiting for its request starts
    for start, end in spans:
        piece = text[start:end]
        begin = start if carry is None else carry
        if _GREETING.fullmatch(piece.strip()) or (not kept and _short(piece)):
            carry = begin
        elif kept and (_short(piece) or _CONTRAST.match(piece)):
            kept[-1] = (kept[-1][0], end)
            carry = None
        else:
            kept.append((begin, end))
            carry = None
    if carry is not None:
        if kept:
            kept[-1] = (kept[-1][0], len(text))
        else:
            kept.append((carry, len(text)))
    return kept


def _short(piece: str) -> bool:
    """Whether ``piece`` is too short to be a request of its own ("It's 12345", "thanks")."""
    return len(_WORD.findall(piece)) < MIN_WORDS or not re.search(r"[^\W\d_]", piece)
