"""The intent catalogue: intents with example utterances, answers and escalation reasons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MIN_EXAMPLES = 2


class CatalogueError(ValueError):
    """The catalogue file is not valid."""


@dataclass(frozen=True)
class Intent:
    """One intent: what customers write, and what the bot does about it."""

    name: str
    examples: tuple[str, ...]
    answer: str | None = None
    escalate: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """Every intent the bot knows, by name."""

    intents: dict[str, Intent]

    def training_data(self) -> tuple[list[str], list[str]]:
        """Texts and their intent labels, for fitting a classifier."""
        texts = [ex for intent in self.intents.values() for ex in intent.examples]
        labels = [intent.name for intent in self.intents.values() for _ in intent.examples]
        return texts, labels


def _intent(name: str, spec: Any) -> Intent:
    if not isinstance(spec, dict):
        raise CatalogueError(f"intent {name!r}: expected a mapping")
    examples = tuple(str(e).strip() for e in spec.get("examples") or () if str(e).strip())
    if len(examples) < MIN_EXAMPLES:
        raise CatalogueError(f"intent {name!r}: needs at least {MIN_EXAMPLES} examples")
    answer, escalate = spec.get("answer"), spec.get("escalate")
    if answer is None and escalate is None:
        raise CatalogueError(f"intent {name!r}: needs an answer or an escalate reason")
    return Intent(name=name, examples=examples,
                  answer=None if answer is None else str(answer),
                  escalate=None if escalate is None else str(escalate))


def load_catalogue(path: str | Path) -> Catalogue:
    """Read an omnibot catalogue YAML file (see ``intents/retail.yml``)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("intents"), dict):
        raise CatalogueError(f"{path}: expected a top-level 'intents' mapping")
    intents = {str(name): _intent(str(name), spec) for name, spec in data["intents"].items()}
    if len(intents) < MIN_EXAMPLES:
        raise CatalogueError(f"{path}: needs at least {MIN_EXAMPLES} intents")
    return Catalogue(intents=intents)
