"""Building the classifier: the model cache is reused, and an unreadable one is replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Engine
from intents.build import build_classifier

TEXTS = [f"{verb} my {thing}" for verb in ("track", "find", "where is")
         for thing in ("order", "parcel", "delivery")] + \
        [f"{verb} my {thing}" for verb in ("cancel", "stop", "undo")
         for thing in ("order", "purchase", "payment")]
LABELS = ["where_is_my_order"] * 9 + ["cancel_order"] * 9


def test_the_cached_model_is_reused_and_an_unreadable_one_is_retrained(
        engine: Engine, engine_data_dir: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    (cache / "encoders").mkdir(parents=True)
    for graph in (engine_data_dir / "cache" / "encoders").glob("*.onnx"):
        (cache / "encoders" / graph.name).symlink_to(graph)  # no second export
    first = build_classifier(TEXTS, LABELS, cache)
    [cached] = (cache / "models").glob("*.joblib")
    written = cached.stat().st_mtime_ns
    assert build_classifier(TEXTS, LABELS, cache).model.rule == first.model.rule
    assert cached.stat().st_mtime_ns == written  # read back, not trained again
    cached.write_bytes(b"not a pickle")
    again = build_classifier(TEXTS, LABELS, cache)
    assert "unreadable" in caplog.text
    assert again.predict(["where is my parcel"])[0].intent == "where_is_my_order"
    assert cached.read_bytes() != b"not a pickle"
