"""Per-period returns from equity and PnL series, and the annualisation factor.

Conventions used by the whole :mod:`defisim.metrics` package:

* A *series* is a 1-D array of samples taken at a fixed period (one simulation
  step, an hour, a day). ``N`` points give ``N - 1`` returns.
* Returns are *simple* returns ``r_t = E_t / E_{t-1} - 1`` (fractions: 0.01 is
  1 %), not log returns.
* Annualisation is always explicit: a ratio is annualised only when it is given
  ``periods_per_year`` (from :func:`periods_per_year`), and a year has 365 days
  unless told otherwise (crypto markets trade every day; pass
  ``days_per_year=252`` for an exchange calendar).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_series, check_periods_per_year, check_positive

SECONDS_PER_DAY = 86_400.0


def returns_from_equity(equity: ArrayLike) -> NDArray[np.float64]:
    """Simple per-period returns of an equity curve.

    ``r_t = E_t / E_{t-1} - 1`` for ``t = 1 .. N-1``.

    Args:
        equity: shape ``(N,)``, ``N >= 2``, account value in quote units (any
            unit: returns are unit-free), every value finite and > 0.

    Returns:
        shape ``(N-1,)``, fractions per period.

    Raises:
        ValueError: fewer than 2 points, a NaN/inf, or a value <= 0 (a return on
            zero or negative equity is undefined; the message gives the index).

    Example (100 -> 110 is +10 %, 110 -> 99 is -10 %):

    >>> returns_from_equity([100.0, 110.0, 99.0]).round(12).tolist()
    [0.1, -0.1]
    """
    e = as_series(equity, "equity", min_len=2)
    bad = e <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"equity: must be > 0 everywhere (returns on non-positive equity are "
            f"undefined), got {e[i]} at index {i}"
        )
    return e[1:] / e[:-1] - 1.0


def pnl_changes(pnl: ArrayLike) -> NDArray[np.float64]:
    """Per-period PnL of a cumulative PnL series: ``pnl[t] - pnl[t-1]``.

    Args:
        pnl: shape ``(N,)``, ``N >= 2``, cumulative PnL in quote units (may be
            negative).

    Returns:
        shape ``(N-1,)``, quote units per period.

    Raises:
        ValueError: fewer than 2 points or a NaN/inf.

    >>> pnl_changes([0.0, 5.0, 2.0, 2.0]).tolist()
    [5.0, -3.0, 0.0]
    """
    return np.diff(as_series(pnl, "pnl", min_len=2))


def returns_from_pnl(pnl: ArrayLike, capital: float) -> NDArray[np.float64]:
    """Simple returns of the equity curve ``capital + pnl``.

    ``pnl`` is the *cumulative* PnL (equity minus what was deposited, the
    definition of ``Simulation.pnl`` and of the ``pnl`` column of a run's
    ``positions`` table); ``capital`` is what was deposited. The equity curve is
    ``E_t = capital + pnl[t]`` and the returns are those of
    :func:`returns_from_equity`. Only moves *between* samples count: prepend
    ``0.0`` to ``pnl`` to include the move from the deposit to the first sample.

    Args:
        pnl: shape ``(N,)``, ``N >= 2``, quote units.
        capital: deposited capital in the same units, finite and > 0.

    Returns:
        shape ``(N-1,)``, fractions per period.

    Raises:
        ValueError: ``capital`` not > 0, fewer than 2 points, a NaN/inf, or
            ``capital + pnl`` <= 0 somewhere (the account is wiped out).

    Example (capital 100: equity 100, 110, 99):

    >>> returns_from_pnl([0.0, 10.0, -1.0], capital=100.0).round(12).tolist()
    [0.1, -0.1]
    """
    c = check_positive(capital, "capital")
    p = as_series(pnl, "pnl", min_len=2)
    e = c + p
    bad = e <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"capital + pnl must be > 0 everywhere (the account is wiped out): "
            f"capital {c} + pnl {p[i]} = {e[i]} at index {i}"
        )
    return e[1:] / e[:-1] - 1.0


def periods_per_year(period_seconds: float, days_per_year: float = 365.0) -> float:
    """How many periods of ``period_seconds`` fit in a year of ``days_per_year`` days.

    ``days_per_year * 86400 / period_seconds``. The default year has 365 days
    because crypto markets trade every day; pass ``days_per_year=252`` for an
    exchange's trading days (then ``period_seconds`` counts trading-day seconds,
    e.g. ``86400`` for daily bars).

    Args:
        period_seconds: length of one period in seconds, > 0.
        days_per_year: days in a year, > 0.

    Raises:
        ValueError: a non-positive or non-finite argument.

    >>> periods_per_year(3600)        # hourly bars, 365 x 24
    8760.0
    >>> periods_per_year(86400, days_per_year=252)
    252.0
    """
    s = check_positive(period_seconds, "period_seconds")
    d = check_positive(days_per_year, "days_per_year")
    return d * SECONDS_PER_DAY / s


def compound_annual_return(returns: ArrayLike, periods_per_year: float | None) -> float:
    """Compound (geometric) return per year of a return series.

    ``G = prod(1 + r_t)`` over the ``n`` returns, then ``G ** (periods_per_year / n) - 1``
    (the CAGR); with ``periods_per_year=None`` the per-period geometric mean
    ``G ** (1 / n) - 1``. Computed in log space (``sum(log1p(r))``): a short,
    profitable series at a fine period extrapolates to ``inf`` rather than
    raising an overflow.

    Args:
        returns: shape ``(n,)``, ``n >= 1``, simple returns, each >= -1 (-1 =
            everything lost, which gives -1).
        periods_per_year: see :func:`periods_per_year`, or ``None``.

    Raises:
        ValueError: empty, a NaN/inf, or a return < -1 (negative equity).

    Example (+10 %, -20 %, +50 %: growth 1.1 x 0.8 x 1.5 = 1.32 over 3 periods;
    with 3 periods a year the CAGR is 32 %):

    >>> round(compound_annual_return([0.1, -0.2, 0.5], periods_per_year=3), 12)
    0.32
    """
    r = as_series(returns, "returns", min_len=1)
    ppy = check_periods_per_year(periods_per_year)
    below = r < -1.0
    if below.any():
        i = int(np.argmax(below))
        raise ValueError(f"returns: a return below -1 (negative equity), got {r[i]} at index {i}")
    if (r == -1.0).any():
        return -1.0
    exponent = (1.0 if ppy is None else ppy) / r.size
    log_growth = float(np.log1p(r).sum()) * exponent
    if log_growth > 700.0:
        return math.inf
    return math.expm1(log_growth)


def cumulative_return(returns: ArrayLike) -> float:
    """Cumulative (compounded) return of a return series: ``prod(1 + R_t) - 1``.

    Compute-marketplace spec section 7.1 ("Cumulative return"; empyrical's
    ``cum_returns_final``).

    Args:
        returns: shape ``(n,)``, ``n >= 1``, simple returns per period, each >= -1.

    Returns:
        a float >= -1 (-1 = everything lost).

    Raises:
        ValueError: empty, a NaN/inf, or a return < -1 (negative wealth).

    Example (the worked vector of spec 7.1):

    >>> round(cumulative_return([0.01, -0.02, 0.015, 0.0, 0.005]), 9)
    0.009670235
    """
    r = as_series(returns, "returns", min_len=1)
    below = r < -1.0
    if below.any():
        i = int(np.argmax(below))
        raise ValueError(f"returns: a return below -1 (negative wealth), got {r[i]} at index {i}")
    return float(np.prod(1.0 + r) - 1.0)


def portfolio_returns(values: ArrayLike, funding: ArrayLike | None = None) -> NDArray[np.float64]:
    """Per-interval returns of a portfolio value net of external funding.

    ``R_t = (W_t - F_t) / W_{t-1} - 1`` for ``t = 1 .. N`` (compute-marketplace
    spec section 7.1, "Returns"): ``F_t`` is the net external funding received
    during interval ``t`` (deposits positive, withdrawals negative), so money
    moved in or out is not counted as a gain or a loss.

    Args:
        values: shape ``(N + 1,)``, ``N >= 1``, portfolio value ``W_0 .. W_N`` in
            USD (any unit), finite; every ``W_{t-1}`` (all but the last) > 0.
        funding: shape ``(N,)``, ``F_1 .. F_N`` in the units of ``values``, or
            ``None`` for no funding (then the same as :func:`returns_from_equity`
            but allowing a last value of 0).

    Returns:
        shape ``(N,)``, fractions per interval.

    Raises:
        ValueError: fewer than 2 values, a NaN/inf, ``funding`` of the wrong
            length, or a ``W_{t-1} <= 0`` (the message gives the index).

    Example (W 100 -> 110 with a deposit of 5 is +5 %; 110 -> 99 is -10 %):

    >>> portfolio_returns([100.0, 110.0, 99.0], [5.0, 0.0]).round(12).tolist()
    [0.05, -0.1]
    """
    w = as_series(values, "values", min_len=2)
    n = w.size - 1
    if funding is None:
        f = np.zeros(n)
    else:
        f = as_series(funding, "funding", min_len=1)
        if f.size != n:
            raise ValueError(
                f"funding: needs one value per interval ({n} for {w.size} values), got {f.size}"
            )
    prev = w[:-1]
    bad = prev <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"values: every value but the last must be > 0 (a return on non-positive "
            f"wealth is undefined), got {prev[i]} at index {i}"
        )
    return (w[1:] - f) / prev - 1.0
