"""The time estimate of a first start is said only when there is work to wait for."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from intents.build import build_classifier, training_estimate_s
from omnibot.engine import Intents

TEXTS = [f"{verb} my order" for verb in ("track", "find", "locate", "chase", "follow")] + [
    f"{verb} my order" for verb in ("cancel", "stop", "undo", "drop", "void")
]
LABELS = ["where_is_my_order"] * 5 + ["cancel_order"] * 5


def test_training_says_how_long_it_takes_and_a_cached_start_says_nothing(
    intents: Intents, intents_data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "encoders").mkdir()
    for graph in (intents_data_dir / "cache" / "encoders").glob("*.onnx"):
        (tmp_path / "encoders" / graph.name).symlink_to(graph)  # no export here
    caplog.set_level(logging.INFO, logger="intents.build")
    build_classifier(TEXTS, LABELS, tmp_path).close()
    assert f"examples (about {training_estimate_s(len(TEXTS))} s" in caplog.text
    caplog.clear()
    build_classifier(TEXTS, LABELS, tmp_path).close()
    assert "loaded the cached model" in caplog.text
    assert "about" not in caplog.text


def test_the_estimate_grows_with_the_training_data() -> None:
    assert training_estimate_s(296) == 20  # the retail catalogue
    assert 150 <= training_estimate_s(10_003) <= 250  # BANKING77: 200 s measured
