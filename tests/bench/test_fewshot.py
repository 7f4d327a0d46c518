"""Few-shot files: a fixed number per intent, the same draw for the same seed, train only."""

from __future__ import annotations

from pathlib import Path

from bench.fewshot import file_of, sample, write_all
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
