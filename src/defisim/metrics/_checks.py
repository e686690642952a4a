"""Input checks shared by the metrics modules (private).

Every public metric turns its input into a 1-D ``float64`` array through
:func:`as_series`, so bad input fails the same way everywhere: a ``ValueError``
whose message names the argument, the problem and (for NaN/inf) the first bad
index.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

ZERO_TOL = 1e-12
"""Relative tolerance under which a dispersion (std, downside deviation, the
differential Sharpe variance) counts as zero: ``value <= ZERO_TOL * scale`` where
``scale`` is the largest absolute input. A constant series gives a rounding-level
std (``np.std([0.1] * 3)`` is not always exactly 0); this keeps its ratios ``nan``
instead of a meaningless ``1e15``."""


def as_series(x: ArrayLike, name: str, min_len: int = 1) -> NDArray[np.float64]:
    """``x`` as a 1-D float64 array, checked.

    Raises:
        ValueError: not 1-D, fewer than ``min_len`` points, or a NaN/inf value.
    """
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a numeric series ({exc})") from None
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D series, got an array of shape {a.shape}")
    if a.size < min_len:
        raise ValueError(
            f"{name}: needs at least {min_len} point{'s' if min_len != 1 else ''}, got {a.size}"
        )
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}: non-finite value {a[i]} at index {i}")
    return a


def check_positive(value: float, name: str) -> float:
    """``value`` as a float; ``ValueError`` unless finite and > 0."""
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def check_periods_per_year(periods_per_year: float | None) -> float | None:
    """``None`` (not annualised) or a finite float > 0."""
    if periods_per_year is None:
        return None
    return check_positive(periods_per_year, "periods_per_year")


def check_level(level: float) -> float:
    """A confidence level strictly between 0 and 1."""
    v = float(level)
    if not (0.0 < v < 1.0):
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    return v


def annualise(ratio: float, periods_per_year: float | None) -> float:
    """A per-period ratio times ``sqrt(periods_per_year)`` (unchanged for ``None``)."""
    return ratio if periods_per_year is None else ratio * math.sqrt(periods_per_year)
