"""Drawdowns: how far an equity (or PnL) curve has fallen below its running peak."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_series


def _equity(equity: ArrayLike) -> NDArray[np.float64]:
    e = as_series(equity, "equity", min_len=1)
    neg = e < 0
    if neg.any():
        i = int(np.argmax(neg))
        raise ValueError(
            f"equity: must be >= 0 (use max_drawdown_abs for a PnL series), got {e[i]} at index {i}"
        )
    if e[0] <= 0:
        raise ValueError(f"equity: the first value must be > 0 (the initial peak), got {e[0]}")
    return e


def drawdown_series(equity: ArrayLike) -> NDArray[np.float64]:
    """Relative drawdown at every point: ``dd_t = 1 - E_t / max_{s <= t} E_s``.

    Args:
        equity: shape ``(N,)``, ``N >= 1``, account value in any unit; the first
            value > 0, none negative (0 = wiped out, a drawdown of 1).

    Returns:
        shape ``(N,)``, fractions in ``[0, 1]`` (0 at a new peak).

    Raises:
        ValueError: empty, a NaN/inf, a negative value, or a first value <= 0.

    Example (peaks 100, 120, 120, 130, 130):

    >>> drawdown_series([100.0, 120.0, 90.0, 130.0, 117.0]).round(12).tolist()
    [0.0, 0.0, 0.25, 0.0, 0.1]
    """
    e = _equity(equity)
    peak = np.maximum.accumulate(e)
    return 1.0 - e / peak


def max_drawdown(equity: ArrayLike) -> float:
    """Largest peak-to-trough fall of an equity curve, as a positive fraction of the peak.

    ``MDD = max_t (1 - E_t / max_{s <= t} E_s)`` (Magdon-Ismail & Atiya 2004,
    "Maximum drawdown", Risk 17(10)). 0 for a curve that never falls, 1 for one
    that reaches 0.

    Args:
        equity: shape ``(N,)``, see :func:`drawdown_series`.

    Returns:
        a float in ``[0, 1]``.

    Raises:
        ValueError: as :func:`drawdown_series`.

    Example (the fall 120 -> 90 is 25 %, deeper than 130 -> 117 = 10 %):

    >>> max_drawdown([100.0, 120.0, 90.0, 130.0, 117.0])
    0.25
    """
    return float(drawdown_series(equity).max())


def max_drawdown_abs(values: ArrayLike) -> float:
    """Largest peak-to-trough fall in the series' own units: ``max_t (max_{s<=t} v_s - v_t)``.

    Works on any series, including a cumulative PnL that goes negative (a
    relative drawdown of a PnL that starts at 0 is undefined).

    Args:
        values: shape ``(N,)``, ``N >= 1``, e.g. cumulative PnL in quote units.

    Returns:
        a float >= 0 in the units of ``values``.

    Raises:
        ValueError: empty or a NaN/inf.

    Example (PnL 0, 20, -10, 30, 17: the fall 20 -> -10 is 30):

    >>> max_drawdown_abs([0.0, 20.0, -10.0, 30.0, 17.0])
    30.0
    """
    v = as_series(values, "values", min_len=1)
    return float((np.maximum.accumulate(v) - v).max())


def max_drawdown_from_returns(returns: ArrayLike) -> float:
    """Maximum drawdown of a return series, as a NEGATIVE fraction (empyrical's sign).

    The wealth curve is ``W_0 = 1, W_t = prod_{s<=t} (1 + R_s)`` and the result is
    ``min_t (W_t / max_{s<=t} W_s - 1)``, i.e. ``-max_drawdown(W)``: 0 for a curve
    that never falls, -1 for one that is wiped out. Compute-marketplace spec
    section 7.1 states it this way (worked vector: -0.02); :func:`max_drawdown`
    keeps its positive convention.

    Args:
        returns: shape ``(n,)``, ``n >= 1``, simple returns, each >= -1.

    Raises:
        ValueError: empty, a NaN/inf, or a return < -1.

    >>> round(max_drawdown_from_returns([0.01, -0.02, 0.015, 0.0, 0.005]), 12)
    -0.02
    """
    r = as_series(returns, "returns", min_len=1)
    below = r < -1.0
    if below.any():
        i = int(np.argmax(below))
        raise ValueError(f"returns: a return below -1 (negative wealth), got {r[i]} at index {i}")
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    mdd = max_drawdown(wealth)
    return -mdd if mdd > 0.0 else 0.0
