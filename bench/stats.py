"""Figures the benches share: percentiles, rounding of result objects, number formatting."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def rounded(value: Any) -> Any:
    """``value`` with floats to 3 decimals and NaN as None, in nested dicts and lists too."""
    if isinstance(value, dict):
        return {name: rounded(one) for name, one in value.items()}
    if isinstance(value, list):
        return [rounded(one) for one in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    return value


def number(value: Any, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals, or n/a."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"
