"""Building the classifier: the model cache is reused, and an unreadable one is replaced."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import joblib
import pytest

from intents import build
from intents.build import BuildOptions, build_classifier, cache_key, load_cached
from omnibot.engine import Intents

TEXTS = [
    f"{verb} my {thing}"
    for verb in ("track", "find", "where is")
    for thing in ("order", "parcel", "delivery")
] + [
    f"{verb} my {thing}"
    for verb in ("cancel", "stop", "undo")
    for thing in ("order", "purchase", "payment")
]
LABELS = ["where_is_my_order"] * 9 + ["cancel_order"] * 9


def test_the_cached_model_is_reused_and_an_unreadable_one_is_retrained(
    intents: Intents, intents_data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    (cache / "encoders").mkdir(parents=True)
    for graph in (intents_data_dir / "cache" / "encoders").glob("*.onnx"):
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


def test_a_model_pickled_under_the_old_names_is_retrained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # what omnibot <= MODEL_VERSION 7 pickled: intents.engine.IntentModel
    old = types.ModuleType("intents.engine")
    old_model = type("IntentModel", (), {"__module__": "intents.engine"})
    old.IntentModel = old_model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "intents.engine", old)
    path = tmp_path / "old.joblib"
    joblib.dump(old_model(), path)
    monkeypatch.delitem(sys.modules, "intents.engine")
    assert load_cached(path) is None
    assert "unreadable" in caplog.text


def test_the_cache_key_changes_with_the_model_version(monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_key(TEXTS, LABELS, BuildOptions())
    monkeypatch.setattr(build, "MODEL_VERSION", build.MODEL_VERSION + 1)
    assert cache_key(TEXTS, LABELS, BuildOptions()) != key
