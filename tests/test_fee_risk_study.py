"""``fee_risk_study``: the mechanisms behind the worked experiment of
``docs/experiments/fee-and-risk.md``, checked on numbers with short runs."""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from defisim import Simulation
from defisim.agents import max_leverage_size
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names
from defisim.scenarios.fee_risk_study import (
    HOUR_YEARS,
    MARKET_ID,
    FeeRiskStudy,
    FeeRiskStudyParams,
    taker_fee_rate,
)

DAY_YEARS = 24 * HOUR_YEARS
# a short day: the crash at 2 h, degens in from 10 min to 1 h, 1-hour epochs
SHORT = dict(
    steps=300,
    crash_at_s=2 * 3600.0,
    degen_entry_start_s=600.0,
    degen_entry_end_s=3600.0,
    epoch_s=3600.0,
)


def run(seed: int = 3, **params):
    cls = get_scenario("fee_risk_study")
    scenario = cls(cls.Params(**{**SHORT, **params}))
    result = run_scenario(scenario, seed=seed, record=False, progress=False)
    assert result.error is None and not result.interrupted
    return scenario, result.kpis


def rf_long(tau: float, lam: float = 0.01, sigma: float = 0.8) -> float:
    """Spec section 3 (0018-RSKM), mu = r = 0."""
    m, s = -sigma * sigma / 2 * tau, sigma * math.sqrt(tau)
    return 1 - math.exp(m + s * s / 2) * norm.cdf(norm.ppf(lam) - s) / lam


def long_one_btc(**params) -> tuple[Simulation, float]:
    """The study's market with ``alice`` long 1 BTC at 30,000 (opening auction)."""
    p = FeeRiskStudyParams(**params)
    sim = Simulation(seed=1)
    sim.create_asset("USDT", 6)
    sim.futures.create_market(**FeeRiskStudy(p).market_config())
    for party in ("alice", "bob"):
        sim.create_party(party)
        sim.mint(party, "USDT", 100_000)
    sim.futures.submit_order("alice", MARKET_ID, "buy", 1.0, 30_000.0)
    sim.futures.submit_order("bob", MARKET_ID, "sell", 1.0, 30_000.0)
    sim.forward_time(p.opening_auction_s)
    assert sim.futures.market_state(MARKET_ID) == "ACTIVE"
    assert sim.futures.position("alice", MARKET_ID) == 1.0
    return sim, sim.futures.margin_levels("alice", MARKET_ID)["maintenance"]


def test_registered_and_renamed_parameters_are_refused():
    assert "fee_risk_study" in scenario_names()
    with pytest.raises(ValueError, match="'tau', not 'risk_tau'"):
        FeeRiskStudyParams(risk_tau=0.001)
    with pytest.raises(ValueError, match="'liquidity_fee_factor', not 'liquidity_fee'"):
        FeeRiskStudyParams(liquidity_fee=0.001)


def test_maintenance_margin_per_btc_follows_tau_and_the_slippage_factor():
    # 1 BTC long at 30,000, no orders: MM = P (f1 + RF_long)   (spec section 4)
    _, mm_hour = long_one_btc(tau=HOUR_YEARS, linear_slippage_factor=0.01)
    _, mm_day = long_one_btc(tau=DAY_YEARS, linear_slippage_factor=0.01)
    _, mm_f1 = long_one_btc(tau=HOUR_YEARS, linear_slippage_factor=0.1)
    assert rf_long(HOUR_YEARS) == pytest.approx(0.02255, abs=1e-5)
    assert rf_long(DAY_YEARS) == pytest.approx(0.10627, abs=1e-5)
    assert mm_hour == pytest.approx(30_000 * (0.01 + rf_long(HOUR_YEARS)), abs=0.01)  # 976.44
    assert mm_day == pytest.approx(30_000 * (0.01 + rf_long(DAY_YEARS)), abs=0.01)  # 3,488.23
    assert mm_f1 == pytest.approx(mm_hour + 30_000 * 0.09, abs=0.01)
    assert mm_day > 3.5 * mm_hour  # RF grows about like sqrt(tau)


def test_a_leveraged_trader_can_hold_less_when_margins_are_higher():
    # V_max = E / (P (f1 + RF) s_initial) with s_initial = 1.2 (leveraged.py)
    sizes = {}
    for tau in (HOUR_YEARS, DAY_YEARS):
        sim, _ = long_one_btc(tau=tau)
        sizes[tau] = max_leverage_size(sim, MARKET_ID, +1, 10_000.0, 30_000.0)
        expected = 10_000 / (30_000 * (0.01 + rf_long(tau)) * 1.2)
        assert sizes[tau] == pytest.approx(expected, rel=1e-6)
    assert sizes[HOUR_YEARS] == pytest.approx(8.53, abs=0.01)
    assert sizes[DAY_YEARS] == pytest.approx(2.39, abs=0.01)


def test_the_taker_fee_rate_and_the_makers_fee_aware_intensity():
    sim, _ = long_one_btc(liquidity_fee_factor=0.002)
    f = taker_fee_rate(sim, MARKET_ID)
    assert f == pytest.approx(0.00025 + 0.0005 + 0.002)  # maker + infrastructure + LP bid
    scenario = FeeRiskStudy(FeeRiskStudyParams(liquidity_fee_factor=0.002))
    sim2 = Simulation(seed=1)
    scenario.build(sim2)
    maker = scenario.maker
    maker.initialise(sim2)
    assert maker.commitment_result and maker.commitment_result.reason == ""  # bond accepted
    assert sim2.futures.liquidity_provisions(MARKET_ID)["glft"]["fee"] == pytest.approx(0.002)
    # A0 exp(-k f) with k = 500 per unit of relative price: exp(-1.375) = 0.2528
    assert maker.effective_A(sim2, 30_000.0) == pytest.approx(
        (1 / 60) * math.exp(-500 * 0.00275), rel=1e-12
    )


def test_kpis_exist_are_finite_and_the_run_is_deterministic_per_seed():
    _, k1 = run(seed=3)
    _, k2 = run(seed=3)
    _, k3 = run(seed=4)
    assert k1 == k2
    assert k1["mm_pnl"] != k3["mm_pnl"]
    names = [
        "mm_roc_pct",
        "mm_return_on_margin_pct",
        "mm_lp_fees",
        "mm_lp_slashed",
        "mm_margin_peak",
        "mm_two_sided_pct",
        "mm_mean_quoted_spread_bps",
        "mean_spread_bps",
        "closeouts",
        "degens_closed_out",
        "degen_mean_exposure",
        "volume",
        "insurance_pool_end",
        "insurance_pool_peak",
        "fee_taker_priced_out_pct",
        "lp_epochs",
    ]
    for name in names:
        assert math.isfinite(k1[name]), name
    assert k1["mm_roc_pct"] == pytest.approx(100 * k1["mm_pnl"] / 5_000.0)
    assert k1["liquidity_fee_factor"] == pytest.approx(0.001)  # the maker's bid
    assert k1["lp_epochs"] == 4  # epochs ended at 1, 2, 3 and 4 hours
    assert 20 < k1["mm_mean_quoted_spread_bps"] < 80  # about 2 x 20 bps (1 / k)
    assert 0 < k1["mean_spread_bps"] <= k1["mm_mean_quoted_spread_bps"]
    assert k1["volume"] > 5 and k1["mm_lp_fees"] > 0
    # the crash (-10 % from 2 h) closes out at least one leveraged long at 1-hour tau
    assert k1["closeouts"] >= 1 and k1["insurance_pool_peak"] > 0


def test_higher_tau_gives_smaller_leveraged_positions_and_no_more_closeouts():
    low_s, low = run(seed=3, tau=HOUR_YEARS)
    high_s, high = run(seed=3, tau=DAY_YEARS)
    # positions scale with 1 / (f1 + RF): (0.01 + 0.0225) / (0.01 + 0.1063) = 0.28
    assert high["degen_mean_exposure"] < 0.5 * low["degen_mean_exposure"]
    assert high["closeouts"] <= low["closeouts"]
    assert high["closeout_volume"] < low["closeout_volume"]
    # and the maker's margin for the same quotes is larger
    assert high["mm_margin_peak"] > low["mm_margin_peak"]


def test_a_higher_liquidity_fee_prices_out_takers_and_pays_the_maker_more():
    _, low = run(seed=3, liquidity_fee_factor=0.0002)
    _, high = run(seed=3, liquidity_fee_factor=0.003)
    assert high["liquidity_fee_factor"] == pytest.approx(0.003)
    # P(edge <= f) = 1 - exp(-f / 20 bps): 9.5 bps -> 38 %, 37.5 bps -> 85 %
    assert low["fee_taker_priced_out_pct"] == pytest.approx(100 * (1 - math.exp(-9.5 / 20)), abs=4)
    assert high["fee_taker_priced_out_pct"] == pytest.approx(
        100 * (1 - math.exp(-37.5 / 20)), abs=4
    )
    assert high["mm_lp_fees"] > 3 * low["mm_lp_fees"]
    assert high["volume"] < low["volume"]
    # the fee-aware maker widens its quotes when A exp(-k f) falls
    assert high["mm_mean_quoted_spread_bps"] > low["mm_mean_quoted_spread_bps"]
