"""The e2e bench's encoder baseline: two samples, the ratio on their mean."""

from __future__ import annotations

import asyncio

import pytest

from bench.encoder_baseline import encoder_figures, measure_encoder


def test_the_baseline_is_the_mean_of_the_samples_before_and_after() -> None:
    figures = encoder_figures(1000.0, 800.0)
    assert figures == {
        "encoder_before_per_s": 1000.0,
        "encoder_after_per_s": 800.0,
        "encoder_per_s": pytest.approx(900.0),
    }


def test_one_sample_is_the_baseline_and_none_gives_none() -> None:
    assert encoder_figures(None, 700.0)["encoder_per_s"] == 700.0
    assert encoder_figures(None, None)["encoder_per_s"] is None


def test_no_seconds_measures_nothing() -> None:
    assert asyncio.run(measure_encoder(["hello"], 0)) is None
