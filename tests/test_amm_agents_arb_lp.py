"""AMM agents (``defisim.agents.amm``): the arbitrageur moves a V2 / V3 pool into the
no-arbitrage band with the hand-computed trade and profit, skips gaps that do not pay
fee + gas; passive LPs' fees and impermanent loss; the re-centring LP."""

from __future__ import annotations

import math

import pytest

from defisim import Simulation
from defisim.agents.amm import (
    AmmArbitrageur,
    PassiveLiquidityProvider,
    RecenteringLiquidityProvider,
    full_range_ticks,
    v2_arbitrage,
)

FEE = 0.003
G = 1 - FEE


class Feed:
    """A settable reference price (quote per base)."""

    def __init__(self, price: float) -> None:
        self.price = price


def setup(kind: str, **arb_kw):
    sim = Simulation(protocols=["amm"])
    sim.create_asset("WETH", 18)
    sim.create_asset("USDC", 6)
    pid = (sim.amm.create_pair("WETH", "USDC") if kind == "V2"
           else sim.amm.create_v3_pool("WETH", "USDC", fee=3000, price=2000))
    feed = Feed(2000.0)
    lp = PassiveLiquidityProvider("lp", pid, base="WETH", quote="USDC", amount_base=100,
                                  amount_quote=200_000, reference=feed)
    arb = AmmArbitrageur("arb", pid, feed, base="WETH", quote="USDC", inventory_base=1_000,
                         inventory_quote=2_000_000, **arb_kw)
    lp.initialise(sim)
    arb.initialise(sim)
    return sim, pid, feed, lp, arb


def test_v2_arbitrage_hand_computed():
    """Pool 100 WETH / 200,000 USDC (k = 2e7), reference 2,100 USDC per WETH: the pool
    is cheap, the arbitrageur pays Delta = (sqrt(gamma k p) - y) / gamma USDC for
    x gamma Delta / (y + gamma Delta) WETH (Angeris et al. 2019)."""
    sim, pid, feed, lp, arb = setup("V2")
    feed.price = 2100.0
    arb.step(sim)
    x, y, k, p = 100.0, 200_000.0, 2e7, 2100.0
    d = (math.sqrt(G * k * p) - y) / G
    out = x * G * d / (y + G * d)
    assert d == pytest.approx(4645.31, abs=0.01)  # (204631.37 - 200000) / 0.997
    assert out == pytest.approx(2.26327, abs=1e-5)  # 463.137 / 204631.37
    v = sim.amm.pool_view(pid)
    assert v.reserves[0] == pytest.approx(y + d, abs=1e-6)  # token0 = USDC
    assert v.reserves[1] == pytest.approx(x - out, rel=1e-12)
    assert arb.trades == 1
    assert arb.gross_profit == pytest.approx(out * p - d, abs=1e-6)
    assert arb.gross_profit == pytest.approx(107.57, abs=0.01)  # 4752.87 - 4645.31
    assert arb.gross_profit > 0
    assert arb.fees_paid == pytest.approx(FEE * d, abs=1e-9)
    # after it: inside the band [gamma p, p / gamma]
    assert G * p <= v.price_of("WETH") <= p / G
    # the closed form agrees in the pool's token order (token0 = USDC, price 1/p)
    t = v2_arbitrage(y, x, 1 / p, FEE)
    assert t.zero_for_one and t.amount_in == pytest.approx(d, rel=1e-12)
    # in the band: nothing more to do
    arb.step(sim)
    assert arb.trades == 1


def test_v3_arbitrage_hand_computed_and_price_limit():
    """Full-range V3 position of 100 WETH / 200,000 USDC (L = sqrt(100 e18 x 2e11)):
    reference 1,900. The pool is rich in WETH price: the arbitrageur sells WETH until
    the pool price is p / gamma exactly (price_limit), paying L (1/s_t - 1/s) / gamma."""
    sim, pid, feed, lp, arb = setup("V3")
    v0 = sim.amm.pool_view(pid)
    L = v0.liquidity
    assert L == pytest.approx(math.sqrt(100e18 * 2e11), rel=1e-9)
    p = 1900.0
    feed.price = p
    arb.step(sim)
    v = sim.amm.pool_view(pid)
    # token0 = USDC (6), token1 = WETH (18); raw price of token0 in token1 = 1e12 / P
    s0 = math.sqrt(1e12 / 2000)
    s1 = math.sqrt(1e12 * G / p)  # the pool stops at a WETH price of p / gamma
    # selling WETH = paying token1: the price of USDC in WETH rises to (1 / p) / gamma
    weth_in = L * (s1 - s0) / G / 1e18
    usdc_out = L * (1 / s0 - 1 / s1) / 1e6
    assert v.price_of("WETH") == pytest.approx(p / G, rel=1e-9)
    assert arb.trades == 1
    assert arb.gross_profit == pytest.approx(usdc_out - weth_in * p, rel=1e-6)
    # L = sqrt(2e31) = 4.4721e15; s: 22360.68 -> 22907.14; 4.4721e15 x 546.46 / 0.997
    assert weth_in == pytest.approx(2.4512, abs=1e-4)
    assert arb.gross_profit == pytest.approx(usdc_out - weth_in * p, rel=1e-6)
    assert arb.gross_profit > 0
    lo, hi = p * G, p / G
    assert lo * (1 - 1e-9) <= v.price_of("WETH") <= hi
    assert arb.fees_paid == pytest.approx(FEE * weth_in * p, rel=1e-6)


def test_v3_price_limit_stops_across_ticks():
    """A concentrated position (+-2 %) and a 10 % move: the closed form within the range
    is not the whole story, but the swap with price_limit stops at the band's edge."""
    sim = Simulation(protocols=["amm"])
    sim.create_asset("WETH", 18)
    sim.create_asset("USDC", 6)
    pid = sim.amm.create_v3_pool("WETH", "USDC", fee=3000, price=2000)
    feed = Feed(2000.0)
    for name, kw in (("lp_full", {}), ("lp_narrow", {"range_pct": 0.02})):
        PassiveLiquidityProvider(name, pid, base="WETH", quote="USDC", amount_base=10,
                                 amount_quote=20_000, reference=feed, **kw).initialise(sim)
    arb = AmmArbitrageur("arb", pid, feed, base="WETH", quote="USDC", inventory_base=100,
                         inventory_quote=1_000_000)
    arb.initialise(sim)
    feed.price = 2200.0
    arb.step(sim)
    assert sim.amm.pool_view(pid).price_of("WETH") == pytest.approx(2200 * G, rel=1e-9)
    assert arb.gross_profit > 0


def test_no_trade_when_gap_does_not_pay():
    sim, pid, feed, lp, arb = setup("V2", gas_cost=50.0)
    feed.price = 2005.0  # inside [1999, 2011]: no arbitrage
    arb.step(sim)
    assert arb.trades == 0 and arb.skipped == 0
    # outside the band by ~10 bps: gross profit about 0.5 USDC < 50 USDC of gas
    feed.price = 2010.0 / G * 1.001
    t = v2_arbitrage(200_000, 100, 1 / feed.price, FEE)
    assert t is not None
    arb.step(sim)
    assert arb.trades == 0 and arb.skipped == 1
    assert sim.amm.pool_view(pid).price_of("WETH") == pytest.approx(2000.0)
    # a big gap pays: the net profit is gross minus the 50 USDC of gas
    feed.price = 2300.0
    arb.step(sim)
    assert arb.trades == 1
    assert arb.gas_spent == 50.0
    assert arb.profit == pytest.approx(arb.gross_profit - 50.0)
    assert arb.profit > 0


def test_passive_lp_fees_and_impermanent_loss():
    """After the price moves from 2,000 to 2,100 and back into the band, a full-range
    LP's impermanent loss matches the constant-product formula
    IL = hold - 2 sqrt(p) L (within the fee band's price error)."""
    sim, pid, feed, lp, arb = setup("V2")
    feed.price = 2100.0
    arb.step(sim)
    P = sim.amm.pool_view(pid).price_of("WETH")
    L0 = math.sqrt(100 * 200_000)
    p = 2100.0
    # fee-less position at pool price P: (L0/sqrt(P), L0 sqrt(P)), marked at p
    expected_il = (100 * p + 200_000) - (L0 / math.sqrt(P) * p + L0 * math.sqrt(P))
    assert lp.impermanent_loss(sim) == pytest.approx(expected_il, rel=1e-6)
    assert lp.impermanent_loss(sim) > 0
    assert lp.fees(sim) == pytest.approx(arb.fees_paid, rel=0.01)  # the LP owns the pool
    assert lp.value(sim) == pytest.approx(lp.hold_value(sim) - lp.impermanent_loss(sim)
                                          + lp.fees(sim), rel=1e-12)


def test_passive_lp_ranges():
    sim = Simulation(protocols=["amm"])
    sim.create_asset("WETH", 18)
    sim.create_asset("USDC", 6)
    pid = sim.amm.create_v3_pool("WETH", "USDC", fee=500, price=2000)
    a = PassiveLiquidityProvider("a", pid, base="WETH", quote="USDC", amount_base=1,
                                 amount_quote=2000, price_range=(1800, 2200))
    b = PassiveLiquidityProvider("b", pid, base="WETH", quote="USDC", amount_base=1,
                                 amount_quote=2000)
    a.initialise(sim)
    b.initialise(sim)
    assert (b.tick_lower, b.tick_upper) == full_range_ticks(10)
    assert sim.amm.tick_to_price(pid, a.tick_upper) == pytest.approx(1 / 1800, rel=1e-3)
    assert sim.amm.tick_to_price(pid, a.tick_lower) == pytest.approx(1 / 2200, rel=1e-3)
    # the narrow range takes less WETH for the same USDC... and far more liquidity
    assert a.liquidity > 5 * b.liquidity
    with pytest.raises(ValueError, match="not both"):
        PassiveLiquidityProvider("c", pid, base="WETH", quote="USDC", amount_base=1,
                                 amount_quote=1, price_range=(1, 2), range_pct=0.1)
    v2 = sim.amm.create_pair("WETH", "USDC")
    c = PassiveLiquidityProvider("c", v2, base="WETH", quote="USDC", amount_base=1,
                                 amount_quote=2000, range_pct=0.1)
    with pytest.raises(ValueError, match="no ranges"):
        c.initialise(sim)


def test_recentering_lp_recentres_on_a_path():
    """A path 2000 -> 2300 in 3 % steps, then back to 2000: the arbitrageur keeps the
    pool at the reference; the LP with a +-5 % range re-centres each time the price
    leaves it, the new range holds the price and has liquidity."""
    sim = Simulation(protocols=["amm"])
    sim.create_asset("WETH", 18)
    sim.create_asset("USDC", 6)
    pid = sim.amm.create_v3_pool("WETH", "USDC", fee=3000, price=2000)
    feed = Feed(2000.0)
    base_lp = PassiveLiquidityProvider("base_lp", pid, base="WETH", quote="USDC",
                                       amount_base=10_000, amount_quote=20_000_000,
                                       reference=feed)
    lp = RecenteringLiquidityProvider("rlp", pid, base="WETH", quote="USDC", amount_base=10,
                                      amount_quote=20_000, half_width=0.05, gas_cost=2.0,
                                      reference=feed)
    arb = AmmArbitrageur("arb", pid, feed, base="WETH", quote="USDC", inventory_base=10_000,
                         inventory_quote=20_000_000)
    for a in (base_lp, lp, arb):
        a.initialise(sim)
    path = [2000 * 1.03**i for i in range(1, 6)] + [2000 * 1.03**4, 2000.0]
    centres = [lp.centre]
    for p in path:
        feed.price = p
        arb.step(sim)
        before = lp.rebalances
        lp.step(sim)
        P = sim.amm.pool_view(pid).price_of("WETH")
        if lp.rebalances > before:
            centres.append(lp.centre)
            lo = sim.amm.tick_to_price(pid, lp.tick_upper)
            hi = sim.amm.tick_to_price(pid, lp.tick_lower)
            assert 1 / lo <= P <= 1 / hi  # WETH price inside the new range
            assert lp.liquidity > 0
            assert sim.amm.position("rlp", pid, lp.tick_lower, lp.tick_upper).liquidity > 0
    # the centre moves when the price is > 5 % away: 2000 -> 2185.45 (1.03^3) ->
    # 2388 (1.03^6 is past the path) ... the prices seen are 1.03^1..1.03^5, 1.03^4, 1
    # first recentre at 1.03^2 = 6.09 % > 5 %, then 1.03^4 (6.09 % from 1.03^2),
    # then back at 2000 (11 % below 1.03^4): three
    assert lp.rebalances == 3
    # centred on the pool's price after the arbitrageur (p gamma = 2115.43) and the
    # LP's own rebalancing swap (it buys WETH: the price rises a little more)
    assert 2000 * 1.03**2 * G < centres[1] < 2000 * 1.03**2 * G * 1.003
    assert lp.gas_spent == pytest.approx(2.0 * (1 + 3 * 3))  # mint + (burn, swap, mint) x 3
    assert lp.fees(sim) > 0
    assert lp.hold_value(sim) - lp.value(sim) == pytest.approx(
        lp.impermanent_loss(sim) - lp.fees(sim))
