"""Risk and performance metrics of return, equity and PnL series (pure numpy/scipy).

A bottom layer: nothing here imports the rest of :mod:`defisim`. Modules, one
concept each:

* :mod:`~defisim.metrics.returns`: returns from equity or PnL, portfolio returns
  net of funding, annualisation (365-day years unless told otherwise), compound
  annual and cumulative return.
* :mod:`~defisim.metrics.drawdown`: drawdown series, maximum drawdown (relative
  and absolute).
* :mod:`~defisim.metrics.ratios`: Sharpe, Sortino (downside deviation over all
  periods), Calmar; undefined ratios are ``nan``.
* :mod:`~defisim.metrics.tail`: historical VaR and CVaR, ``k = ceil(N (1 - level))``.
* :mod:`~defisim.metrics.differential`: Moody & Saffell's differential Sharpe
  and downside deviation ratios, online (per-step RL rewards) and vectorised.
* :mod:`~defisim.metrics.summary`: :func:`summarize`, everything at once on a
  cumulative PnL series.

Shapes: a series of ``N`` points is a 1-D array of shape ``(N,)`` and gives
``N - 1`` returns. Bad input raises ``ValueError`` naming the argument and the
problem.
"""

from .differential import (
    DifferentialDownsideDeviation,
    DifferentialSharpe,
    differential_downside_deviation_series,
    differential_sharpe_series,
)
from .drawdown import drawdown_series, max_drawdown, max_drawdown_abs, max_drawdown_from_returns
from .ratios import calmar_ratio, downside_deviation, sharpe_ratio, sortino_ratio
from .returns import (
    compound_annual_return,
    cumulative_return,
    periods_per_year,
    pnl_changes,
    portfolio_returns,
    returns_from_equity,
    returns_from_pnl,
)
from .summary import SUMMARY_KEYS, summarize
from .tail import historical_cvar, historical_var, tail_count

__all__ = [
    "SUMMARY_KEYS",
    "DifferentialDownsideDeviation",
    "DifferentialSharpe",
    "calmar_ratio",
    "compound_annual_return",
    "cumulative_return",
    "differential_downside_deviation_series",
    "differential_sharpe_series",
    "downside_deviation",
    "drawdown_series",
    "historical_cvar",
    "historical_var",
    "max_drawdown",
    "max_drawdown_abs",
    "max_drawdown_from_returns",
    "periods_per_year",
    "pnl_changes",
    "portfolio_returns",
    "returns_from_equity",
    "returns_from_pnl",
    "sharpe_ratio",
    "sortino_ratio",
    "summarize",
    "tail_count",
]
