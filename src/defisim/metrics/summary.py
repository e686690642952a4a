"""One call for all the metrics of a cumulative PnL series: :func:`summarize`."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_series, check_level, check_positive
from .drawdown import max_drawdown, max_drawdown_abs
from .ratios import calmar_ratio, sharpe_ratio, sortino_ratio
from .returns import compound_annual_return, periods_per_year
from .tail import historical_cvar, historical_var

SUMMARY_KEYS: tuple[str, ...] = (
    "n_periods",
    "periods_per_year",
    "total_pnl",
    "total_return",
    "annual_return",
    "mean_return",
    "std_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_pnl",
    "calmar",
    "var",
    "cvar",
    "ruined",
)
"""The keys of :func:`summarize`'s result, in order."""


def summarize(
    pnl: ArrayLike,
    capital: float,
    period_seconds: float,
    days_per_year: float = 365.0,
    level: float = 0.95,
) -> dict[str, float]:
    """Risk and performance metrics of a cumulative PnL series, as one flat dict.

    The equity curve is ``E_t = capital + pnl[t]`` (see
    :func:`~defisim.metrics.returns.returns_from_pnl`); its ``n = N - 1``
    per-period simple returns feed every ratio. Keys (:data:`SUMMARY_KEYS`):

    ``n_periods``
        ``n``, the number of returns (an int).
    ``periods_per_year``
        ``days_per_year * 86400 / period_seconds``.
    ``total_pnl``
        ``pnl[-1] - pnl[0]``, quote units.
    ``total_return``
        ``E_last / E_0 - 1``.
    ``annual_return``
        compound annual return (CAGR) of the returns.
    ``mean_return``, ``std_return``
        per-period mean and sample std (ddof=1) of the returns.
    ``sharpe``, ``sortino``
        annualised, risk-free rate and target 0 (:func:`sharpe_ratio`,
        :func:`sortino_ratio`).
    ``max_drawdown``
        of the equity curve, a fraction in [0, 1].
    ``max_drawdown_pnl``
        of ``pnl`` itself, quote units (:func:`max_drawdown_abs`).
    ``calmar``
        ``annual_return / max_drawdown``.
    ``var``, ``cvar``
        historical one-period VaR and CVaR at ``level``, as positive return
        fractions (the ``k = ceil(n (1 - level))`` convention of
        :mod:`defisim.metrics.tail`).
    ``ruined``
        1.0 if the equity reached 0 (or below), else 0.0.

    Degenerate input does not raise: a ratio that is undefined is ``nan`` (a
    single point: no returns, so every return statistic is ``nan``; a constant
    PnL: zero std, no downside and no drawdown, so ``sharpe``, ``sortino`` and
    ``calmar`` are ``nan``; one return: ``std_return`` and ``sharpe`` are ``nan``).
    A wiped-out account (``capital + pnl[t] <= 0`` first at ``t = i``) is
    treated as ruin: the curve stops at ``i`` with ``E_i = 0``, the last return is
    -1, ``max_drawdown`` is 1 and ``ruined`` 1.0 (after ruin there is no capital
    to earn a return on). ``annual_return`` and ``calmar`` can be ``inf`` when a
    short, profitable series is compounded to a year.

    Args:
        pnl: shape ``(N,)``, ``N >= 1``, cumulative PnL in quote units.
        capital: deposited capital in quote units, > 0.
        period_seconds: seconds between samples, > 0.
        days_per_year: days in a year for annualisation (365: crypto).
        level: VaR/CVaR confidence in (0, 1).

    Raises:
        ValueError: bad input rather than degenerate input: empty ``pnl``, a
            NaN/inf, ``capital``/``period_seconds``/``days_per_year`` not > 0,
            ``level`` outside (0, 1).

    Example (capital 100, PnL 0, 10, -1, 10 at one step a day: equity 100, 110,
    99, 110, returns 0.1, -0.1, 1/9; max drawdown 10 %; total return 10 %):

    >>> s = summarize([0.0, 10.0, -1.0, 10.0], capital=100.0, period_seconds=86400)
    >>> s["n_periods"], s["periods_per_year"], s["total_pnl"], round(s["max_drawdown"], 12)
    (3, 365.0, 10.0, 0.1)
    >>> round(s["total_return"], 12), round(s["var"], 12), s["max_drawdown_pnl"]
    (0.1, 0.1, 11.0)
    """
    p = as_series(pnl, "pnl", min_len=1)
    c = check_positive(capital, "capital")
    ppy = periods_per_year(period_seconds, days_per_year)
    check_level(level)
    nan = math.nan
    out: dict[str, float] = dict.fromkeys(SUMMARY_KEYS, nan)
    out["periods_per_year"] = ppy
    out["total_pnl"] = float(p[-1] - p[0])
    out["max_drawdown_pnl"] = max_drawdown_abs(p)
    out["ruined"] = 0.0
    equity = c + p
    dead = equity <= 0
    if dead.any():
        i = int(np.argmax(dead))
        out["ruined"] = 1.0
        if i == 0:  # wiped out from the start: no return is defined
            out["n_periods"] = 0
            return out
        equity = equity[: i + 1].copy()
        equity[i] = 0.0
    n = equity.size - 1
    out["n_periods"] = n
    out["max_drawdown"] = max_drawdown(equity)
    out["total_return"] = float(equity[-1] / equity[0] - 1.0)
    if n == 0:
        return out
    r = equity[1:] / equity[:-1] - 1.0
    out["annual_return"] = compound_annual_return(r, ppy)
    out["mean_return"] = float(r.mean())
    out["sortino"] = sortino_ratio(r, 0.0, ppy)
    out["calmar"] = calmar_ratio(r, ppy)
    out["var"] = historical_var(r, level)
    out["cvar"] = historical_cvar(r, level)
    if n >= 2:
        out["std_return"] = float(r.std(ddof=1))
        out["sharpe"] = sharpe_ratio(r, 0.0, ppy)
    return out
