"""Per-agent risk and return metrics of the compute marketplace (spec section 7.1).

The worked vector R = [0.01, -0.02, 0.015, 0, 0.005] against defisim.metrics.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim.metrics import (
    DifferentialDownsideDeviation,
    DifferentialSharpe,
    cumulative_return,
    differential_downside_deviation_series,
    differential_sharpe_series,
    downside_deviation,
    max_drawdown,
    max_drawdown_from_returns,
    periods_per_year,
    portfolio_returns,
    returns_from_equity,
    sharpe_ratio,
    sortino_ratio,
)

R = [0.01, -0.02, 0.015, 0.0, 0.005]
P_Y = periods_per_year(3600)


def test_worked_vector_cumulative_sharpe_sortino_drawdown():
    assert P_Y == 8760
    assert round(cumulative_return(R), 9) == 0.009670235
    assert round(sharpe_ratio(R), 6) == 0.148047
    assert round(sharpe_ratio(R, periods_per_year=P_Y), 6) == 13.856406
    assert round(downside_deviation(R, 0.0), 6) == 0.008944
    assert round(sortino_ratio(R, 0.0), 6) == 0.223607
    assert sortino_ratio(R, 0.0, P_Y) == pytest.approx(0.2236068 * math.sqrt(8760), rel=1e-6)
    assert round(max_drawdown_from_returns(R), 12) == -0.02
    wealth = np.concatenate(([1.0], np.cumprod(1 + np.array(R))))
    assert max_drawdown(wealth) == pytest.approx(0.02)  # the existing positive convention


def test_worked_vector_differential_sharpe():
    want = [0.0, -15.0, 2.680903, -0.031431, 0.607011]
    ds = DifferentialSharpe(eta=0.1)
    assert [round(ds.update(r), 6) for r in R] == want
    assert differential_sharpe_series(R, eta=0.1).round(6).tolist() == want
    spec = DifferentialSharpe(eta=0.1, min_variance=1e-12)
    assert [round(spec.update(r), 6) for r in R] == want
    assert differential_sharpe_series(R, 0.1, min_variance=1e-12).round(6).tolist() == want


def test_differential_sharpe_absolute_threshold_of_the_spec():
    # returns of order 1e-7: B - A^2 ~ 1e-15 <= 1e-12, so the spec's D is 0
    tiny = [1e-7, 3e-7, -2e-7, 4e-7]
    assert differential_sharpe_series(tiny, 0.1, min_variance=1e-12).tolist() == [0.0] * 4
    assert np.count_nonzero(differential_sharpe_series(tiny, 0.1)) == 3  # relative rule
    with pytest.raises(ValueError, match="min_variance"):
        DifferentialSharpe(0.1, min_variance=-1.0)


def test_worked_vector_downside_differential_by_hand():
    eta = 0.1
    a = dd2 = 0.0
    want = []
    for r in R:  # spec 7.1 "Downside variant", D computed before the update
        if dd2 == 0.0:
            d = 0.0  # DD_{t-1} = 0: undefined in the spec; defisim's convention is 0
        elif r > 0:
            d = (r - a / 2) / math.sqrt(dd2)
        else:
            d = (dd2 * (r - a / 2) - a * r * r / 2) / dd2**1.5
        want.append(d)
        a += eta * (r - a)
        dd2 += eta * (min(r, 0.0) ** 2 - dd2)
    assert [round(x, 6) for x in want] == [0.0, 0.0, 2.458671, -0.0425, 0.838091]
    online = DifferentialDownsideDeviation(eta)
    assert [online.update(r) for r in R] == pytest.approx(want, rel=1e-12)
    assert differential_downside_deviation_series(R, eta).tolist() == pytest.approx(want, rel=1e-12)


def test_portfolio_returns_net_of_funding():
    w = np.concatenate(([100.0], 100.0 * np.cumprod(1 + np.array(R))))
    assert portfolio_returns(w).tolist() == pytest.approx(R, abs=1e-15)
    assert portfolio_returns(w).tolist() == pytest.approx(returns_from_equity(w).tolist())
    # a deposit of 50 during interval 2 leaves R_2 unchanged
    funded = w.copy()
    funded[2:] += 50.0 * np.concatenate(([1.0], np.cumprod(1 + np.array(R[2:]))))
    f = [0.0, 50.0, 0.0, 0.0, 0.0]
    assert portfolio_returns(funded, f).tolist() == pytest.approx(R, abs=1e-12)
    assert portfolio_returns([100.0, 0.0]).tolist() == [-1.0]  # wiped out
    with pytest.raises(ValueError, match="one value per interval"):
        portfolio_returns(w, [0.0])
    with pytest.raises(ValueError, match="index 1"):
        portfolio_returns([100.0, 0.0, 10.0])


def test_cumulative_and_drawdown_errors_and_edges():
    assert cumulative_return([-1.0, 0.5]) == -1.0
    assert max_drawdown_from_returns([0.01, 0.02]) == 0.0
    assert max_drawdown_from_returns([-1.0]) == -1.0
    with pytest.raises(ValueError, match="below -1"):
        cumulative_return([-1.5])
    with pytest.raises(ValueError, match="below -1"):
        max_drawdown_from_returns([0.1, -1.2])
