"""defisim.metrics: hand-computed values, published definitions, errors, properties."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defisim import metrics
from defisim.metrics import (
    SUMMARY_KEYS,
    DifferentialDownsideDeviation,
    DifferentialSharpe,
    calmar_ratio,
    compound_annual_return,
    differential_downside_deviation_series,
    differential_sharpe_series,
    downside_deviation,
    drawdown_series,
    historical_cvar,
    historical_var,
    max_drawdown,
    max_drawdown_abs,
    periods_per_year,
    pnl_changes,
    returns_from_equity,
    returns_from_pnl,
    sharpe_ratio,
    sortino_ratio,
    summarize,
    tail_count,
)

approx = pytest.approx
R4 = [0.01, 0.03, -0.01, 0.05]  # mean 0.02; deviations -0.01, 0.01, -0.03, 0.03
R10 = [-0.05, 0.02, -0.01, 0.03, -0.08, 0.01, 0.0, 0.04, -0.02, 0.05]
# R10 sorted: -0.08, -0.05, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05

finite_returns = st.lists(
    st.floats(min_value=-0.5, max_value=0.5, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=60,
)
FAST = settings(max_examples=50, deadline=None)


# ---------------------------------------------------------------- doc examples
@pytest.mark.parametrize(
    "module", ["returns", "drawdown", "ratios", "tail", "differential", "summary"]
)
def test_docstring_examples_hold(module):
    mod = importlib.import_module(f"defisim.metrics.{module}")
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_metrics_is_a_bottom_layer():
    # nothing in defisim.metrics imports another defisim package
    import pathlib

    root = pathlib.Path(metrics.__file__).parent
    for f in root.glob("*.py"):
        text = f.read_text()
        assert "from defisim" not in text and "import defisim" not in text, f.name


# ---------------------------------------------------------------- returns
def test_returns_from_equity_hand_computed():
    # 110/100 - 1 = 0.1; 99/110 - 1 = -0.1; 108.9/99 - 1 = 0.1
    r = returns_from_equity(np.array([100.0, 110.0, 99.0, 108.9]))
    assert r.shape == (3,)
    assert r == approx([0.1, -0.1, 0.1], abs=1e-12)


@pytest.mark.parametrize(
    ("equity", "match"),
    [
        ([100.0, 0.0, 50.0], r"equity: must be > 0 everywhere.*0\.0 at index 1"),
        ([100.0, -5.0], r"equity: must be > 0.*-5\.0 at index 1"),
        ([100.0], r"equity: needs at least 2 points, got 1"),
        ([], r"equity: needs at least 2 points, got 0"),
        ([100.0, float("nan"), 90.0], r"equity: non-finite value nan at index 1"),
        ([100.0, float("inf")], r"equity: non-finite value inf at index 1"),
        ([[100.0, 101.0]], r"equity: expected a 1-D series.*\(1, 2\)"),
        (["a", "b"], r"equity: not a numeric series"),
    ],
)
def test_returns_from_equity_errors(equity, match):
    with pytest.raises(ValueError, match=match):
        returns_from_equity(equity)


def test_pnl_changes_and_returns_from_pnl():
    assert pnl_changes([0.0, 5.0, 2.0, 2.0]).tolist() == [5.0, -3.0, 0.0]
    # capital 100: equity 100, 110, 99 -> +10 %, -10 %
    assert returns_from_pnl([0.0, 10.0, -1.0], 100.0) == approx([0.1, -0.1], abs=1e-12)
    # a PnL that does not start at 0: equity 105, 115.5 -> +10 %
    assert returns_from_pnl([5.0, 15.5], 100.0) == approx([0.1], abs=1e-12)
    with pytest.raises(ValueError, match=r"pnl: needs at least 2 points"):
        pnl_changes([1.0])
    with pytest.raises(ValueError, match=r"capital must be a finite number > 0, got 0"):
        returns_from_pnl([0.0, 1.0], 0)
    with pytest.raises(
        ValueError, match=r"wiped out.*capital 100\.0 \+ pnl -100\.0 = 0\.0 at index 2"
    ):
        returns_from_pnl([0.0, -50.0, -100.0], 100.0)


def test_periods_per_year_is_explicit_365_by_default():
    assert periods_per_year(3600) == 8760.0  # 365 x 24
    assert periods_per_year(86400) == 365.0
    assert periods_per_year(60) == 525_600.0  # 365 x 1440
    assert periods_per_year(86400, days_per_year=252) == 252.0
    assert periods_per_year(3600, days_per_year=252) == 252 * 24
    with pytest.raises(ValueError, match=r"period_seconds must be a finite number > 0, got 0"):
        periods_per_year(0)
    with pytest.raises(ValueError, match=r"days_per_year must be a finite number > 0"):
        periods_per_year(60, days_per_year=-1)


def test_compound_annual_return():
    # growth 1.1 x 0.8 x 1.5 = 1.32 over 3 periods
    assert compound_annual_return([0.1, -0.2, 0.5], 3) == approx(0.32)
    assert compound_annual_return([0.1, -0.2, 0.5], 6) == approx(1.32**2 - 1)  # 2 years' worth
    # per period (None): geometric mean, 1.21 ** (1/2) - 1 = 0.1
    assert compound_annual_return([0.21, 0.0], None) == approx(0.1)
    assert compound_annual_return([0.1, -1.0, 0.5], 3) == -1.0  # everything lost
    assert compound_annual_return([0.01] * 10, 31_536_000) == math.inf  # 1 s bars: overflow
    with pytest.raises(ValueError, match=r"below -1 \(negative equity\), got -1\.5 at index 1"):
        compound_annual_return([0.1, -1.5], 3)


# ---------------------------------------------------------------- Sharpe
def test_sharpe_hand_computed():
    # mean 0.02; squared deviations 1e-4, 1e-4, 9e-4, 9e-4 sum 2e-3; ddof=1 -> var 2e-3/3
    # S = 0.02 / sqrt(2e-3 / 3) = 0.02 * sqrt(1500) = sqrt(0.6) = 0.7745967
    assert sharpe_ratio(R4) == approx(math.sqrt(0.6), rel=1e-12)
    assert sharpe_ratio(R4) == approx(np.mean(R4) / np.std(R4, ddof=1), rel=1e-12)
    # ddof=0 (population std) would give 0.02 / sqrt(5e-4) = 0.894: not what we use
    assert sharpe_ratio(R4) != approx(0.02 / math.sqrt(5e-4), rel=1e-3)
    # per-period risk-free 0.01: mean excess 0.01, same std -> sqrt(0.15)
    assert sharpe_ratio(R4, risk_free=0.01) == approx(math.sqrt(0.15), rel=1e-12)


def test_sharpe_annualisation_is_sqrt_periods_per_year():
    daily = sharpe_ratio(R4)
    assert sharpe_ratio(R4, periods_per_year=365) == approx(daily * math.sqrt(365), rel=1e-12)
    assert sharpe_ratio(R4, periods_per_year=365) == approx(math.sqrt(0.6 * 365))  # 14.7986
    assert sharpe_ratio(R4, periods_per_year=periods_per_year(86400)) == approx(
        daily * math.sqrt(365)
    )
    assert sharpe_ratio(R4, periods_per_year=periods_per_year(86400, 252)) == approx(
        daily * math.sqrt(252)
    )
    # hourly bars over a 365-day year: sqrt(8760)
    assert sharpe_ratio(R4, periods_per_year=periods_per_year(3600)) == approx(
        daily * math.sqrt(8760)
    )


def test_sharpe_zero_std_is_nan():
    assert math.isnan(sharpe_ratio([0.0, 0.0, 0.0]))
    assert math.isnan(sharpe_ratio([0.1] * 7, periods_per_year=365))  # rounding-level std
    assert math.isnan(sharpe_ratio([-0.03, -0.03]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"returns": [0.01]}, r"returns: needs at least 2 points, got 1"),
        ({"returns": [0.01, float("nan")]}, r"returns: non-finite value nan at index 1"),
        ({"returns": R4, "periods_per_year": 0}, r"periods_per_year must be a finite number > 0"),
        ({"returns": R4, "periods_per_year": -365}, r"periods_per_year must be"),
        ({"returns": R4, "risk_free": math.inf}, r"risk_free must be finite"),
    ],
)
def test_sharpe_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sharpe_ratio(**kwargs)


# ---------------------------------------------------------------- Sortino
def _losers_only_dd(r, t=0.0):
    """The common mistake: the downside deviation over the losing periods only."""
    r = np.asarray(r) - t
    return math.sqrt(np.mean(r[r < 0] ** 2))


def test_downside_deviation_over_all_periods():
    # only -0.01 below 0: sqrt(0.01^2 / 4) = 0.005 (losers only: sqrt(0.01^2 / 1) = 0.01)
    assert downside_deviation(R4) == approx(0.005)
    assert _losers_only_dd(R4) == approx(0.01)
    # target 0.01: r - T = 0, 0.02, -0.02, 0.04 -> sqrt(0.02^2 / 4) = 0.01
    assert downside_deviation(R4, target=0.01) == approx(0.01)
    assert downside_deviation([0.01, 0.02]) == 0.0


def test_sortino_hand_computed_and_differs_from_losers_only():
    # Sortino & Price 1994 / Red Rock: (mean - T) / DD with DD over ALL periods
    assert sortino_ratio(R4) == approx(0.02 / 0.005)  # 4.0
    assert 0.02 / _losers_only_dd(R4) == approx(2.0)  # the other convention: not ours
    # two losers: mean 0.005, DD = sqrt((0.01^2 + 0.03^2) / 4) = sqrt(2.5e-4) = 0.0158114
    r = [0.02, -0.01, 0.04, -0.03]
    assert sortino_ratio(r) == approx(0.005 / math.sqrt(2.5e-4))  # 1/sqrt(10) = 0.316228
    assert sortino_ratio(r) == approx(1 / math.sqrt(10))
    assert 0.005 / _losers_only_dd(r) == approx(0.005 / math.sqrt(5e-4))  # 0.2236: differs
    # target 0.01: (0.02 - 0.01) / 0.01 = 1.0
    assert sortino_ratio(R4, target=0.01) == approx(1.0)


def test_sortino_annualisation_and_undefined():
    assert sortino_ratio(R4, periods_per_year=365) == approx(4.0 * math.sqrt(365))
    assert math.isnan(sortino_ratio([0.01, 0.02, 0.03]))  # no downside: DD = 0
    assert math.isnan(sortino_ratio([0.0, 0.0]))
    with pytest.raises(ValueError, match=r"returns: needs at least 1 point, got 0"):
        sortino_ratio([])
    with pytest.raises(ValueError, match=r"target must be finite"):
        downside_deviation(R4, target=math.nan)


# ---------------------------------------------------------------- drawdown
def test_drawdown_hand_computed():
    e = [100.0, 120.0, 90.0, 130.0, 117.0]
    # peaks 100, 120, 120, 130, 130 -> dd 0, 0, 1 - 90/120, 0, 1 - 117/130
    assert drawdown_series(e) == approx([0.0, 0.0, 0.25, 0.0, 0.1], abs=1e-12)
    assert max_drawdown(e) == 0.25
    assert max_drawdown([1.0, 2.0, 3.0]) == 0.0
    assert max_drawdown([5.0]) == 0.0
    assert max_drawdown([100.0, 50.0, 0.0]) == 1.0  # wiped out


def test_max_drawdown_abs_on_pnl():
    # 20 -> -10 is a fall of 30 (30 -> 17 only 13)
    assert max_drawdown_abs([0.0, 20.0, -10.0, 30.0, 17.0]) == 30.0
    assert max_drawdown_abs([0.0, -5.0, -7.0]) == 7.0  # from the initial 0
    assert max_drawdown_abs([3.0]) == 0.0


@pytest.mark.parametrize(
    ("equity", "match"),
    [
        ([100.0, -1.0], r"equity: must be >= 0 \(use max_drawdown_abs.*-1\.0 at index 1"),
        ([0.0, 10.0], r"equity: the first value must be > 0"),
        ([], r"equity: needs at least 1 point"),
    ],
)
def test_drawdown_errors(equity, match):
    with pytest.raises(ValueError, match=match):
        max_drawdown(equity)


# ---------------------------------------------------------------- Calmar
def test_calmar_hand_computed():
    # equity 1, 1.1, 0.88, 1.32; CAGR (3 periods a year) = 0.32; MDD = 0.22 / 1.1 = 0.2
    assert calmar_ratio([0.1, -0.2, 0.5], periods_per_year=3) == approx(1.6)
    # 6 periods a year: CAGR = 1.32^2 - 1 = 0.7424 -> 3.712
    assert calmar_ratio([0.1, -0.2, 0.5], periods_per_year=6) == approx(3.712)
    # per period: geometric mean 1.32^(1/3) - 1
    assert calmar_ratio([0.1, -0.2, 0.5], None) == approx((1.32 ** (1 / 3) - 1) / 0.2)
    assert math.isnan(calmar_ratio([0.1, 0.0, 0.2], 365))  # never falls
    assert calmar_ratio([0.5, -1.0], 2) == -1.0  # CAGR -1, MDD 1
    with pytest.raises(ValueError, match=r"return below -1"):
        calmar_ratio([0.1, -2.0], 365)


# ---------------------------------------------------------------- VaR / CVaR
def test_var_cvar_hand_computed():
    # level 0.8: k = ceil(10 x 0.2) = 2 -> VaR = -r_(2) = 0.05, CVaR = (0.08 + 0.05)/2 = 0.065
    assert historical_var(R10, 0.8) == 0.05
    assert historical_cvar(R10, 0.8) == approx(0.065)
    # level 0.75: k = ceil(2.5) = 3 -> VaR 0.02, CVaR (0.08 + 0.05 + 0.02)/3 = 0.05
    assert historical_var(R10, 0.75) == 0.02
    assert historical_cvar(R10, 0.75) == approx(0.05)
    # level 0.95: k = ceil(0.5) = 1 -> the worst return for both
    assert historical_var(R10, 0.95) == 0.08 == historical_cvar(R10, 0.95)
    # all gains: VaR is negative (the k-th worst "loss" is a gain)
    assert historical_var([0.01, 0.02, 0.03], 0.5) == -0.02  # k = ceil(1.5) = 2


def test_var_tail_count_is_robust_to_float_rounding():
    # 100 x (1 - 0.95) = 5.000000000000004 in floats; k must be 5, not 6
    assert tail_count(100, 0.95) == 5
    r = -np.arange(1, 101) / 1000.0  # -0.001 ... -0.1; the 5 worst: 0.1, 0.099, ..., 0.096
    np.random.default_rng(0).shuffle(r)
    assert historical_var(r, 0.95) == approx(0.096)
    assert historical_cvar(r, 0.95) == approx(0.098)  # mean of 0.1 .. 0.096


@given(
    r=st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=80),
    level=st.sampled_from([0.5, 0.9, 0.95, 0.975, 0.99]),
)
@FAST
def test_var_matches_numpy_inverted_cdf_quantile(r, level):
    # VaR = minus the lower empirical quantile inf{x: F_N(x) >= 1 - level}
    # (Hyndman & Fan type 1 = numpy's "inverted_cdf")
    q = 1 - level
    assume(abs(len(r) * q - round(len(r) * q)) > 1e-6)  # numpy has no rounding guard
    assert historical_var(r, level) == -np.quantile(r, q, method="inverted_cdf")


@pytest.mark.parametrize("level", [0.0, 1.0, 95, -0.5])
def test_var_level_errors(level):
    with pytest.raises(ValueError, match=r"level must be strictly between 0 and 1"):
        historical_var(R10, level)
    with pytest.raises(ValueError, match=r"level must be strictly between 0 and 1"):
        historical_cvar(R10, level)


# ---------------------------------------------------------------- differential Sharpe
def _moving_sharpe(a, b):
    return a / math.sqrt(b - a * a)


def test_differential_sharpe_hand_computed():
    ds = DifferentialSharpe(eta=0.5)
    assert ds.update(0.1) == 0.0  # A = B = 0: undefined -> 0.0; then A = 0.05, B = 0.005
    # R = 0.2: dA = 0.15, dB = 0.04 - 0.005 = 0.035, B - A^2 = 0.0025
    # D = (0.005 x 0.15 - 0.5 x 0.05 x 0.035) / 0.0025^1.5 = -0.000125 / 0.000125 = -1
    assert ds.update(0.2) == approx(-1.0)
    assert (ds.A, ds.B) == approx((0.125, 0.0225))  # 0.05 + 0.5 x 0.15, 0.005 + 0.5 x 0.035
    # R = 0.1: dA = -0.025, dB = 0.01 - 0.0225 = -0.0125, B - A^2 = 0.0225 - 0.015625 = 0.006875
    # D = (0.0225 x -0.025 + 0.5 x 0.125 x 0.0125) / 0.006875^1.5 = 0.00021875 / 0.00057004
    d3 = ds.update(0.1)
    assert d3 == approx(0.00021875 / 0.006875**1.5)
    assert d3 == approx(0.383742, rel=1e-5)
    assert type(d3) is float
    ds.reset()
    assert (
        (ds.A, ds.B) == (0.0, 0.0)
        and ds.update(0.3) == 0.0
        and math.isnan(DifferentialSharpe().sharpe)
    )


def test_differential_downside_deviation_hand_computed():
    dd = DifferentialDownsideDeviation(eta=0.5)
    assert dd.update(-0.1) == 0.0  # DD2 = 0 -> 0.0; then A = -0.05, DD2 = 0.5 x 0.01 = 0.005
    # R = 0.2 > 0: (0.2 - 0.5 x -0.05) / sqrt(0.005) = 0.225 / 0.0707107 = 3.181981
    assert dd.update(0.2) == approx(0.225 / math.sqrt(0.005))
    assert (dd.A, dd.DD2) == approx((0.075, 0.0025))
    # R = -0.1 <= 0: (0.0025 x (-0.1 - 0.0375) - 0.5 x 0.075 x 0.01) / 0.05^3
    #              = (-0.00034375 - 0.000375) / 0.000125 = -5.75
    assert dd.update(-0.1) == approx(-5.75)
    assert dd.ratio == approx(dd.A / math.sqrt(dd.DD2))
    # no loss seen yet: no downside, D = 0.0 throughout
    fresh = DifferentialDownsideDeviation(0.1)
    assert [fresh.update(x) for x in (0.01, 0.02, 0.03)] == [0.0, 0.0, 0.0]
    assert math.isnan(fresh.ratio)


def test_differential_sharpe_is_the_first_order_term_in_eta():
    """Moody & Saffell: S_t(eta) = S_{t-1} + eta D_t + O(eta^2), D_t = dS_t/d eta at 0."""
    rng = np.random.default_rng(3)
    rets = rng.normal(0.001, 0.01, 300)
    ds = DifferentialSharpe(eta=0.02)
    checked = 0
    for t, r in enumerate(rets):
        a, b = ds.A, ds.B
        d = ds.update(r)
        if t < 5:
            continue
        da, db = r - a, r * r - b

        def s(h, a=a, b=b, da=da, db=db):
            return _moving_sharpe(a + h * da, b + h * db)

        h = 1e-6  # central finite difference of S_t in eta at eta = 0
        assert (s(h) - s(-h)) / (2 * h) == approx(d, rel=1e-5, abs=1e-7)
        # the class's own update: S_t - S_{t-1} - eta D_t is second order in eta
        e1, e2 = (abs(s(e) - s(0) - e * d) for e in (1e-3, 1e-4))
        assert e2 <= 0.03 * e1 + 1e-14  # quadratic: a tenth of eta, ~a hundredth of the error
        assert ds.sharpe == approx(s(0.02))
        checked += 1
    assert checked == 295


def test_differential_downside_ratio_is_the_first_order_term_in_eta():
    rng = np.random.default_rng(4)
    rets = rng.normal(0.001, 0.01, 300)
    dd = DifferentialDownsideDeviation(eta=0.02)
    for r in rets:
        a, dd2 = dd.A, dd.DD2
        d = dd.update(r)
        if dd2 <= 0:
            assert d == 0.0
            continue
        down = min(r, 0.0)

        def ratio(h, a=a, dd2=dd2, r=r, down=down):
            return (a + h * (r - a)) / math.sqrt(dd2 + h * (down * down - dd2))

        h = 1e-6
        assert (ratio(h) - ratio(-h)) / (2 * h) == approx(d, rel=1e-5, abs=1e-7)


def test_differential_series_match_the_online_classes():
    rng = np.random.default_rng(5)
    rets = rng.normal(0.0005, 0.02, 400)
    for eta in (0.01, 0.1, 0.5):
        ds, dd = DifferentialSharpe(eta), DifferentialDownsideDeviation(eta)
        online_s = [ds.update(r) for r in rets]
        online_d = [dd.update(r) for r in rets]
        assert differential_sharpe_series(rets, eta) == approx(online_s, rel=1e-8, abs=1e-12)
        assert differential_downside_deviation_series(rets, eta) == approx(
            online_d, rel=1e-8, abs=1e-12
        )
    assert differential_sharpe_series([0.0, 0.0, 0.0]).tolist() == [0.0, 0.0, 0.0]


def test_differential_errors():
    with pytest.raises(ValueError, match=r"eta \(the adaptation rate\) must be in \(0, 1\]"):
        DifferentialSharpe(eta=0.0)
    with pytest.raises(ValueError, match=r"eta .* must be in \(0, 1\], got 1.5"):
        DifferentialDownsideDeviation(eta=1.5)
    with pytest.raises(ValueError, match=r"return must be finite, got nan"):
        DifferentialSharpe().update(float("nan"))
    with pytest.raises(ValueError, match=r"returns: non-finite value inf at index 0"):
        differential_sharpe_series([math.inf])


# ---------------------------------------------------------------- summarize
def test_summarize_hand_computed():
    # capital 100, PnL 0, 10, -1, 10 -> equity 100, 110, 99, 110; returns 0.1, -0.1, 1/9
    s = summarize([0.0, 10.0, -1.0, 10.0], capital=100.0, period_seconds=86400)
    assert tuple(s) == SUMMARY_KEYS
    assert s["n_periods"] == 3 and s["periods_per_year"] == 365.0
    assert s["total_pnl"] == 10.0 and s["total_return"] == approx(0.1)
    r = np.array([0.1, -0.1, 1 / 9])
    assert s["mean_return"] == approx(r.mean()) and s["std_return"] == approx(r.std(ddof=1))
    assert s["sharpe"] == approx(r.mean() / r.std(ddof=1) * math.sqrt(365))
    # DD over all 3 periods: sqrt(0.01 / 3)
    assert s["sortino"] == approx(r.mean() / math.sqrt(0.01 / 3) * math.sqrt(365))
    assert s["max_drawdown"] == approx(0.1)  # 110 -> 99
    assert s["max_drawdown_pnl"] == 11.0  # 10 -> -1
    assert s["annual_return"] == approx(1.1 ** (365 / 3) - 1)
    assert s["calmar"] == approx(s["annual_return"] / 0.1)
    assert s["var"] == approx(0.1) and s["cvar"] == approx(0.1)  # k = ceil(0.15) = 1
    assert s["ruined"] == 0.0


def test_summarize_agrees_with_the_single_metrics():
    rng = np.random.default_rng(6)
    pnl = np.cumsum(rng.normal(1.0, 20.0, 200))
    s = summarize(pnl, 10_000.0, 3600, days_per_year=252, level=0.99)
    ppy = periods_per_year(3600, 252)
    r = returns_from_pnl(pnl, 10_000.0)
    assert s["sharpe"] == approx(sharpe_ratio(r, periods_per_year=ppy))
    assert s["sortino"] == approx(sortino_ratio(r, periods_per_year=ppy))
    assert s["calmar"] == approx(calmar_ratio(r, ppy))
    assert s["max_drawdown"] == approx(max_drawdown(10_000.0 + pnl))
    assert s["var"] == historical_var(r, 0.99) and s["cvar"] == historical_cvar(r, 0.99)


def test_summarize_degenerate_input_gives_nan_not_errors():
    one = summarize([5.0], 100.0, 60)
    assert one["n_periods"] == 0 and one["total_pnl"] == 0.0 and one["max_drawdown"] == 0.0
    for k in ("sharpe", "sortino", "calmar", "var", "cvar", "mean_return", "std_return"):
        assert math.isnan(one[k]), k
    flat = summarize([3.0] * 10, 100.0, 60)
    assert flat["n_periods"] == 9 and flat["total_pnl"] == 0.0
    assert math.isnan(flat["sharpe"]) and math.isnan(flat["sortino"]) and math.isnan(flat["calmar"])
    assert flat["var"] == 0.0 and flat["cvar"] == 0.0 and flat["max_drawdown"] == 0.0
    two = summarize([0.0, -1.0], 100.0, 60)  # one return of -1 %
    assert math.isnan(two["std_return"]) and math.isnan(two["sharpe"])
    assert two["var"] == approx(0.01) and two["max_drawdown"] == approx(0.01)


def test_summarize_ruin():
    # capital 100, PnL 0, -50, -100, -100: equity 100, 50, 0 (cut there): returns -0.5, -1
    s = summarize([0.0, -50.0, -100.0, -100.0], 100.0, 60)
    assert s["ruined"] == 1.0 and s["n_periods"] == 2
    assert s["max_drawdown"] == 1.0 and s["total_return"] == -1.0 and s["total_pnl"] == -100.0
    assert s["var"] == 1.0 and s["annual_return"] == -1.0 and s["calmar"] == -1.0
    dead = summarize([-100.0, -90.0], 100.0, 60)  # wiped out at the first sample
    assert dead["ruined"] == 1.0 and dead["n_periods"] == 0 and math.isnan(dead["sharpe"])


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([], 100.0, 60), {}, r"pnl: needs at least 1 point, got 0"),
        (([0.0, math.nan], 100.0, 60), {}, r"pnl: non-finite value nan at index 1"),
        (([0.0, 1.0], 0.0, 60), {}, r"capital must be a finite number > 0"),
        (([0.0, 1.0], 100.0, 0), {}, r"period_seconds must be a finite number > 0"),
        (([0.0, 1.0], 100.0, 60), {"level": 2}, r"level must be strictly between 0 and 1"),
    ],
)
def test_summarize_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        summarize(*args, **kwargs)


# ---------------------------------------------------------------- properties
@given(
    r=st.lists(st.floats(-0.99, 2.0, allow_nan=False), min_size=1, max_size=80),
    level=st.floats(0.5, 0.999),
)
@FAST
def test_var_never_exceeds_cvar(r, level):
    assert historical_var(r, level) <= historical_cvar(r, level)


@given(st.lists(st.floats(1e-6, 1e9, allow_nan=False), min_size=1, max_size=80))
@FAST
def test_max_drawdown_of_positive_equity_is_a_fraction(e):
    mdd = max_drawdown(e)
    assert 0.0 <= mdd < 1.0
    assert np.all((drawdown_series(e) >= 0) & (drawdown_series(e) <= mdd))


@given(r=finite_returns, k=st.floats(1e-3, 1e3))
@FAST
def test_sharpe_is_scale_invariant(r, k):
    a = np.asarray(r)
    # below ~1e-100 the squares fall into subnormal floats and lose their precision
    assume(np.abs(a).max() > 1e-100)
    assume(a.std(ddof=1) > 1e-6 * max(1e-300, np.abs(a).max()))
    assert sharpe_ratio(a * k) == approx(sharpe_ratio(a), rel=1e-9, abs=1e-12)
    assert sortino_ratio(a * k, periods_per_year=365) == approx(
        sortino_ratio(a, periods_per_year=365), rel=1e-9, nan_ok=True
    )


@given(finite_returns)
@FAST
def test_all_periods_downside_deviation_is_at_most_losers_only(r):
    a = np.asarray(r)
    assume((a < 0).any())
    assert downside_deviation(a) <= _losers_only_dd(a) * (1 + 1e-12)


# ---------------------------------------------------------------- run summary integration
def _fake_run(d):
    """A run.duckdb with two USDT markets and the parties mm (in both), lp and network."""
    import json

    from defisim.runner.recorder import SCHEMAS
    from defisim.store import RunStore

    def ev(seq, typ, payload, market=None, party=None):
        return (seq, 0, 0, 0, typ, market, party, json.dumps(payload))

    h = 3600 * 10**9  # one-hour steps
    with RunStore(d / "run.duckdb") as s:
        for name, cols in SCHEMAS.items():
            s.declare(name, cols)
        s.append_many(
            "events",
            [
                ev(0, "AssetCreated", {"asset": "USDT", "decimals": 6, "quantum": 1}),
                ev(1, "MarketCreated", {"market": "M1", "asset": "USDT"}, market="M1"),
                ev(2, "MarketCreated", {"market": "M2", "asset": "USDT"}, market="M2"),
                ev(3, "Minted", {"asset": "USDT", "amount": 600_000_000}, party="mm"),
                ev(4, "Minted", {"asset": "USDT", "amount": 400_000_000}, party="mm"),
                ev(5, "Minted", {"asset": "USDT", "amount": 50_000_000}, party="lp"),
            ],
        )
        mm = [10.0, -40.0, 60.0, 60.0]  # mm's cumulative PnL at steps 0..3
        rows = [(k, k * h, "M1", "mm", 0, 0, 0, mm[k], 0, 0, 0) for k in range(4)]
        rows += [(k, k * h, "M2", "mm", 0, 0, 0, mm[k], 0, 0, 0) for k in (2, 3)]  # same PnL
        rows += [(k, k * h, "M1", "lp", 0, 0, 0, 0.0, 0, 0, 0) for k in (1, 2, 3)]
        rows += [(k, k * h, "M1", "network", 0, 0, 0, 0.0, 0, 0, 0) for k in range(4)]
        s.append_many("positions", rows)


def test_party_risk_from_a_run_store(tmp_path):
    from defisim.runner.summary import party_risk

    _fake_run(tmp_path)
    risk = party_risk(tmp_path)
    assert sorted(risk) == ["lp", "mm"]  # the network was never minted anything
    m = risk["mm"]["USDT"]
    # capital 600 + 400 = 1000 USDT; PnL 0 (before trading), 10, -40, 60, 60 (M1 and M2 merged)
    # -> equity 1000, 1010, 960, 1060, 1060
    assert m["capital"] == 1000.0 and (m["first_step"], m["last_step"]) == (0, 3)
    assert m["n_periods"] == 4 and m["periods_per_year"] == 8760.0
    assert m["total_pnl"] == 60.0 and m["max_drawdown_pnl"] == 50.0
    assert m["max_drawdown"] == approx(50 / 1010)
    assert m["sharpe"] == approx(
        sharpe_ratio(returns_from_equity([1000, 1010, 960, 1060, 1060]), periods_per_year=8760)
    )
    flat = risk["lp"]["USDT"]
    assert flat["total_pnl"] == 0.0 and math.isnan(flat["sharpe"])


def test_write_summary_adds_the_risk_section(tmp_path):
    import json

    from defisim.runner.summary import RunResult, write_summary

    _fake_run(tmp_path)
    result = RunResult(scenario="x", seed=1, steps=3, total_steps=3, wall_s=0.1, out_dir=tmp_path)
    write_summary(tmp_path, result)
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["risk_error"] is None
    assert s["risk"]["mm"]["USDT"]["total_pnl"] == 60.0
    assert s["risk"]["lp"]["USDT"]["sharpe"] is None  # nan -> null
    assert result.risk["mm"]["USDT"]["n_periods"] == 4


def test_write_summary_survives_a_broken_store(tmp_path):
    import json

    from defisim.runner.summary import RunResult, write_summary

    (tmp_path / "run.duckdb").write_bytes(b"not a database")
    result = RunResult(scenario="x", seed=1, steps=0, total_steps=3, wall_s=0.0)
    write_summary(tmp_path, result)
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["risk"] == {} and s["risk_error"]
