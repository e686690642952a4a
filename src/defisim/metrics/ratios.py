"""Risk-adjusted return ratios: Sharpe, Sortino (with its downside deviation), Calmar.

Every ratio takes ``periods_per_year``: ``None`` gives the per-period ratio,
a number (see :func:`~defisim.metrics.returns.periods_per_year`) the annualised
one. Sharpe and Sortino annualise by ``sqrt(periods_per_year)`` (mean scales by
``T``, deviation by ``sqrt(T)``, returns i.i.d.: Lo 2002, "The statistics of
Sharpe ratios", Financial Analysts Journal 58(4)).

Undefined ratios are ``nan``, never ``inf`` and never an exception: a ratio
whose denominator is zero (a constant series, a series without a loss, a curve
without a drawdown) returns ``float('nan')``. ``nan`` survives JSON as ``null``
and marks "undefined" in sweep tables, while a signed ``inf`` would pretend to
be a best-ever value. Dispersions at rounding level (``<= 1e-12`` times the
largest absolute input) count as zero.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._checks import ZERO_TOL, annualise, as_series, check_periods_per_year
from .drawdown import max_drawdown
from .returns import compound_annual_return


def sharpe_ratio(
    returns: ArrayLike, risk_free: float = 0.0, periods_per_year: float | None = None
) -> float:
    """Sharpe ratio: mean excess return over its sample standard deviation.

    ``S = mean(r - rf) / std(r - rf, ddof=1)``, times ``sqrt(periods_per_year)``
    when given (Sharpe 1994, "The Sharpe ratio", J. Portfolio Management 21(1),
    the ex-post ratio; annualisation as Lo 2002).

    Args:
        returns: shape ``(N,)``, ``N >= 2``, simple returns per period.
        risk_free: risk-free return *per period* (the same period as
            ``returns``; an annual 4 % over 365 daily periods is ``0.04 / 365``).
        periods_per_year: annualise when given; ``None`` = per-period ratio.

    Returns:
        the ratio; ``nan`` when the standard deviation is zero (constant returns).

    Raises:
        ValueError: fewer than 2 returns, a NaN/inf, a bad ``periods_per_year``.

    Example (mean 0.02, deviations -0.01, 0.01, -0.03, 0.03, sample variance
    0.002 / 3, so S = 0.02 / sqrt(0.002 / 3) = sqrt(0.6)):

    >>> round(sharpe_ratio([0.01, 0.03, -0.01, 0.05]), 6)
    0.774597
    >>> round(sharpe_ratio([0.01, 0.03, -0.01, 0.05], periods_per_year=365), 4)  # sqrt(0.6*365)
    14.7986
    """
    r = as_series(returns, "returns", min_len=2)
    ppy = check_periods_per_year(periods_per_year)
    rf = float(risk_free)
    if not math.isfinite(rf):
        raise ValueError(f"risk_free must be finite, got {risk_free!r}")
    excess = r - rf
    sd = float(excess.std(ddof=1))
    if sd <= ZERO_TOL * float(np.abs(excess).max()):
        return math.nan
    return annualise(float(excess.mean()) / sd, ppy)


def downside_deviation(returns: ArrayLike, target: float = 0.0) -> float:
    """Downside deviation below ``target``, averaged over ALL periods.

    ``DD = sqrt( (1/N) * sum_t min(0, r_t - T)^2 )``: periods above the target
    count as zeros in the mean, they are not dropped (Sortino & Price 1994,
    "Performance measurement in a downside risk framework", J. Investing 3(3);
    Rollinger & Hoffman 2013, "Sortino: a 'sharper' ratio", Red Rock Capital).
    Per period, not annualised (multiply by ``sqrt(periods_per_year)`` for that).

    Args:
        returns: shape ``(N,)``, ``N >= 1``.
        target: minimum acceptable return per period (``T``).

    Raises:
        ValueError: empty, a NaN/inf.

    Example (only -0.01 is below 0: sqrt(0.01**2 / 4) = 0.005; dividing by the
    one losing period instead would give 0.01):

    >>> round(downside_deviation([0.01, 0.03, -0.01, 0.05]), 12)
    0.005
    """
    r = as_series(returns, "returns", min_len=1)
    t = float(target)
    if not math.isfinite(t):
        raise ValueError(f"target must be finite, got {target!r}")
    short = np.minimum(r - t, 0.0)
    return float(math.sqrt(float(np.mean(short * short))))


def sortino_ratio(
    returns: ArrayLike, target: float = 0.0, periods_per_year: float | None = None
) -> float:
    """Sortino ratio: mean return above ``target`` over the downside deviation.

    ``(mean(r) - T) / DD`` with ``DD`` from :func:`downside_deviation` (all
    periods in the mean, Sortino & Price 1994; Rollinger & Hoffman 2013), times
    ``sqrt(periods_per_year)`` when given.

    Args:
        returns: shape ``(N,)``, ``N >= 1``, simple returns per period.
        target: minimum acceptable return per period.
        periods_per_year: annualise when given; ``None`` = per-period ratio.

    Returns:
        the ratio; ``nan`` when ``DD`` is zero (no period below the target).

    Raises:
        ValueError: empty, a NaN/inf, a bad ``periods_per_year``.

    Example (mean 0.02, DD 0.005, so 4.0; with DD over the losers only it
    would be 2.0):

    >>> round(sortino_ratio([0.01, 0.03, -0.01, 0.05]), 12)
    4.0
    """
    r = as_series(returns, "returns", min_len=1)
    ppy = check_periods_per_year(periods_per_year)
    t = float(target)
    dd = downside_deviation(r, t)
    if dd <= ZERO_TOL * float(np.abs(r - t).max()):
        return math.nan
    return annualise((float(r.mean()) - t) / dd, ppy)


def calmar_ratio(returns: ArrayLike, periods_per_year: float | None) -> float:
    """Calmar ratio: compound annual return over the maximum drawdown.

    ``CAGR / MDD`` where the equity curve is ``E_0 = 1, E_t = prod_{s<=t} (1 + r_s)``,
    ``CAGR = E_n ** (periods_per_year / n) - 1`` (:func:`compound_annual_return`)
    and ``MDD`` its :func:`~defisim.metrics.drawdown.max_drawdown` (Young 1991,
    "Calmar ratio: a smoother tool", Futures 20(1)). Young used the last 36
    months; here the whole series is the window. With ``periods_per_year=None``
    the numerator is the per-period geometric mean return.

    Args:
        returns: shape ``(n,)``, ``n >= 1``, each >= -1.
        periods_per_year: see :func:`~defisim.metrics.returns.periods_per_year`
            (required: pass ``None`` explicitly for the per-period form).

    Returns:
        the ratio (can be ``inf`` when the CAGR extrapolates past float range);
        ``nan`` when the curve never falls (``MDD <= 1e-12``).

    Raises:
        ValueError: empty, a NaN/inf, a return < -1, a bad ``periods_per_year``.

    Example (+10 %, -20 %, +50 %: equity 1, 1.1, 0.88, 1.32; CAGR with 3
    periods a year 0.32, MDD (1.1 - 0.88) / 1.1 = 0.2, Calmar 1.6):

    >>> round(calmar_ratio([0.1, -0.2, 0.5], periods_per_year=3), 12)
    1.6
    """
    cagr = compound_annual_return(returns, periods_per_year)  # checks returns and ppy
    r = np.asarray(returns, dtype=np.float64)
    equity = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    mdd = max_drawdown(equity)
    if mdd <= ZERO_TOL:
        return math.nan
    return cagr / mdd
