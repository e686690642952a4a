"""Per-agent risk and return of the compute marketplace (spec 7.1).

:class:`PortfolioTracker` samples an agent's portfolio value W_t (USD) every
``metric_interval_s`` and summarises the returns with :mod:`defisim.metrics`:
cumulative return, Sharpe and Sortino (T = 0) annualised with ``P_y`` periods a year
(8760 for hourly samples: the market trades 24/7), the last differential Sharpe ratio
(η = 0.01) and the maximum drawdown. Undefined ratios (fewer than 2 returns, zero
variance) are ``nan``.
"""

from __future__ import annotations

import math

import numpy as np

from defisim.metrics import (
    DifferentialSharpe,
    cumulative_return,
    max_drawdown_from_returns,
    portfolio_returns,
    sharpe_ratio,
    sortino_ratio,
)

__all__ = ["PortfolioTracker"]

YEAR_S = 365 * 86400


class PortfolioTracker:
    """W_t samples of one agent.

    Args:
        interval_s: sampling interval, s (> 0); the first sample is at the first call.
        eta: the differential Sharpe's adaptation rate.

    Raises:
        ValueError: ``interval_s <= 0``.
    """

    def __init__(self, interval_s: float = 3600.0, eta: float = 0.01) -> None:
        if not interval_s > 0:
            raise ValueError(f"metric_interval_s must be > 0, got {interval_s!r}")
        self.interval_s = float(interval_s)
        self.values: list[float] = []
        self.times: list[float] = []
        """The time (s) of each sample in ``values``."""
        self.dsr = DifferentialSharpe(eta=eta)
        self.last_dsr = 0.0
        self._next = 0.0

    def due(self, now: float) -> bool:
        """A sample is due at ``now`` (s)."""
        return now >= self._next

    def record(self, now: float, value_usd: float) -> None:
        """Add W at ``now``; updates the online differential Sharpe."""
        if self.values and self.values[-1] > 0:
            r = value_usd / self.values[-1] - 1
            self.last_dsr = float(self.dsr.update(r))
        self.values.append(float(value_usd))
        self.times.append(float(now))
        self._next = now + self.interval_s

    def summary(self) -> dict[str, float]:
        """``cumulative_return``, ``sharpe``, ``sortino``, ``dsr``, ``max_drawdown``
        (annualised ratios; ``nan`` when undefined)."""
        nan = float("nan")
        out = {"cumulative_return": nan, "sharpe": nan, "sortino": nan,
               "dsr": self.last_dsr, "max_drawdown": nan}
        w = np.asarray(self.values, dtype=float)
        if len(w) < 2 or not np.all(w > 0):
            return out
        r = portfolio_returns(w)
        ppy = YEAR_S / self.interval_s
        out["cumulative_return"] = float(cumulative_return(r))
        out["max_drawdown"] = float(max_drawdown_from_returns(r))
        if len(r) >= 2:
            for key, fn in (("sharpe", sharpe_ratio), ("sortino", sortino_ratio)):
                try:
                    v = float(fn(r, periods_per_year=ppy))
                except (ValueError, ZeroDivisionError):
                    v = nan
                out[key] = v if math.isfinite(v) else nan
        return out
