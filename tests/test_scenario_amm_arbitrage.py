"""Scenarios ``amm_arbitrage`` (LVR identity, no-arbitrage band, concentrated LVR) and
``amm_vs_orderbook`` (the gap between venues closes with arbitrageurs)."""

from __future__ import annotations

import numpy as np
import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario


def run(name: str, seed: int = 1, **params):
    cls = get_scenario(name)
    sc = cls(cls.Params(**params))
    res = run_scenario(sc, seed=seed, record=False, progress=False)
    assert res.error is None, res.error
    return sc, res.kpis


@pytest.fixture(scope="module")
def arb_run():
    return run("amm_arbitrage", steps=400)


def test_lvr_identity_arb_profit_equals_lvr_minus_fees(arb_run):
    """Only the arbitrageur trades each pool, so swap by swap its profit before gas at
    the step's reference price is what the pool lost versus rebalancing minus the fee
    it paid: arb_gross_profit = LVR - arb_fees (to float rounding: 1e-6 relative)."""
    _, k = arb_run
    for pool in ("v2", "v3_500", "v3_3000"):
        assert k[f"{pool}.arb_trades"] > 5
        assert k[f"{pool}.lvr"] > 0
        assert k[f"{pool}.arb_fees"] == pytest.approx(k[f"{pool}.lp_fees"], rel=1e-12)
        assert k[f"{pool}.arb_gross_profit"] == pytest.approx(
            k[f"{pool}.lvr"] - k[f"{pool}.arb_fees"], rel=1e-6, abs=1e-6)
        # the paper's holdings form sum x(t-1) dp - dV gives the same number
        assert k[f"{pool}.lvr_holdings"] == pytest.approx(k[f"{pool}.lvr"], rel=1e-6)
        assert k[f"{pool}.arb_profit"] == pytest.approx(
            k[f"{pool}.arb_gross_profit"] - k[f"{pool}.arb_trades"] * 1.0)
        assert k[f"{pool}.lp_il"] > 0


def test_concentrated_v3_has_more_lvr_per_capital_than_v2(arb_run):
    """A +-10 % range holds ~20x the liquidity per unit of capital of the full range:
    per unit of capital it loses more to arbitrage."""
    _, k = arb_run
    assert k["v3_3000.lvr_bps_of_capital"] > 5 * k["v2.lvr_bps_of_capital"]


def test_deviation_bounded_by_fee_band(arb_run):
    """With free gas the arbitrageurs put every pool in its band each step, so the
    deviation after the step is at most the band, f / (1 - f); with gas (1 USDC) small
    gaps wait, but never more than one step's move of the reference beyond the band."""
    sc, k = run("amm_arbitrage", steps=200, arb_gas_cost=0.0)
    for pool, fee in (("v2", 0.003), ("v3_500", 0.0005), ("v3_3000", 0.003)):
        band = fee / (1 - fee) * 1e4
        assert k[f"{pool}.deviation_bps_max"] <= band * (1 + 1e-6)
        assert k[f"{pool}.deviation_bps_max"] > 0.5 * band
    sc, k = arb_run
    prices = np.asarray(sc.feed.path.prices[:401])
    max_move = float(np.max(np.abs(np.diff(prices) / prices[:-1]))) * 1e4
    for pool, fee in (("v2", 0.003), ("v3_500", 0.0005), ("v3_3000", 0.003)):
        assert k[f"{pool}.deviation_bps_max"] <= fee / (1 - fee) * 1e4 + max_move


def test_same_seed_same_numbers(arb_run):
    _, k2 = run("amm_arbitrage", steps=400)
    assert k2 == arb_run[1]


def test_active_lp_recentres():
    _, k = run("amm_arbitrage", steps=400, active_lp=True, active_lp_half_width=0.005)
    assert k["active_lp.rebalances"] >= 1
    assert k["active_lp.fees"] > 0
    assert k["active_lp.gas"] == pytest.approx(1.0 * (1 + 3 * k["active_lp.rebalances"]),
                                               abs=1.0 * k["active_lp.rebalances"])


def test_bad_params():
    cls = get_scenario("amm_arbitrage")
    with pytest.raises(ValueError, match="v3_fees"):
        cls(cls.Params(v3_fees=[123]))
    with pytest.raises(ValueError, match="no pools"):
        cls(cls.Params(v2=False, v3_fees=[]))


def test_amm_vs_orderbook_gap_closes_with_arbitrageurs():
    """Same seed, same reference: without cross-venue arbitrageurs the pool stays at its
    first price while the book follows the GBM (mean gap ~87 bps over 4 hours); with
    one, the pool follows the book within the fees (pool 5 bps + futures taker fee
    7.5 bps + half the spread + the 2 bps threshold), and the hedged round trips pay."""
    _, with_arb = run("amm_vs_orderbook", steps=240)
    _, without = run("amm_vs_orderbook", steps=240, cross_arb_count=0)
    assert without["cross_arb_volume"] == 0 and without["pool_lvr"] == 0
    assert without["pool_price"] == pytest.approx(30_000.0)
    assert without["gap_bps_mean"] > 50
    assert with_arb["gap_bps_mean"] < 20
    assert with_arb["gap_bps_mean"] < without["gap_bps_mean"] / 4
    assert with_arb["gap_bps_max"] < without["gap_bps_max"]
    assert with_arb["cross_arb_volume"] > 1.0  # BTC
    assert with_arb["cross_arb_profit"] > 0
    assert with_arb["pool_lp_fees"] == pytest.approx(
        0.0005 * with_arb["cross_arb_volume_quote"], rel=0.01)
