"""``omnibot knowledge index``: a folder's index built ahead of time, where serve finds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.knowledge.articles import content_hash
from intents.knowledge.building import cache_key
from intents.knowledge.index import index_path
from omnibot.cli import main
from omnibot.engine import Intents
from tests.intents.knowledge.test_service import write_folder


@pytest.fixture
def data(intents: Intents, intents_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNIBOT_DATA_DIR", str(intents_data_dir))  # reuse the exported encoder
    return intents_data_dir


def test_index_builds_a_folder_into_the_cache_and_finds_it_there(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_folder(tmp_path / "help")
    (folder / "empty.md").write_text("")
    main(["knowledge", "index", str(folder)])
    out = capsys.readouterr().out
    assert "6 articles, 6 passages, 1 warnings (built in" in out
    assert "warning: empty.md" in out
    main(["knowledge", "index", str(folder)])
    assert "(already in the cache" in capsys.readouterr().out
    key = cache_key(content_hash(folder), "onnx-int8")  # what serve looks for
    assert index_path(data / "cache", key).is_dir()


def test_index_of_a_missing_folder_is_one_line(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["knowledge", "index", str(tmp_path / "nowhere")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("omnibot: no help-centre folder at")
    assert err.count("\n") == 1


def test_index_path_is_keyed_by_content_and_encoder(tmp_path: Path) -> None:
    assert index_path(tmp_path, cache_key("h", "onnx")) != index_path(
        tmp_path, cache_key("h", "onnx-int8")
    )
