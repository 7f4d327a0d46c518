"""Shared fixtures of the help-centre tests: the serving encoder and the tiny help centre's
index over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intents.build import make_encoder
from intents.encoder import Encoder
from intents.knowledge.index import KnowledgeIndex
from tests.intents.knowledge.tiny_help_centre import passages


@pytest.fixture(scope="module")
def encoder(intents_data_dir: Path) -> Iterator[Encoder]:
    """The serving encoder (ONNX int8), exported into the session's cache once."""
    encoder = make_encoder("onnx-int8", intents_data_dir / "cache")
    yield encoder
    encoder.close()


@pytest.fixture(scope="module")
def index(encoder: Encoder) -> KnowledgeIndex:
    """The tiny help centre's index (:mod:`tests.intents.knowledge.tiny_help_centre`)."""
    return KnowledgeIndex.build(passages(), encoder)
