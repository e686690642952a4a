"""Tail risk from the empirical distribution: historical VaR and CVaR (expected shortfall).

Convention (both functions): with ``N`` returns and confidence ``level``,
``k = ceil(N * (1 - level))`` (at least 1; ``N * (1 - level)`` is rounded to 9
decimals first so that ``100 * (1 - 0.95)`` counts as 5, not 5.000000000000004),
and ``r_(1) <= r_(2) <= ...`` the sorted returns.

* ``VaR = -r_(k)``: minus the k-th smallest return, i.e. minus the lower
  empirical ``(1 - level)``-quantile ``inf{x : F_N(x) >= 1 - level}``.
* ``CVaR = -(r_(1) + ... + r_(k)) / k``: minus the mean of the k smallest returns.
  When ``N * (1 - level)`` is an integer this is exactly the expected shortfall
  of Acerbi & Tasche 2002 ("On the coherence of expected shortfall", J. Banking
  & Finance 26(7)) for the empirical distribution; otherwise it is the
  "mean of the k worst" estimator, without their fractional weight on ``r_(k)``.

Both are losses as positive numbers (0.05 = a 5 % loss); they are negative when
even the k-th worst return is a gain. ``VaR <= CVaR`` always.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_series, check_level


def tail_count(n: int, level: float) -> int:
    """``k = max(1, ceil(N * (1 - level)))``, the number of returns in the tail.

    >>> tail_count(100, 0.95), tail_count(10, 0.75), tail_count(10, 0.99)
    (5, 3, 1)
    """
    lv = check_level(level)
    return max(1, math.ceil(round(n * (1.0 - lv), 9)))


def historical_var(returns: ArrayLike, level: float = 0.95) -> float:
    """Historical value at risk: minus the k-th smallest return (see the module docstring).

    Args:
        returns: shape ``(N,)``, ``N >= 1``, simple returns per period (or PnL
            changes: the result is then in quote units).
        level: confidence, strictly between 0 and 1.

    Returns:
        the loss not exceeded with confidence ``level``, positive for a loss.

    Raises:
        ValueError: empty, a NaN/inf, ``level`` outside (0, 1).

    Example (10 returns, sorted -0.08, -0.05, -0.02, -0.01, 0, 0.01, ...;
    level 0.8 gives k = ceil(10 x 0.2) = 2, VaR = 0.05; level 0.75 gives
    k = ceil(2.5) = 3, VaR = 0.02):

    >>> r = [-0.05, 0.02, -0.01, 0.03, -0.08, 0.01, 0.0, 0.04, -0.02, 0.05]
    >>> historical_var(r, 0.8), historical_var(r, 0.75)
    (0.05, 0.02)
    """
    r = as_series(returns, "returns", min_len=1)
    k = tail_count(r.size, level)
    return float(-np.partition(r, k - 1)[k - 1])


def historical_cvar(returns: ArrayLike, level: float = 0.95) -> float:
    """Historical conditional VaR (expected shortfall): minus the mean of the k smallest returns.

    Args and errors as :func:`historical_var`.

    Example (the same 10 returns; level 0.8: (0.08 + 0.05) / 2 = 0.065;
    level 0.75: (0.08 + 0.05 + 0.02) / 3 = 0.05):

    >>> r = [-0.05, 0.02, -0.01, 0.03, -0.08, 0.01, 0.0, 0.04, -0.02, 0.05]
    >>> round(historical_cvar(r, 0.8), 12), round(historical_cvar(r, 0.75), 12)
    (0.065, 0.05)
    """
    r = as_series(returns, "returns", min_len=1)
    k = tail_count(r.size, level)
    tail = np.partition(r, k - 1)[:k]
    kth = tail[k - 1]
    # -mean(tail) written as VaR + mean excess loss beyond it: each term >= 0, so
    # CVaR >= VaR holds exactly in floating point, not only up to rounding.
    return float(-kth + (kth - tail).mean())
