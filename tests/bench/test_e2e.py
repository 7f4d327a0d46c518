"""The e2e bench's result object and table: the ratio on the mean of the encoder samples."""

from __future__ import annotations

import argparse

import pytest

from bench.e2e import print_table, summarize
from bench.encoder_baseline import encoder_figures
from bench.process_cpu import Ticks
from bench.questions import questions
from bench.service_counters import Snapshot
from bench.webchat_visitor import Tally


def window_end(at: float, ticks: int, redis_calls: int) -> Snapshot:
    """The counters at one end of a window, one event-loop thread's ticks."""
    loop = {(1, 1): Ticks("event_loop", "python", ticks, "all")}
    return Snapshot(at, loop, 0.0, 0.0, 0.0, redis_calls, 0)


def test_the_ratio_uses_the_mean_of_the_samples_and_the_table_shows_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tally = Tally(start=0.0, end=2.0)
    question = questions(0)[0]
    for at in (0.5, 1.0, 1.5, 1.9):
        tally.record(question, "answer", at - 0.01, at)
    args = argparse.Namespace(visitors=2, workers=1, concurrency=None)
    encoder = encoder_figures(3.0, 1.0)
    summary = summarize(
        args, encoder["encoder_per_s"], tally, window_end(0.0, 0, 10), window_end(2.0, 10, 30)
    )
    result = {**summary, **encoder, "peak_rss_mb": {"all": 100.0}}
    assert result["answered_per_s"] == pytest.approx(2.0)
    assert result["ratio"] == pytest.approx(1.0)  # 2 answers a second over the mean, 2
    assert result["commands_per_answer"] == pytest.approx(5.0)
    print_table(result)
    out = capsys.readouterr().out
    assert "PyTorch encoder, batch 64         2.0 sentences/s (mean)" in out
    assert "encoder before / after service    3.0 / 1.0 sentences/s" in out
