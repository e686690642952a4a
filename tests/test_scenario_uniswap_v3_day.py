"""``uniswap_v3_day``: the real USDC/WETH day replayed into a pool (needs ../shared/data),
and the liquidity profile it starts from (hand-made nets, no data needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from defisim.agents.amm.historic_flow import liquidity_profile
from defisim.runner import run_scenario
from defisim.scenarios.uniswap_v3_day import UniswapV3Day, UniswapV3DayParams

DATA = (Path(__file__).resolve().parents[1].parent / "shared/data/uniswap_v3/"
        "ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.tick.csv")
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared data not present")


def test_liquidity_profile_from_nets():
    """L = 100 at tick 25; nets +30 at 40, -50 at 20, 0 at 30 (dropped): pieces
    [0, 20) 150, [20, 40) 100, [40, 60) 130 with 20-tick edges."""
    nets = {20: -50, 30: 0, 40: 30}
    assert liquidity_profile(25, 100, nets, 20, 10) == [(0, 20, 150), (20, 40, 100), (40, 60, 130)]
    assert liquidity_profile(45, 130, nets, 20, 10) == [(0, 20, 150), (20, 40, 100), (40, 60, 130)]
    assert liquidity_profile(5, 150, {}, 20, 10) == [(-20, 20, 150)]
    with pytest.raises(ValueError, match="negative"):
        liquidity_profile(25, 10, {20: 50}, 20, 10)


def run(**params):
    sc = UniswapV3Day(UniswapV3DayParams(tick_csv=str(DATA), **params))
    held: dict = {"events": []}

    def hook(run, step, kpis):  # keep the sim and every event (the runner drains the log)
        if "cursor" not in held:
            held["sim"], held["cursor"] = run.sim, run.sim.event_cursor(from_oldest=True)
        held["events"].extend(held["cursor"].read())

    res = run_scenario(sc, seed=3, record=False, progress=False, hooks=[hook])
    assert res.error is None, res.error
    return sc, res, held["sim"], held["events"]


@needs_data
def test_the_day_without_extra_liquidity_tracks_the_real_price():
    """Every swap of the day replays (none rejected) and the pool follows the file's
    price: the largest gap over the 1,441 steps stays below 0.5 bps (at the 13
    swaps of spec 4.7 that cross ticks only seen summed), the final one below 0.01 bps."""
    sc, res, _, _ = run(lp_ranges=[])
    k = res.kpis
    assert res.steps == 1441
    assert (k["swaps_replayed"], k["swaps_rejected"]) == (6045, 0)
    assert (sc.flow.mints, sc.flow.burns) == (54, 55)
    assert k["tracking_bps_max_abs"] < 0.5  # the 13 edge swaps of spec 4.7 (unknown ticks)
    assert abs(k["tracking_bps"]) < 0.01
    assert abs(k["pool_price"] - 2269.37) < 0.01


@needs_data
def test_a_range_earns_its_liquidity_share_of_the_fees():
    """An LP covering the day's range earns, swap by swap, fee x its share of the active
    liquidity: the sum over the V3Swap events matches its position's fees within 1 %,
    and an LP above the day's prices earns nothing."""
    sc, res, sim, events = run(lp_ranges=[(2150.0, 2300.0), (3000.0, 3100.0)])
    k = res.kpis
    assert k["lp0.fees_usdc"] > 100 and k["lp0.in_range"] == 1.0
    assert k["lp1.fees_usdc"] == 0.0 and k["lp1.in_range"] == 0.0
    assert abs(k["lp1.value_usdc"] - k["lp1.hold_usdc"]) < 1e-6 * k["lp1.hold_usdc"] + 1e-6
    lo, hi = sc.lps[0].tick_lower, sc.lps[0].tick_upper
    lp_liq = sim.amm.position("lp0", sc.pool_id, lo, hi).liquidity
    expected0 = expected1 = 0.0
    tick_before = sc.events.tick[sc.start_row]
    swaps = [ev for ev in events if type(ev).__name__ == "V3Swap"]
    assert len(swaps) == 6045
    for ev in swaps:  # in range before and after: the swap's fee split by liquidity
        if lo <= tick_before < hi and lo <= ev.tick < hi and ev.liquidity:
            share = lp_liq / ev.liquidity
            if ev.amount0 > 0:
                expected0 += ev.amount0 * 0.0005 * share / 1e6
            else:
                expected1 += ev.amount1 * 0.0005 * share / 1e18
        tick_before = ev.tick
    pos = sim.amm.position("lp0", sc.pool_id, lo, hi)
    assert abs(pos.fees0 - expected0) < 0.01 * expected0
    assert abs(pos.fees1 - expected1) < 0.01 * expected1


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        UniswapV3Day(UniswapV3DayParams(tick_csv=str(tmp_path / "none.csv")))
