"""The CMO momentum trader (:class:`~defisim.agents.MomentumTrader` with
``signal="cmo"``, TA-Lib's ``CMO``) on a hand-made price series."""

from __future__ import annotations

import numpy as np
import pytest

from defisim import Simulation
from defisim.agents import MomentumTrader, ReferencePriceFeed
from defisim.prices import PricePath

pytest.importorskip("talib")

M = "BTC"
# period 5: falls, rises (CMO crosses +50 at step 9), falls (crosses -50 at step 13)
PRICES = [100.0, 98, 97, 99, 96, 95, 97, 98, 101, 103, 102, 100, 97, 96]


def textbook_cmo(window: list[float]) -> float:
    """Chande (1994): 100 (Su - Sd) / (Su + Sd) over the close-to-close moves."""
    d = np.diff(window)
    su, sd = d[d > 0].sum(), -d[d < 0].sum()
    return 100 * (su - sd) / (su + sd)


def test_cmo_values_are_the_textbook_formula_over_the_window():
    t = MomentumTrader("cmo", M, indicator="cmo", period=5)
    signals = [t.update(p) for p in PRICES]
    assert t.values[:5] == [None] * 5  # warming up: fewer than 6 prices
    for i in range(5, len(PRICES)):
        assert t.values[i] == pytest.approx(textbook_cmo(PRICES[i - 5 : i + 1]), abs=1e-9)
    # by hand: step 5, moves -2 -1 +2 -3 -1: Su 2, Sd 7 -> -55.6;
    # step 9, moves -1 +2 +1 +3 +2: Su 8, Sd 1 -> 77.8; step 8: Su 6, Sd 4 -> 20
    assert t.values[5] == pytest.approx(-500 / 9)
    assert t.values[8] == pytest.approx(20.0)
    assert t.values[9] == pytest.approx(700 / 9)
    assert t.values[12] == pytest.approx(-100 / 11)
    assert t.values[13] == pytest.approx(-500 / 9)
    # trend reading: buy on the cross above +50, sell on the cross below -50; step 5
    # starts below -50 with no previous value, so it is no cross
    assert (t.lower, t.upper) == (-50.0, 50.0)
    assert [i for i, s in enumerate(signals) if s] == [9, 13]
    assert signals[9] == 1 and signals[13] == -1


def test_the_windowed_value_is_not_talibs_smoothed_series():
    # over the whole series TA-Lib smooths like Wilder's RSI (CMO = 2 (RSI - 50)); the
    # trader's window of period + 1 prices gives the unsmoothed value instead
    import talib

    closes = np.array(PRICES)
    smoothed = talib.CMO(closes, timeperiod=5)
    rsi = talib.RSI(closes, timeperiod=5)
    assert smoothed[9] == pytest.approx(2 * (rsi[9] - 50))
    assert smoothed[9] != pytest.approx(700 / 9, abs=1.0)
    assert smoothed[5] == pytest.approx(-500 / 9)  # the first window is the same


def test_cmo_trader_buys_in_a_simulation_after_the_cross():
    sim = Simulation(seed=3)
    sim.create_asset("USDT", 6)
    sim.futures.create_market(
        market_id=M,
        asset="USDT",
        decimal_places=2,
        position_decimal_places=3,
        risk_model={"kind": "simple", "factor_long": 0.05, "factor_short": 0.05},
        opening_auction_duration_s=0.0,
    )
    for p in ("open_b", "open_s", "seller"):
        sim.create_party(p)
        sim.mint(p, "USDT", 10_000_000)
    sim.futures.submit_order("open_b", M, "buy", 0.001, 100.0)
    sim.futures.submit_order("open_s", M, "sell", 0.001, 100.0)
    sim.forward_time(1)
    sim.futures.submit_order("seller", M, "sell", 5, 104.0)
    sim.futures.submit_order("seller", M, "buy", 5, 94.0)
    feed = ReferencePriceFeed("ref", PricePath(np.arange(len(PRICES)) * 1.0, np.array(PRICES)))
    trader = MomentumTrader(
        "mom",
        M,
        feed,
        indicator="cmo",
        period=5,
        trade_size=0.3,
        position_limit=0.5,
        price_source="reference",
    )
    trader.rng = sim.rng("agent:mom")
    trader.initialise(sim)
    for k in range(9):
        feed.seek(k)
        trader.step(sim)
    assert sim.futures.position("mom", M) == 0.0 and trader.signals == []
    feed.seek(9)
    trader.step(sim)  # CMO 20 -> 77.8: a market buy of trade_size at the ask, 104
    assert trader.signals == [(sim.now, 1)]
    assert sim.futures.position("mom", M) == pytest.approx(0.3)
    for k in range(10, 14):
        feed.seek(k)
        trader.step(sim)  # step 13: CMO -9.1 -> -55.6, sell 0.3 + 0.3
    assert [s for _, s in trader.signals] == [1, -1]
    assert sim.futures.position("mom", M) == pytest.approx(-0.3)


def test_cmo_needs_a_positive_period():
    with pytest.raises(ValueError, match="CMO period"):
        MomentumTrader("x", M, indicator="cmo", period=0)
