"""Means and 95 % confidence intervals over seeds (Student t, :mod:`scipy.stats`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import stats


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[int, float, float, float]:
    """``(n, mean, ci_low, ci_high)`` of the finite ``values``.

    The interval is ``mean -+ t_{(1+level)/2, n-1} * s / sqrt(n)`` with ``s`` the
    sample standard deviation (ddof=1). ``n == 1`` (or all values equal) gives a
    zero-width or NaN interval: NaN bounds for ``n < 2``; no finite value gives
    ``(0, nan, nan, nan)``.
    """
    x = np.asarray([float(v) for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return 1, m, math.nan, math.nan
    sem = float(x.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf((1.0 + level) / 2.0, n - 1)) * sem
    return n, m, m - half, m + half


def summarize(
    rows: Iterable[tuple[tuple[Any, ...], str, float]], level: float = 0.95
) -> list[tuple[tuple[Any, ...], str, int, float, float, float]]:
    """Group ``(point, kpi, value)`` rows and return
    ``(point, kpi, n, mean, ci_low, ci_high)`` sorted by point then KPI name."""
    groups: dict[tuple[tuple[Any, ...], str], list[float]] = {}
    for point, kpi, value in rows:
        groups.setdefault((point, kpi), []).append(value)
    out = []
    for (point, kpi), vals in groups.items():
        n, m, lo, hi = mean_ci(vals, level)
        out.append((point, kpi, n, m, lo, hi))
    out.sort(key=lambda r: (tuple(_sort_key(v) for v in r[0]), r[1]))
    return out


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return (1, str(v))
    return (0, float(v))
