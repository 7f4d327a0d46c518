"""Few-shot files: a fixed number per intent, the same draw for the same seed, train only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.fewshot import file_of, main, sample, write_all
from intents.evaluate import read_labelled_csv

ROWS = [(f"{label} example {i}", label) for label in ("card", "refund") for i in range(12)] + [
    ("only one of these", "rare")
]


def test_each_intent_gets_its_share_and_a_small_one_keeps_all() -> None:
    drawn = sample(ROWS, 5, seed=0)
    counts = {label: sum(1 for _, x in drawn if x == label) for label in ("card", "refund", "rare")}
    assert counts == {"card": 5, "refund": 5, "rare": 1}
    assert set(drawn) <= set(ROWS)


def test_a_seed_fixes_the_draw_and_another_seed_draws_differently() -> None:
    assert sample(ROWS, 5, seed=1) == sample(ROWS, 5, seed=1)
    assert sample(ROWS, 5, seed=1) != sample(ROWS, 5, seed=2)


def test_files_come_from_train_never_from_test(tmp_path: Path) -> None:
    data = tmp_path / "data" / "toy"
    data.mkdir(parents=True)
    (data / "train.csv").write_text(
        "text,category\n" + "".join(f"{t},{c}\n" for t, c in ROWS), encoding="utf-8"
    )
    (data / "test.csv").write_text("text,category\nfrom the test file,card\n", encoding="utf-8")
    written = write_all(tmp_path / "data", tmp_path / "out", ["toy"], [10], [0, 1])
    assert [path for *_, path in written] == [
        file_of(tmp_path / "out", "toy", 10, 0),
        file_of(tmp_path / "out", "toy", 10, 1),
    ]
    texts, _ = read_labelled_csv(written[0][3])
    assert len(texts) == 21  # 10 + 10 + the one rare row
    assert "from the test file" not in texts


def test_a_bad_tuning_setting_stops_before_any_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    for setting in ("objective=triplets", "no_such_knob=1"):
        argv = ["fewshot", "--out", str(out), "--evaluate", "--tuning", setting]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as stopped:
            main()
        assert stopped.value.code == 2
    assert not out.exists()
