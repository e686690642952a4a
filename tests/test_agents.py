"""The agent zoo: each agent's defining behaviour, with numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from talipp.indicators import MACD, RSI

from defisim import Simulation
from defisim.agents import (
    AvellanedaStoikovMarketMaker,
    InformedTrader,
    MomentumTrader,
    NoiseLimitTrader,
    OpeningAuctionTrader,
    PoissonTaker,
    PriceSensitiveTaker,
    ReferencePriceFeed,
    SymmetricMarketMaker,
    avellaneda_stoikov_quotes,
    draw_size,
)
from defisim.prices import PricePath

M = "BTC"


def make_sim(auction_s: float = 0.0, seed: int = 3) -> Simulation:
    """USDT (6 decimals) and market ``BTC``: tick 0.01, 0.001 contracts, simple risk model."""
    sim = Simulation(seed=seed)
    sim.create_asset("USDT", 6)
    sim.futures.create_market(
        market_id=M,
        asset="USDT",
        decimal_places=2,
        position_decimal_places=3,
        risk_model={"kind": "simple", "factor_long": 0.05, "factor_short": 0.05},
        opening_auction_duration_s=auction_s,
        mark_price_frequency_s=0,
    )
    return sim


def fund(sim: Simulation, party: str, amount: float = 10_000_000.0) -> None:
    sim.create_party(party)
    sim.mint(party, "USDT", amount)


def feed_of(prices, dt: float = 60.0) -> ReferencePriceFeed:
    prices = np.asarray(prices, dtype=float)
    return ReferencePriceFeed("ref", PricePath(np.arange(len(prices)) * dt, prices))


def setup(sim: Simulation, *agents) -> None:
    """What the runner does: seeded rng per agent name, then initialise."""
    for a in agents:
        a.rng = sim.rng(f"agent:{a.name}")
        a.initialise(sim)


def open_market(sim: Simulation, price: float, size: float = 0.001) -> None:
    """Leave the (zero-length) opening auction with one trade at ``price``."""
    for p in ("open_b", "open_s"):
        fund(sim, p)
    sim.futures.submit_order("open_b", M, "buy", size, price)
    sim.futures.submit_order("open_s", M, "sell", size, price)
    sim.forward_time(1)
    assert sim.futures.market_state(M) == "ACTIVE"


def give_position(sim: Simulation, party: str, size: float, price: float) -> None:
    """Trade ``size`` (signed) to ``party`` at ``price`` against a helper party."""
    if "helper" not in sim.parties:
        fund(sim, "helper")
    sim.futures.cancel_all(party, M)  # so that it cannot meet its own quotes
    side = "sell" if size > 0 else "buy"
    sim.futures.submit_order("helper", M, side, abs(size), price)
    res = sim.futures.submit_order(
        party, M, "buy" if size > 0 else "sell", abs(size), price, time_in_force="IOC"
    )
    assert res.filled_size > 0


# ---------------------------------------------------------------- feed
def test_feed_price_ahead_history_and_clamp():
    feed = feed_of([100, 101, 102, 103, 104], dt=60)
    sim = make_sim()
    assert feed.price == 100 and feed.index == 0
    for _ in range(3):
        feed.step(sim)
        sim.forward_time(60)
    # steps at t = 0, 60, 120: now showing point 2
    assert feed.index == 2 and feed.price == 102 and feed.steps == 3
    assert list(feed.history) == [100, 101, 102]
    assert feed.price_ahead(1) == 103
    assert feed.price_ahead(10) == 104  # clamped at the end
    feed.seek(10_000)
    assert feed.price == 104 and feed.index == 4
    # realised volatility sqrt(sum dp^2 / sum dt): 4 steps of 1 over 240 s
    assert feed.volatility(10) == pytest.approx(math.sqrt(4 / 240))
    with pytest.raises(ValueError):
        feed.price_ahead(-1)


def test_feed_between_points_shows_last_known():
    feed = feed_of([10, 20, 30], dt=100)
    feed.seek(150)
    assert feed.price == 20
    feed.seek(99.999)
    assert feed.price == 10


def test_feed_builders_are_seeded():
    a = ReferencePriceFeed.from_gbm("g", 50, 3600, 30_000, 0.0, 0.6, np.random.default_rng(1))
    b = ReferencePriceFeed.from_gbm("g", 50, 3600, 30_000, 0.0, 0.6, np.random.default_rng(1))
    assert len(a) == 50 and a.price == 30_000
    assert np.array_equal(a.path.prices, b.path.prices)
    ou = ReferencePriceFeed.from_ou("o", 50, 3600, 100, 100, 5.0, 10.0, np.random.default_rng(2))
    assert len(ou) == 50 and ou.price == 100


# --------------------------------------------------- Avellaneda-Stoikov
def test_as_closed_form():
    bid, ask, r, delta = avellaneda_stoikov_quotes(s=100, q=2, gamma=0.1, sigma=2, k=1.5, tau=10)
    # gamma sigma^2 tau = 4; r = 100 - 2 * 4 = 92; delta = 4 + 20 ln(1 + 0.1/1.5)
    assert r == pytest.approx(92.0)
    assert delta == pytest.approx(4 + 20 * math.log(1 + 0.1 / 1.5))
    assert delta == pytest.approx(5.290770, abs=1e-6)
    assert bid == pytest.approx(92 - delta / 2) and ask == pytest.approx(92 + delta / 2)
    with pytest.raises(ValueError):
        avellaneda_stoikov_quotes(100, 0, 0, 1, 1, 1)


def test_as_market_maker_quotes_the_closed_form_with_inventory():
    sim = make_sim()
    feed = feed_of([30_000.0] * 10)
    mm = AvellanedaStoikovMarketMaker(
        "mm",
        M,
        feed,
        collateral=10_000_000,
        gamma=0.01,
        k=0.05,
        sigma=5.0,
        horizon_s=60,
        order_size=0.5,
        max_inventory=10,
        relative_units=False,
    )
    setup(sim, feed, mm)
    open_market(sim, 30_000.0)
    give_position(sim, "mm", 1.0, 30_000.0)  # q = 1.0 / 0.5 = 2 lots
    assert sim.futures.position("mm", M) == pytest.approx(1.0)
    mm.step(sim)
    # r = 30000 - 2 * 0.01 * 25 * 60 = 29970; delta = 15 + 200 ln(1.2) = 51.4643
    bid, ask, r, delta = avellaneda_stoikov_quotes(30_000, 2, 0.01, 5.0, 0.05, 60)
    assert r == pytest.approx(29_970.0)
    assert delta == pytest.approx(15 + 200 * math.log(1.2))
    orders = {o.side: o for o in sim.futures.open_orders("mm", M)}
    assert orders["buy"].price == pytest.approx(math.floor(bid * 100) / 100)  # 29944.26
    assert orders["sell"].price == pytest.approx(math.ceil(ask * 100) / 100)  # 29995.74
    assert orders["buy"].price == pytest.approx(29_944.26)
    assert orders["sell"].price == pytest.approx(29_995.74)
    assert orders["buy"].remaining == orders["sell"].remaining == 0.5
    # a second step with nothing changed keeps the same orders (priority kept)
    ids = {o.order_id for o in sim.futures.open_orders("mm", M)}
    mm.step(sim)
    assert {o.order_id for o in sim.futures.open_orders("mm", M)} == ids


def test_finite_horizon_tau():
    feed = feed_of([100.0, 100.0])
    mm = AvellanedaStoikovMarketMaker("mm", M, feed, horizon_s=3600, terminal_time_s=1000)
    assert mm.tau(400) == 600 and mm.tau(2000) == 0
    assert AvellanedaStoikovMarketMaker("r", M, feed, horizon_s=3600).tau(10**6) == 3600
    # at T the spread is the pure liquidity term (2/gamma) ln(1 + gamma/k), no skew
    mm.relative_units = False
    mm.gamma, mm.k, mm.sigma = 0.1, 1.5, 2.0
    bid, ask = mm.quotes(100.0, 5.0, 1000)
    assert ask - bid == pytest.approx(20 * math.log(1 + 0.1 / 1.5))
    assert (ask + bid) / 2 == pytest.approx(100.0)


def test_relative_units_scale_with_price():
    feed = feed_of([20_000.0, 60_000.0])
    mm = AvellanedaStoikovMarketMaker(
        "mm", M, feed, gamma=10, k=2000, sigma=1e-4, horizon_s=3600, order_size=0.25
    )
    b1, a1 = mm.quotes(20_000.0, 0.5, 0.0)
    b3, a3 = mm.quotes(60_000.0, 0.5, 0.0)
    # the spread and skew in fractions of the price are the same at both levels
    assert (a1 - b1) / 20_000 == pytest.approx((a3 - b3) / 60_000)
    assert ((a1 + b1) / 2 - 20_000) / 20_000 == pytest.approx(((a3 + b3) / 2 - 60_000) / 60_000)
    # q = 2 lots; skew = 2 * gamma * sigma^2 * tau = 2 * 10 * 1e-8 * 3600 = 7.2e-4
    assert ((a1 + b1) / 2 - 20_000) / 20_000 == pytest.approx(-7.2e-4)


def test_symmetric_variant_ignores_inventory():
    sim = make_sim()
    feed = feed_of([30_000.0] * 10)
    kw = dict(
        collateral=10_000_000,
        gamma=0.01,
        k=0.05,
        sigma=5.0,
        horizon_s=60,
        order_size=0.5,
        max_inventory=10,
        relative_units=False,
    )
    mm = SymmetricMarketMaker("sym", M, feed, **kw)
    setup(sim, feed, mm)
    open_market(sim, 30_000.0)
    give_position(sim, "sym", 1.0, 30_000.0)
    mm.step(sim)
    _, _, _, delta = avellaneda_stoikov_quotes(30_000, 0, 0.01, 5.0, 0.05, 60)
    orders = {o.side: o.price for o in sim.futures.open_orders("sym", M)}
    assert orders["buy"] == pytest.approx(math.floor((30_000 - delta / 2) * 100) / 100)
    assert orders["sell"] == pytest.approx(math.ceil((30_000 + delta / 2) * 100) / 100)
    # centred on s (within a tick of rounding) despite the long inventory
    assert (orders["buy"] + orders["sell"]) / 2 == pytest.approx(30_000, abs=0.01)


def test_inventory_limit_stops_the_growing_side():
    sim = make_sim()
    feed = feed_of([30_000.0] * 10)
    mm = AvellanedaStoikovMarketMaker(
        "mm", M, feed, collateral=10_000_000, order_size=0.5, max_inventory=1.2, sigma=1e-4
    )
    setup(sim, feed, mm)
    open_market(sim, 30_000.0)
    give_position(sim, "mm", 1.0, 30_000.0)
    mm.step(sim)
    by_side = {o.side: o.remaining for o in sim.futures.open_orders("mm", M)}
    assert by_side == {"buy": pytest.approx(0.2), "sell": pytest.approx(0.5)}
    give_position(sim, "mm", 0.2, 30_000.0)  # now at the limit
    mm.step(sim)
    assert {o.side for o in sim.futures.open_orders("mm", M)} == {"sell"}
    assert mm.last_quotes[0] is None and mm.last_quotes[1] is not None


def test_ladder_levels_and_spacing():
    sim = make_sim()
    feed = feed_of([30_000.0] * 10)
    mm = AvellanedaStoikovMarketMaker(
        "mm",
        M,
        feed,
        collateral=10_000_000,
        order_size=0.25,
        max_inventory=10,
        sigma=1e-4,
        levels=3,
        level_spacing_bps=10,
    )
    setup(sim, feed, mm)
    open_market(sim, 30_000.0)
    mm.step(sim)
    bids = sorted((o.price for o in sim.futures.open_orders("mm", M) if o.side == "buy"), reverse=True)
    asks = sorted(o.price for o in sim.futures.open_orders("mm", M) if o.side == "sell")
    assert len(bids) == len(asks) == 3
    # 10 bps of ~30000 = 30.00 between levels (within a tick of rounding)
    assert np.diff(asks) == pytest.approx([30.0, 30.0], abs=0.011)
    assert np.diff(bids) == pytest.approx([-30.0, -30.0], abs=0.011)


def test_market_maker_quotes_in_the_opening_auction_without_crossing_itself():
    sim = make_sim(auction_s=1800)
    feed = feed_of([30_000.0] * 10)
    mm = AvellanedaStoikovMarketMaker("mm", M, feed, collateral=1_000_000, levels=2)
    setup(sim, feed, mm)
    mm.step(sim)
    assert sim.futures.market_state(M) == "PENDING"
    orders = sim.futures.open_orders("mm", M)
    assert len(orders) == 4 and all(o.time_in_force == "GTC" for o in orders)
    bid, ask = sim.futures.best_prices(M)
    assert bid < 30_000 < ask
    assert sim.futures.indicative_price(M) == (None, 0.0)  # nothing crosses


def test_market_maker_stays_within_its_margin():
    sim = make_sim()
    feed = feed_of([30_000.0] * 10)
    # initial margin 1.2 * 0.05 * 30000 * size: 1800 USDT for 1 BTC (> 1000), 900 for 0.5
    mm = AvellanedaStoikovMarketMaker("mm", M, feed, collateral=1_000, order_size=1.0, sigma=1e-4)
    setup(sim, feed, mm)
    open_market(sim, 30_000.0)
    mm.step(sim)  # no exception
    assert mm.rejections == 2  # the 1 BTC bid and ask were rejected for margin
    orders = sim.futures.open_orders("mm", M)
    # the retries at half the size went through (margin is the larger side's, not the sum)
    assert sorted(o.side for o in orders) == ["buy", "sell"]
    assert {o.remaining for o in orders} == {0.5}
    assert sim.balance("mm", "USDT") >= 0


# ------------------------------------------------------------ takers
def deep_book(sim: Simulation, price: float = 30_000.0, size: float = 1_000.0) -> None:
    fund(sim, "lp", 1e12)
    sim.futures.submit_order("lp", M, "buy", size, price - 10)
    sim.futures.submit_order("lp", M, "sell", size, price + 10)


def test_poisson_taker_order_count_matches_lambda():
    sim = make_sim()
    taker = PoissonTaker(
        "taker", M, collateral=10_000_000, rate_per_s=0.05, mean_size=0.01, first_dt_s=60
    )
    setup(sim, taker)
    open_market(sim, 30_000.0)
    deep_book(sim)
    steps, dt = 400, 60.0
    for _ in range(steps):
        taker.step(sim)
        sim.forward_time(dt)
    expected = 0.05 * dt * steps  # 1200
    assert abs(taker.arrivals - expected) < 4 * math.sqrt(expected)
    trades = [t for t in sim.futures.trades(M) if "taker" in (t.buyer, t.seller)]
    # every arrival with a size of at least one lot trades (exponential sizes, mean 10 lots)
    assert len(trades) == taker.orders_sent
    assert taker.orders_sent >= 0.85 * taker.arrivals
    buys = sum(t.buyer == "taker" for t in trades)
    assert abs(buys / len(trades) - 0.5) < 0.06


def test_poisson_taker_buy_prob_and_no_orders_in_auction():
    sim = make_sim(auction_s=3600)
    taker = PoissonTaker(
        "taker",
        M,
        collateral=10_000_000,
        rate_per_s=1.0,
        first_dt_s=10,
        buy_prob=0.9,
        mean_size=0.01,
    )
    setup(sim, taker)
    taker.step(sim)
    assert taker.arrivals > 0 and taker.orders_sent == 0  # in the auction: nothing sent
    sim.forward_time(3600)
    deep_book(sim)
    sim.futures.submit_order("lp", M, "buy", 1, 30_000)
    sim.futures.submit_order("lp", M, "sell", 1, 30_000)
    sim.forward_time(1)
    for _ in range(50):
        taker.step(sim)
        sim.forward_time(1)
    assert sim.futures.position("taker", M) > 0  # 90 % buys
    assert taker.rejections == 0


def test_price_sensitive_taker_limits_and_depth():
    feed = feed_of([30_000.0] * 3)
    t = PriceSensitiveTaker("ps", M, feed, mean_depth_bps=10.0)
    t.rng = np.random.default_rng(1)
    depths = [(t.limit_price("buy") / 30_000 - 1) * 1e4 for _ in range(20_000)]
    assert min(depths) >= 0
    assert np.mean(depths) == pytest.approx(10.0, rel=0.03)
    assert all(t.limit_price("sell") <= 30_000 for _ in range(100))


def test_price_sensitive_taker_only_takes_within_its_limit():
    sim = make_sim()
    feed = feed_of([30_000.0] * 3)
    t = PriceSensitiveTaker(
        "ps",
        M,
        feed,
        collateral=1_000_000,
        rate_per_s=1.0,
        first_dt_s=50,
        mean_depth_bps=1.0,
        buy_prob=1.0,
        mean_size=0.01,
    )
    setup(sim, feed, t)
    open_market(sim, 30_000.0)
    fund(sim, "lp")
    sim.futures.submit_order("lp", M, "sell", 100, 30_100)  # 33 bps above the reference
    t.step(sim)
    assert t.orders_sent > 20
    assert sim.futures.position("ps", M) == 0  # depth ~1 bp never reaches 30100


# ------------------------------------------------------------ informed
def test_informed_trader_buys_when_future_above_ask_and_closes():
    sim = make_sim()
    feed = feed_of([30_000.0, 30_500.0, 30_500.0, 29_000.0, 29_000.0], dt=60)
    it = InformedTrader(
        "inf",
        M,
        feed,
        collateral=1_000_000,
        lookahead=1,
        threshold_bps=30,
        trade_size=0.1,
        position_limit=0.25,
    )
    setup(sim, feed, it)
    open_market(sim, 30_000.0)
    fund(sim, "lp")
    sim.futures.submit_order("lp", M, "sell", 10, 30_010)
    sim.futures.submit_order("lp", M, "buy", 10, 29_990)
    # future 30500 > 30010 * 1.003: buy 0.1, then 0.1, then 0.05 (limit 0.25)
    for expect in (0.1, 0.2, 0.25, 0.25):
        it.step(sim)
        assert sim.futures.position("inf", M) == pytest.approx(expect)
    # now the future (29000) is below bid 29990 * 0.997: a sell edge, it sells 0.1
    feed.seek(120)  # now 30500, ahead 29000
    it.step(sim)
    assert sim.futures.position("inf", M) == pytest.approx(0.15)


def test_informed_trader_closes_when_edge_gone():
    sim = make_sim()
    feed = feed_of([30_000.0, 30_500.0, 30_000.0, 30_000.0], dt=60)
    it = InformedTrader(
        "inf",
        M,
        feed,
        collateral=1_000_000,
        lookahead=1,
        threshold_bps=30,
        trade_size=0.1,
        position_limit=1,
    )
    setup(sim, feed, it)
    open_market(sim, 30_000.0)
    fund(sim, "lp")
    sim.futures.submit_order("lp", M, "sell", 10, 30_010)
    sim.futures.submit_order("lp", M, "buy", 10, 29_990)
    it.step(sim)
    assert sim.futures.position("inf", M) == pytest.approx(0.1)
    feed.seek(60)  # ahead: 30000 <= bid 29990? no, 30000 > 29990: hold
    it.step(sim)
    assert sim.futures.position("inf", M) == pytest.approx(0.1)
    sim.futures.cancel_all("lp", M)
    sim.futures.submit_order("lp", M, "sell", 10, 30_020)
    sim.futures.submit_order("lp", M, "buy", 10, 30_005)  # bid above the future: the edge is gone
    it.step(sim)
    assert sim.futures.position("inf", M) == 0


def test_informed_trader_does_nothing_in_auction():
    sim = make_sim(auction_s=600)
    feed = feed_of([30_000.0, 40_000.0])
    it = InformedTrader("inf", M, feed, collateral=1_000_000)
    setup(sim, feed, it)
    it.step(sim)
    assert it.orders_sent == 0


# ------------------------------------------------------------ momentum
def v_shape(n_down: int = 40, n_up: int = 40) -> np.ndarray:
    down = 30_000 * np.exp(-0.004 * np.arange(n_down))
    up = down[-1] * np.exp(0.004 * np.arange(1, n_up + 1))
    return np.r_[down, up]


def test_momentum_signal_rule_matches_talipp():
    prices = v_shape()
    mt = MomentumTrader("mom", M, price_source="mark")
    rsi, macd = RSI(14), MACD(12, 26, 9)
    first_buy = None
    for i, p in enumerate(prices):
        sig = mt.update(float(p))
        rsi.add(float(p))
        macd.add(float(p))
        if sig == 1 and first_buy is None:
            first_buy = i
    assert first_buy is not None and first_buy > 40  # after the bottom
    # at that step RSI crossed up through 30 and the MACD histogram was positive
    r = [rsi[j] for j in (first_buy - 1, first_buy)]
    assert r[0] < 30 <= r[1]
    assert macd[first_buy].histogram > 0


def test_momentum_trader_buys_after_rsi_crosses_up():
    sim = make_sim()
    prices = v_shape()
    feed = feed_of(prices)
    mt = MomentumTrader(
        "mom",
        M,
        feed,
        collateral=1_000_000,
        price_source="reference",
        trade_size=0.1,
        position_limit=0.3,
    )
    setup(sim, feed, mt)
    open_market(sim, 30_000.0)
    fund(sim, "lp", 1e12)
    positions = []
    for _ in range(len(prices)):
        feed.step(sim)
        ref = feed.price
        sim.futures.cancel_all("lp", M)
        sim.futures.submit_order("lp", M, "buy", 100, sim.futures.round_price(M, ref - 5, "buy"))
        sim.futures.submit_order("lp", M, "sell", 100, sim.futures.round_price(M, ref + 5, "sell"))
        mt.step(sim)
        positions.append(sim.futures.position("mom", M))
        sim.forward_time(60)
    # flat during the fall, long after the turn
    assert all(p <= 0 for p in positions[:40])
    assert max(positions[40:]) == pytest.approx(0.1)
    assert mt.signals and mt.signals[0][1] == 1
    assert abs(sim.futures.position("mom", M)) <= 0.3


# --------------------------------------------------------------- noise
def test_noise_trader_orders_cancels_and_lifetimes():
    sim = make_sim()
    feed = feed_of([30_000.0] * 500)
    nt = NoiseLimitTrader(
        "noise",
        M,
        feed,
        collateral=10_000_000,
        rate_per_s=0.1,
        mean_offset_bps=20,
        min_offset_bps=5,
        cancel_prob=0.2,
        max_open_orders=1000,
        mean_lifetime_s=600,
        first_dt_s=10,
        max_position=None,
    )
    setup(sim, feed, nt)
    open_market(sim, 30_000.0)
    fund(sim, "lp")
    sim.futures.submit_order("lp", M, "buy", 1, 29_990)
    sim.futures.submit_order("lp", M, "sell", 1, 30_010)
    for _ in range(100):
        nt.step(sim)
        sim.forward_time(10)
    assert 60 < nt.orders_sent < 140  # Poisson(0.1 * 10) per step
    assert nt.cancels > 0
    mine = sim.futures.open_orders("noise", M)
    assert all(o.time_in_force == "GTT" for o in mine)
    # around the mid (30000, lp's quotes stay the best): offsets >= 5 bps
    assert sim.futures.mid_price(M) == 30_000
    for o in mine:
        off = (30_000 - o.price) / 30_000 * 1e4 if o.side == "buy" else (o.price / 30_000 - 1) * 1e4
        assert off >= 5 - 0.01
    assert sim.futures.position("noise", M) == 0  # never crossed


def test_noise_trader_never_crosses_reference_in_auction():
    sim = make_sim(auction_s=3600)
    feed = feed_of([30_000.0] * 10)
    nt = NoiseLimitTrader(
        "noise",
        M,
        feed,
        collateral=10_000_000,
        rate_per_s=1.0,
        min_offset_bps=-50,
        mean_offset_bps=5,
        first_dt_s=30,
        max_open_orders=1000,
    )
    setup(sim, feed, nt)
    nt.step(sim)
    orders = sim.futures.open_orders("noise", M)
    assert len(orders) > 10
    assert all(o.price < 30_000 for o in orders if o.side == "buy")
    assert all(o.price > 30_000 for o in orders if o.side == "sell")


# ------------------------------------------------------------- auction
def test_auction_agent_makes_the_opening_auction_uncross_at_the_reference():
    sim = make_sim(auction_s=1800)
    feed = feed_of([31_234.56, 31_300.0, 31_300.0], dt=3600)
    auc = OpeningAuctionTrader("auc", M, feed, size=0.5)
    mm = AvellanedaStoikovMarketMaker("mm", M, feed, collateral=1_000_000, levels=2)
    nt = NoiseLimitTrader(
        "noise", M, feed, collateral=1_000_000, rate_per_s=0.01, first_dt_s=1000, min_offset_bps=-20
    )
    setup(sim, feed, auc, mm, nt)
    for a in (feed, auc, mm, nt):
        a.step(sim)
    assert sim.futures.indicative_price(M) == (31_234.56, 0.5)
    sim.forward_time(3600)
    assert sim.futures.market_state(M) == "ACTIVE"
    assert sim.futures.mark_price(M) == 31_234.56
    auction_trades = [t for t in sim.futures.trades(M) if str(t.trade_type) == "AUCTION"]
    assert auction_trades and all(t.price == 3_123_456 for t in auction_trades)
    assert sim.futures.position("auc", M) == 0
    # afterwards it does nothing
    auc.step(sim)
    assert sim.futures.open_orders("auc", M) == [] and auc.orders_sent == 2


# --------------------------------------------------------- determinism
def small_zoo(seed: int):
    sim = make_sim(auction_s=120, seed=seed)
    rng = sim.rng("reference_price")
    feed = ReferencePriceFeed.from_gbm("ref", 200, 60.0, 30_000.0, 0.0, 0.8, rng)
    agents = [
        feed,
        OpeningAuctionTrader("auc", M, feed),
        AvellanedaStoikovMarketMaker("mm", M, feed, levels=2),
        SymmetricMarketMaker("sym", M, feed),
        PoissonTaker("taker", M, rate_per_s=0.05, first_dt_s=60),
        PriceSensitiveTaker("ps", M, feed, rate_per_s=0.05, first_dt_s=60),
        InformedTrader("inf", M, feed, threshold_bps=5),
        MomentumTrader("mom", M, feed, price_source="reference"),
        NoiseLimitTrader("noise", M, feed, rate_per_s=0.05, first_dt_s=60),
    ]
    setup(sim, *agents)
    order_rng = sim.rng("runner:order")
    for _ in range(150):
        for phase in (0, 1, 2):
            group = [a for a in agents if a.phase == phase]
            for i in order_rng.permutation(len(group)):
                group[i].step(sim)
        sim.forward_time(60)
    orders = [
        (e.order_id, e.party, e.side, e.price, e.size, str(e.status))
        for e in sim.drain_events()
        if type(e).__name__ == "OrderUpdated"
    ]
    return orders, sim


def test_same_seed_same_orders():
    a, sim_a = small_zoo(5)
    b, _ = small_zoo(5)
    c, _ = small_zoo(6)
    assert len(a) > 500
    assert a == b
    assert a != c
    assert sim_a.futures.market_state(M) == "ACTIVE"
    parties = {o[1] for o in a}
    assert {"auc", "mm", "sym", "taker", "ps", "inf", "noise"} <= parties


def test_draw_size_distributions():
    rng = np.random.default_rng(0)
    for dist in ("exponential", "lognormal"):
        xs = [draw_size(rng, 0.05, dist) for _ in range(20_000)]
        assert np.mean(xs) == pytest.approx(0.05, rel=0.05)
    assert draw_size(rng, 0.05, "fixed") == 0.05
    with pytest.raises(ValueError):
        draw_size(rng, 0.05, "uniform")  # type: ignore[arg-type]
