"""Shared fixtures of the help-centre tests: the serving encoder, the tiny help centre's index
over it, and an answerer over the demo shop's help centre."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intents.build import make_encoder
from intents.encoder import Encoder
from intents.knowledge.answerer import AnswerScorer, KnowledgeAnswerer
from intents.knowledge.articles import load_articles
from intents.knowledge.index import KnowledgeIndex
from intents.knowledge.passages import split_all
from tests.intents.knowledge.tiny_help_centre import passages

HELP_CENTRE = Path(__file__).resolve().parents[3] / "intents" / "help_centre"


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


@pytest.fixture(scope="module")
def help_centre(encoder: Encoder) -> KnowledgeAnswerer:
    """The answerer over the demo shop's help centre (``intents/help_centre/``) with the
    shipped calibration."""
    demo = split_all(load_articles(HELP_CENTRE).articles)
    return KnowledgeAnswerer(KnowledgeIndex.build(demo, encoder), encoder, AnswerScorer.load())
