"""StackFAQ as a help centre: articles, labelled questions and the seeded splits.

StackFAQ (Karan & Šnajder 2018) holds 125 StackExchange web-apps threads, each with the
original question, its top answers and about ten paraphrases of the question written by
annotators. :func:`prepare` turns each thread into an article (``q<nnn>.md``: front matter
``title`` = the StackExchange question, a made-up stable ``url``; body = the answers, one
paragraph each) and each paraphrase into a labelled question.

Splits (seed ``SEED``), all by article so that no article's paraphrases are on both sides:
``HELD_OUT_SHARE`` of the articles go to ``held_out/`` and are never indexed (their questions
must be refused); the rest go to ``articles/``. Within each group, ``CALIBRATION_SHARE`` of the
articles give the ``calibration`` questions (what the answer score is fitted and its threshold
chosen on) and the others the ``evaluation`` questions. By article rather than by question,
because a shop's calibration must carry to articles it was not fitted on.
"""

from __future__ import annotations

import csv
import json
import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIRROR = Path("/work/.mirror/ML-Recipes+BERT-FAQ/repo")  # the BERT-FAQ repository (MIT)
SOURCE = "data/StackFAQ/stackExchange-FAQ.json"
DATA = Path(__file__).resolve().parent / "data" / "knowledge" / "stackfaq"
URL = "https://webapps.stackexchange.example/q/{n}"  # the data carries no thread links
SEED = 25
HELD_OUT_SHARE = 0.2
CALIBRATION_SHARE = 0.4
_YAML_SPECIAL = re.compile(r"^[\s\"'\[\]{}>|*&!%@`#,?:-]|: | #|\s$")


@dataclass(frozen=True)
class Thread:
    """One StackFAQ thread: its number, question, answers and paraphrases."""

    n: int
    question: str
    answers: list[str]
    paraphrases: list[str]


def clean(text: str) -> str:
    """Whitespace runs (the data's flattened line breaks) as one space, trimmed."""
    return re.sub(r"\s+", " ", text).strip()


def read_threads(raw: str) -> list[Thread]:
    """The threads of StackFAQ's JSON, numbered from 1 in file order."""
    threads = []
    for n, pair in enumerate(json.loads(raw)["root"]["qapair"], start=1):
        answers = pair["answer"] if isinstance(pair["answer"], list) else [pair["answer"]]
        paraphrases = dict.fromkeys(clean(r) for r in pair["rephr"] if r and r.strip() != "*")
        paraphrases.pop("", None)
        threads.append(
            Thread(n, clean(pair["question"]), [clean(a) for a in answers], list(paraphrases))
        )
    return threads


def yaml_value(text: str) -> str:
    """``text`` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    return json.dumps(text, ensure_ascii=False) if _YAML_SPECIAL.search(text) else text


def article_text(thread: Thread) -> str:
    """The thread as a Markdown article with front matter."""
    # A paragraph starting with "#" would read as a heading: escape that one character.
    body = "\n\n".join(("\\" + a if a.startswith("#") else a) for a in thread.answers if a)
    head = f"---\ntitle: {yaml_value(thread.question)}\nurl: {URL.format(n=thread.n)}\n---\n\n"
    return head + body + "\n"


def assign(threads: list[Thread], seed: int = SEED) -> dict[int, tuple[bool, str]]:
    """Each thread's (held out?, split) by article: seeded, shares as in the module's doc."""
    order = [thread.n for thread in threads]
    random.Random(seed).shuffle(order)
    cut = round(len(order) * HELD_OUT_SHARE)
    out: dict[int, tuple[bool, str]] = {}
    for held_out, group in ((True, order[:cut]), (False, order[cut:])):
        calibrate = round(len(group) * CALIBRATION_SHARE)
        for i, n in enumerate(group):
            out[n] = (held_out, "calibration" if i < calibrate else "evaluation")
    return out


def prepare(raw: str, out: Path = DATA) -> dict[str, Any]:
    """Write ``articles/``, ``held_out/`` and ``questions.csv`` under ``out``; a summary."""
    threads = read_threads(raw)
    splits = assign(threads)
    for name in ("articles", "held_out"):
        (out / name).mkdir(parents=True, exist_ok=True)
        for old in (out / name).glob("*.md"):
            old.unlink()
    rows = []
    for thread in threads:
        held_out, split = splits[thread.n]
        name = f"q{thread.n:03d}.md"
        folder = out / ("held_out" if held_out else "articles")
        (folder / name).write_text(article_text(thread), encoding="utf-8")
        rows += [(question, name, split) for question in thread.paraphrases]
    with (out / "questions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("question", "article_key", "split"))
        writer.writerows(rows)
    held = sum(1 for held_out, _ in splits.values() if held_out)
    return {"articles": len(threads) - held, "held_out": held, "questions": len(rows)}


def source_json() -> str:
    """StackFAQ's JSON from the mirrored BERT-FAQ repository."""
    command = ["git", "-C", str(MIRROR), "show", f"HEAD:{SOURCE}"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
