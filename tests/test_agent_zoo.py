"""The second batch of the agent zoo (issue 4): each agent's defining behaviour, with numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from defisim import Simulation
from defisim.agents import ReferencePriceFeed
from defisim.agents.market_makers import (
    GLFTMarketMaker,
    glft_asymptotic_half_spreads,
    glft_finite_half_spreads,
)
from defisim.prices import PricePath

M = "BTC"
# GLFT (2013) section 6 example: sigma 0.3 tick/sqrt(s), A 0.9 /s, k 0.3 /tick, gamma 0.01
G, S, K, A = 0.01, 0.3, 0.3, 0.9


def make_sim(seed: int = 3, market: str = M) -> Simulation:
    sim = Simulation(seed=seed)
    sim.create_asset("USDT", 6)
    add_market(sim, market)
    return sim


def add_market(sim: Simulation, market: str) -> None:
    sim.futures.create_market(
        market_id=market,
        asset="USDT",
        decimal_places=2,
        position_decimal_places=3,
        risk_model={"kind": "simple", "factor_long": 0.05, "factor_short": 0.05},
        opening_auction_duration_s=0.0,
        mark_price_frequency_s=0,
    )


def fund(sim: Simulation, party: str, amount: float = 10_000_000.0) -> None:
    sim.create_party(party)
    sim.mint(party, "USDT", amount)


def feed_of(prices, dt: float = 60.0) -> ReferencePriceFeed:
    prices = np.asarray(prices, dtype=float)
    return ReferencePriceFeed("ref", PricePath(np.arange(len(prices)) * dt, prices))


def setup(sim: Simulation, *agents) -> None:
    for a in agents:
        a.rng = sim.rng(f"agent:{a.name}")
        a.initialise(sim)


def open_market(sim: Simulation, price: float, market: str = M) -> None:
    for p in ("open_b", "open_s"):
        if p not in sim.parties:
            fund(sim, p)
    sim.futures.submit_order("open_b", market, "buy", 0.001, price)
    sim.futures.submit_order("open_s", market, "sell", 0.001, price)
    sim.forward_time(1)
    assert sim.futures.market_state(market) == "ACTIVE"


def give_position(sim: Simulation, party: str, size: float, price: float, market: str = M):
    if "helper" not in sim.parties:
        fund(sim, "helper")
    sim.futures.cancel_all(party, market)
    side = "sell" if size > 0 else "buy"
    sim.futures.submit_order("helper", market, side, abs(size), price)
    res = sim.futures.submit_order(
        party, market, "buy" if size > 0 else "sell", abs(size), price, time_in_force="IOC"
    )
    assert res.filled_size > 0


# ------------------------------------------------------------------ GLFT
def test_glft_closed_form_against_the_paper():
    base = math.log(1 + G / K) / G  # 3.2789822822990873
    root = math.sqrt(S**2 * G / (2 * K * A) * (1 + G / K) ** (1 + K / G))
    assert base == pytest.approx(3.278982282, abs=1e-9)
    for q in (-3, 0, 2, 5):
        db, da = glft_asymptotic_half_spreads(q, G, S, K, A)
        assert db == pytest.approx(base + (2 * q + 1) / 2 * root)
        assert da == pytest.approx(base - (2 * q - 1) / 2 * root)
    db0, da0 = glft_asymptotic_half_spreads(0, G, S, K, A)
    assert db0 == da0 == pytest.approx(3.312915199, abs=1e-8)
    # the skew: one more lot moves both quotes down by `root`
    db1, da1 = glft_asymptotic_half_spreads(1, G, S, K, A)
    assert db1 - db0 == pytest.approx(root) and da0 - da1 == pytest.approx(root)


def _v_independent(tau: float, Q: int) -> np.ndarray:
    """exp(-M tau) 1 straight from GLFT Theorem 1 (no shift; short tau only)."""
    alpha = K * G * S**2 / 2
    eta = A * (1 + G / K) ** (-(1 + K / G))
    n = 2 * Q + 1
    Mx = np.zeros((n, n))
    for i, q in enumerate(range(-Q, Q + 1)):
        Mx[i, i] = alpha * q * q
        if i > 0:
            Mx[i, i - 1] = -eta
        if i < n - 1:
            Mx[i, i + 1] = -eta
    return expm(-Mx * tau) @ np.ones(n)


def test_glft_finite_horizon_matches_theorem_1():
    Q, tau = 5, 30.0
    v = _v_independent(tau, Q)
    base = math.log(1 + G / K) / G
    for q in (-5, -2, 0, 3, 5):
        db, da = glft_finite_half_spreads(q, G, S, K, A, tau, Q)
        i = q + Q
        if q == Q:
            assert db is None
        else:
            assert db == pytest.approx(math.log(v[i] / v[i + 1]) / K + base, rel=1e-10)
        if q == -Q:
            assert da is None
        else:
            assert da == pytest.approx(math.log(v[i] / v[i - 1]) / K + base, rel=1e-10)
    # at T the quotes are the pure liquidity term (1/gamma) ln(1 + gamma/k)
    assert glft_finite_half_spreads(2, G, S, K, A, 0.0, Q) == pytest.approx((base, base))


def test_glft_finite_horizon_converges_to_asymptotic():
    Q = 30
    short = glft_finite_half_spreads(0, G, S, K, A, 60.0, Q)
    long1 = glft_finite_half_spreads(0, G, S, K, A, 3600.0, Q)
    long2 = glft_finite_half_spreads(0, G, S, K, A, 36_000.0, Q)
    assert short[0] == pytest.approx(3.30145141, abs=1e-6)  # not yet stationary
    assert long1 == pytest.approx(long2, rel=1e-9)  # stationary
    assert long1[0] == pytest.approx(3.31304542, abs=1e-6)
    for q in (-3, 0, 3):
        fin = glft_finite_half_spreads(q, G, S, K, A, 36_000.0, Q)
        asy = glft_asymptotic_half_spreads(q, G, S, K, A)
        assert fin == pytest.approx(asy, rel=1e-3)


def test_glft_market_maker_quotes():
    sim = make_sim()
    feed = feed_of([30_000.0] * 10)
    mm = GLFTMarketMaker(
        "mm", M, feed, collateral=10_000_000, gamma=0.01, k=0.3, sigma=0.3, A=0.9,
        order_size=0.5, max_inventory=2.0, relative_units=False, horizon_s=36_000,
    )
    setup(sim, feed, mm)
    open_market(sim, 30_000.0)
    give_position(sim, "mm", 1.0, 30_000.0)  # q = 2 lots
    mm.step(sim)
    db, da = glft_asymptotic_half_spreads(2, G, S, K, A)
    orders = {o.side: o for o in sim.futures.open_orders("mm", M)}
    assert orders["buy"].price == pytest.approx(math.floor((30_000 - db) * 100) / 100)
    assert orders["sell"].price == pytest.approx(math.ceil((30_000 + da) * 100) / 100)
    # finite mode at q = Q = 4 lots: no bid
    mm.mode = "finite"
    give_position(sim, "mm", 1.0, 30_000.0)
    assert sim.futures.position("mm", M) == pytest.approx(2.0)
    mm.step(sim)
    sides = [o.side for o in sim.futures.open_orders("mm", M)]
    assert sides == ["sell"]
    _, da4 = glft_finite_half_spreads(4, G, S, K, A, 36_000, 4)
    assert sim.futures.open_orders("mm", M)[0].price == pytest.approx(
        math.ceil((30_000 + da4) * 100) / 100
    )


# ------------------------------------------------------- book makers
from defisim.agents.market_makers import (  # noqa: E402
    BackgroundMarket,
    ExponentialBookMarketMaker,
    HedgedMarketMaker,
    PeggedMarketMaker,
    Regime,
    exponential_profile,
)


def test_exponential_book_depth_profile():
    sim = make_sim()
    feed = feed_of([10_000.0] * 5)
    mm = ExponentialBookMarketMaker(
        "exp", M, feed, total_size=10.0, levels=5, first_bps=10, spacing_bps=10, scale_bps=20
    )
    setup(sim, feed, mm)
    mm.step(sim)
    book = sim.futures.market_depth(M, 10)
    # prices: 10_000 (1 -/+ d/1e4), d = 10, 20, ..., 50 bps
    assert [p for p, _ in book["bids"]] == [9990, 9980, 9970, 9960, 9950]
    assert [p for p, _ in book["asks"]] == [10_010, 10_020, 10_030, 10_040, 10_050]
    w = np.exp(-np.arange(10, 60, 10) / 20)
    expected = 10 * w / w.sum()  # 4.2866, 2.5999, 1.5769, 0.9565, 0.5801
    for side in ("bids", "asks"):
        sizes = np.array([v for _, v in book[side]])
        assert sizes.sum() == pytest.approx(10.0, abs=0.005)
        assert sizes == pytest.approx(expected, abs=0.001)
        # consecutive levels 10 bps apart: ratio exp(-10/20) = 0.6065
        assert sizes[1:] / sizes[:-1] == pytest.approx(np.full(4, math.exp(-0.5)), rel=2e-3)
    assert exponential_profile(10, 5, 10, 10, 20)[0][1] == pytest.approx(4.2866, abs=1e-4)
    ids = {o.order_id for o in sim.futures.open_orders("exp", M)}
    mm.step(sim)  # nothing changed: same orders
    assert {o.order_id for o in sim.futures.open_orders("exp", M)} == ids


def test_pegged_market_maker_joins_and_follows_the_touch():
    sim = make_sim()
    open_market(sim, 100.0)
    fund(sim, "other")
    sim.futures.submit_order("other", M, "buy", 1, 99.0)
    sim.futures.submit_order("other", M, "sell", 1, 101.0)
    mm = PeggedMarketMaker("peg", M, order_size=0.2, max_inventory=1.0)
    setup(sim, mm)
    mm.step(sim)
    book = sim.futures.market_depth(M)
    assert book["bids"][0] == (99.0, pytest.approx(1.2))
    assert book["asks"][0] == (101.0, pytest.approx(1.2))
    pegs = {o.side: o for o in sim.futures.open_orders("peg", M)}
    assert pegs["buy"].peg_reference == "BEST_BID" and pegs["buy"].peg_offset == 0
    # the touch improves: the pegs follow without the agent acting
    sim.futures.submit_order("other", M, "buy", 1, 99.5)
    assert {o.side: o.price for o in sim.futures.open_orders("peg", M)}["buy"] == 99.5
    ids = {o.order_id for o in sim.futures.open_orders("peg", M)}
    mm.step(sim)
    assert {o.order_id for o in sim.futures.open_orders("peg", M)} == ids
    # at the inventory limit no bid
    give_position(sim, "peg", 1.0, 100.5)
    mm.step(sim)
    assert [o.side for o in sim.futures.open_orders("peg", M)] == ["sell"]


def test_hedged_market_maker_offsets_inventory_on_second_market():
    sim = make_sim()
    add_market(sim, "BTC2")
    open_market(sim, 30_000.0)
    open_market(sim, 30_000.0, "BTC2")
    fund(sim, "lp2")
    sim.futures.submit_order("lp2", "BTC2", "buy", 5, 29_990.0)
    sim.futures.submit_order("lp2", "BTC2", "sell", 5, 30_010.0)
    feed = feed_of([30_000.0] * 5)
    mm = HedgedMarketMaker("hmm", M, feed, "BTC2", half_spread_bps=10, order_size=0.5)
    setup(sim, feed, mm)
    mm.step(sim)
    q = {o.side: o.price for o in sim.futures.open_orders("hmm", M)}
    assert q == {"buy": 29_970.0, "sell": 30_030.0}
    assert mm.hedges == []
    fund(sim, "taker")
    sim.futures.submit_order("taker", M, "sell", 0.5, None)  # hits the 29_970 bid: long 0.5
    assert sim.futures.position("hmm", M) == pytest.approx(0.5)
    mm.step(sim)
    assert sim.futures.position("hmm", "BTC2") == pytest.approx(-0.5)
    assert mm.exposure(sim) == pytest.approx(0.0)
    assert mm.hedges == [(sim.now, pytest.approx(-0.5))]


def test_background_market_regimes_and_book():
    sim = make_sim()
    calm, stress = Regime(0.0, 1e-4, 1.0), Regime(0.0, 1e-3, 3.0)
    bg = BackgroundMarket(
        "bg", M, s0=20_000.0, regimes=[calm, stress], transition=[[0.0, 1.0], [1.0, 0.0]],
        total_size=4.0, levels=3, first_bps=10, spacing_bps=10, scale_bps=10,
    )
    setup(sim, bg)
    bg.step(sim)
    assert bg.regime == 0 and bg.price == 20_000.0
    book = sim.futures.market_depth(M)
    sizes = [v for _, v in book["bids"]]
    assert sizes[1] / sizes[0] == pytest.approx(math.exp(-1), rel=5e-3)  # calm scale 10 bps
    sim.forward_time(60)
    bg.step(sim)  # deterministic switch to the stressed regime: scale 30 bps
    assert bg.regime == 1
    sizes = [v for _, v in sim.futures.market_depth(M)["bids"]]
    assert sizes[1] / sizes[0] == pytest.approx(math.exp(-1 / 3), rel=5e-3)
    # the price moved by a GBM step: |ln(S1/S0)| within 6 sigma sqrt(60)
    assert abs(math.log(bg.price / 20_000)) < 6 * 1e-3 * math.sqrt(60)
    assert bg.price != 20_000.0 and len(bg.path) == 2
    best_bid = sim.futures.best_prices(M)[0]
    assert best_bid == math.floor(bg.price * (1 - 0.001) * 100) / 100


# ------------------------------------------------------- indicator momentum
from talipp.indicators import EMA, MACD, RSI, StochRSI  # noqa: E402

from defisim.agents.momentum import MomentumTrader  # noqa: E402

# a sine wave, period 40 steps: trough at steps 30, 70, 110; peak at 10, 50, 90
V_SERIES = [100.0 + 10.0 * math.sin(2 * math.pi * i / 40) for i in range(120)]


def _first_up_cross(values, level, strict_after=False):
    for i in range(1, len(values)):
        a, b = values[i - 1], values[i]
        if a is None or b is None:
            continue
        if (a <= level < b) if strict_after else (a < level <= b):
            return i
    return None


@pytest.mark.parametrize(
    "signal, reference, level, strict",
    [
        ("rsi", lambda: [v for v in RSI(14, input_values=V_SERIES)], 30.0, False),
        (
            "stoch_rsi",
            lambda: [None if v is None else v.k for v in StochRSI(14, 14, 3, 3, V_SERIES)],
            20.0,
            False,
        ),
        (
            "apo",
            lambda: [
                None if f is None or s is None else f - s
                for f, s in zip(EMA(12, V_SERIES), EMA(26, V_SERIES), strict=True)
            ],
            0.0,
            True,
        ),
        (
            "macd",
            lambda: [None if v is None else v.histogram for v in MACD(12, 26, 9, V_SERIES)],
            0.0,
            True,
        ),
    ],
)
def test_indicator_trader_buys_after_crossing(signal, reference, level, strict):
    t = MomentumTrader("mom", M, indicator=signal)
    sigs = [t.update(p) for p in V_SERIES]
    ref = reference()
    i = _first_up_cross(ref, level, strict)
    assert i is not None
    assert V_SERIES[i] > V_SERIES[i - 1]  # the cross comes on the way up
    assert sigs.index(1) == i
    assert t.values[i - 1] == pytest.approx(ref[i - 1]) and t.values[i] == pytest.approx(ref[i])
    # the mirrored series gives a sell at the same step (the indicators are odd/symmetric)
    tm = MomentumTrader("mom2", M, indicator=signal)
    down = [tm.update(200.0 - p) for p in V_SERIES]
    assert down.index(-1) == i


def test_indicator_trader_rsi_numbers_and_order():
    t = MomentumTrader("m", M, indicator="rsi")
    sigs = [t.update(p) for p in V_SERIES]
    i = sigs.index(1)
    assert i == _first_up_cross(list(RSI(14, input_values=V_SERIES)), 30.0)
    assert t.values[i - 1] < 30.0 <= t.values[i]
    # inside a simulation it sends a market buy of trade_size
    sim = make_sim()
    open_market(sim, 100.0)
    fund(sim, "seller")
    sim.futures.submit_order("seller", M, "sell", 5, 101.0)
    sim.futures.submit_order("seller", M, "buy", 5, 99.0)
    feed = feed_of(V_SERIES, dt=1)
    trader = MomentumTrader(
        "mom", M, feed, indicator="rsi", trade_size=0.3, position_limit=0.5,
        price_source="reference",
    )
    setup(sim, feed, trader)
    for k in range(i):
        feed.seek(k)
        trader.step(sim)
    before = sim.futures.position("mom", M)
    assert before == pytest.approx(-0.3)  # one sell at the RSI 70 cross after the peak
    feed.seek(i)
    trader.step(sim)
    # the buy closes the short and adds trade_size: -0.3 + 0.3 + 0.3
    assert trader.signals[-1] == (sim.now, 1)
    assert sim.futures.position("mom", M) == pytest.approx(0.3)


# ------------------------------------------------------------- recorder
from defisim.agents.feeds import RecorderAgent  # noqa: E402


def test_recorder_records_a_custom_measurement():
    sim = make_sim()
    open_market(sim, 100.0)
    fund(sim, "a")
    rec = RecorderAgent("rec", lambda s: s.futures.best_prices(M)[0], every_s=60)
    setup(sim, rec)
    t0 = sim.now
    for bid in (99.0, 98.5, 98.0):
        sim.futures.cancel_all("a", M)
        sim.futures.submit_order("a", M, "buy", 1, bid)
        rec.step(sim)
        assert rec.next_wakeup(sim.now) == pytest.approx(sim.now + 60)
        sim.forward_time(60)
    assert rec.values == [99.0, 98.5, 98.0]
    assert [t for t, _ in rec.records] == pytest.approx([t0, t0 + 60, t0 + 120])
    assert RecorderAgent.phase > 2  # after the traders
