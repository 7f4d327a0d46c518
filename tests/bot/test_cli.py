"""The omnibot command: eval's numbers and report, train's cache."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bot.app import Engine
from bot.cli import main
from bot.settings import DEFAULT_INTENTS_PATH
from intents.catalogue import load_catalogue

TEST_ROWS = [("where has my parcel got to", "order_status"),
             ("do you open on sundays", "store_hours"),
             ("can I pay with apple pay", "payment_methods"),
             ("hello there", "greeting"),
             ("what is the boiling point of mercury", "oos"),
             ("recommend me a film for tonight", "oos")]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


@pytest.fixture
def data(engine: Engine, engine_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNIBOT_DATA_DIR", str(engine_data_dir))  # reuse the exported encoder
    return engine_data_dir


def test_eval_prints_json_and_writes_the_report(data: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    catalogue = load_catalogue(DEFAULT_INTENTS_PATH)
    train = write_csv(tmp_path / "train.csv", [(text, intent.name)
                                               for intent in catalogue.intents.values()
                                               for text in intent.examples])
    test = write_csv(tmp_path / "test.csv", TEST_ROWS)
    main(["eval", str(train), str(test), "--json", "--report", str(tmp_path / "report")])
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "answered_share", "answered_precision", "oos_recall",
            "p50_ms", "p99_ms"} <= set(result)
    for share in ("accuracy", "macro_f1", "answered_share", "oos_recall"):
        assert 0 <= result[share] <= 1
    assert result["oos_recall"] == 1.0  # both out-of-scope rows were escalated
    assert result["accuracy"] == pytest.approx(4 / 6)  # oos rows can only be wrong
    assert result["p50_ms"] > 0
    report = tmp_path / "report"
    for name in ("confusion_matrix.png", "coverage_precision.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG")
    with (report / "misclassified.csv").open() as handle:
        wrong = list(csv.DictReader(handle))
    assert {row["true"] for row in wrong} == {"oos"}


def test_eval_refuses_a_csv_without_the_header(data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,label\nhi,greeting\n")
    with pytest.raises(ValueError, match="'text' and 'category'"):
        main(["eval", str(bad), str(bad)])


def test_train_rebuilds_the_cache(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = data / "cache" / "models"
    for model in models.glob("*.joblib"):
        model.unlink()
    main(["train"])
    assert len(list(models.glob("*.joblib"))) == 1
    assert "trained" in capsys.readouterr().out
