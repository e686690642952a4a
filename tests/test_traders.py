"""Zero-intelligence, value and noisy-informed traders: each one's defining behaviour, in numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim import Simulation
from defisim.agents import (
    InformedTrader,
    NoisyInformedTrader,
    ReferencePriceFeed,
    ValueTrader,
    ZeroIntelligenceTrader,
)
from defisim.prices import PricePath

M = "BTC"
P0 = 30_000.0


def make_sim(seed: int = 5) -> Simulation:
    sim = Simulation(seed=seed)
    sim.create_asset("USDT", 6)
    sim.futures.create_market(
        market_id=M,
        asset="USDT",
        decimal_places=2,
        position_decimal_places=3,
        risk_model={"kind": "simple", "factor_long": 0.05, "factor_short": 0.05},
        opening_auction_duration_s=0.0,
        mark_price_frequency_s=0,
    )
    for p in ("open_b", "open_s", "helper"):
        sim.create_party(p)
        sim.mint(p, "USDT", 100_000_000.0)
    sim.futures.submit_order("open_b", M, "buy", 0.001, P0)
    sim.futures.submit_order("open_s", M, "sell", 0.001, P0)
    sim.forward_time(1)
    assert sim.futures.market_state(M) == "ACTIVE"
    return sim


def feed_of(prices, dt: float = 60.0) -> ReferencePriceFeed:
    prices = np.asarray(prices, dtype=float)
    return ReferencePriceFeed("ref", PricePath(np.arange(len(prices)) * dt, prices))


def setup(sim: Simulation, *agents) -> None:
    for a in agents:
        a.rng = sim.rng(f"agent:{a.name}")
        a.initialise(sim)


def quote(sim: Simulation, bid: float, ask: float, size: float = 1_000.0) -> None:
    sim.futures.cancel_all("helper", M)
    sim.futures.submit_order("helper", M, "buy", size, bid)
    sim.futures.submit_order("helper", M, "sell", size, ask)


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


# ------------------------------------------------------------- zero intelligence
def test_zero_intelligence_offsets_tifs_and_cancels():
    sim = make_sim()
    quote(sim, 29_000.0, 31_000.0)  # a wide book: nothing the ZI trader sends trades
    feed = feed_of([P0] * 10)
    mu, sigma, tifs, pc, rate = math.log(20.0), 0.6, (0.3, 0.4, 0.3), 0.25, 1.0
    zi = ZeroIntelligenceTrader(
        "zi", M, feed, rate_per_s=rate, cancel_prob=pc, offset_mu=mu, offset_sigma=sigma,
        tif_probs=tifs, mean_lifetime_s=600.0, anchor="reference", mean_size=0.01,
        size_distribution="fixed", max_open_orders=10_000, max_position=None,
    )  # fmt: skip
    setup(sim, feed, zi)
    horizon = 5_000.0
    while sim.now < horizon:
        feed.step(sim)
        zi.step(sim)
        assert zi.next_wakeup(sim.now) > sim.now  # every arrival due was handled
        sim.forward_time(10)
    # Poisson arrivals: about rate * horizon of them
    n = zi.arrivals
    assert abs(n - rate * horizon) < 4 * math.sqrt(rate * horizon)
    # cancels: a fraction pc of the arrivals, and each one found an order to cancel
    assert zi.cancel_arrivals / n == pytest.approx(pc, abs=4 * math.sqrt(pc * (1 - pc) / n))
    assert zi.cancels == zi.cancel_arrivals
    # offsets: ln(X bps) ~ N(mu, sigma^2)
    k = n - zi.cancel_arrivals
    assert k == zi.placed == sum(zi.tif_counts.values()) and zi.skipped == 0
    mean = zi.log_offset_sum / k
    std = math.sqrt(zi.log_offset_sumsq / k - mean * mean)
    assert mean == pytest.approx(mu, abs=4 * sigma / math.sqrt(k))
    assert std == pytest.approx(sigma, rel=4 / math.sqrt(2 * k))
    # times in force: GTC, GTT, IOC with the configured frequencies
    for tif, p in zip(("GTC", "GTT", "IOC"), tifs, strict=True):
        assert zi.tif_counts[tif] / k == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / k))
    # resting orders: never IOC, buys below and sells above the reference, GTT with expiry
    rest = sim.futures.open_orders("zi", M)
    assert rest and {o.time_in_force for o in rest} <= {"GTC", "GTT"}
    for o in rest:
        assert (o.price < P0) if o.side == "buy" else (o.price > P0)
        assert (o.expires_at is not None) == (o.time_in_force == "GTT")
    assert sim.futures.position("zi", M) == 0  # nothing crossed the wide book


def test_zero_intelligence_reproducible_and_validated():
    def run() -> list:
        sim = make_sim()
        quote(sim, 29_900.0, 30_100.0)
        feed = feed_of([P0] * 10)
        zi = ZeroIntelligenceTrader("zi", M, feed, rate_per_s=0.2)
        setup(sim, feed, zi)
        for _ in range(100):
            zi.step(sim)
            sim.forward_time(5)
        return [(o.side, o.price, o.size, o.time_in_force) for o in sim.futures.open_orders("zi", M)]

    a = run()
    assert a and a == run()
    feed = feed_of([P0, P0])
    with pytest.raises(ValueError):
        ZeroIntelligenceTrader("z", M, feed, tif_probs=(0.5, 0.6, 0.0))
    with pytest.raises(ValueError):
        ZeroIntelligenceTrader("z", M, feed, rate_per_s=0.0)


# ------------------------------------------------------------------- value
def test_value_trader_without_noise_trades_toward_the_fundamental():
    sim = make_sim()
    feed = feed_of([P0] * 10)
    vt = ValueTrader(
        "vt", M, feed, noise_bps=0.0, alpha=1.0, threshold_bps=0.0, trade_size=0.1,
        position_limit=0.3,
    )  # fmt: skip
    setup(sim, feed, vt)
    quote(sim, 29_900.0, 29_950.0)  # fundamental above the ask: buy
    vt.step(sim)
    assert vt.estimate == P0 and sim.futures.position("vt", M) == pytest.approx(0.1)
    for _ in range(5):
        vt.step(sim)
    assert sim.futures.position("vt", M) == pytest.approx(0.3)  # stops at the limit
    assert vt.buys == 3 and vt.sells == 0
    quote(sim, 29_990.0, 30_010.0)  # fundamental inside the spread: nothing
    vt.step(sim)
    assert sim.futures.position("vt", M) == pytest.approx(0.3) and vt.buys + vt.sells == 3
    quote(sim, 30_050.0, 30_100.0)  # fundamental below the bid: sell
    for _ in range(10):
        vt.step(sim)
    assert sim.futures.position("vt", M) == pytest.approx(-0.3) and vt.sells == 6


@pytest.mark.parametrize(
    ("alpha", "expected", "tol"),
    [
        # alpha 1: estimate sd 20 bps; P(buy) = Phi(5/20), P(sell) = Phi(-10/20)
        (1.0, 0.5987 / (0.5987 + 0.3085), 0.03),
        # alpha 0.5: estimate sd 20 sqrt(0.5/1.5) = 11.547 bps (autocorrelated, wider tol)
        (0.5, 0.6675 / (0.6675 + 0.1932), 0.04),
    ],
)
def test_value_trader_correct_direction_fraction(alpha, expected, tol):
    sim = make_sim()
    feed = feed_of([P0] * 10)
    vt = ValueTrader(
        "vt", M, feed, noise_bps=20.0, alpha=alpha, threshold_bps=0.0, trade_size=0.001,
        position_limit=100.0,
    )  # fmt: skip
    setup(sim, feed, vt)
    bid, ask = P0 * (1 - 10e-4), P0 * (1 - 5e-4)  # 29970 and 29985: the fundamental is above
    quote(sim, bid, ask)
    n = 3_000
    for _ in range(n):
        vt.step(sim)
    sd = 20e-4 * math.sqrt(alpha / (2 - alpha))
    pb, ps = phi((P0 - ask) / (P0 * sd)), phi((bid - P0) / (P0 * sd))
    assert pb / (pb + ps) == pytest.approx(expected, abs=2e-4)  # the hand computation
    trades = vt.buys + vt.sells
    assert trades / n == pytest.approx(pb + ps, abs=0.05)
    assert vt.buys / trades == pytest.approx(expected, abs=tol)
    assert sim.futures.position("vt", M) == pytest.approx((vt.buys - vt.sells) * 0.001)


# ---------------------------------------------------------------- informed
def informed_run(agent_factory, steps: int = 1_500, seed: int = 11):
    """A random-walk feed, a 2-wide book re-quoted around it each step; the agent's
    position after each step and the true next move."""
    rng = np.random.default_rng(seed)
    prices = np.round(P0 + np.cumsum(rng.normal(0, 20, steps + 5)), 2)
    sim = make_sim()
    feed = feed_of(prices)
    agent = agent_factory(feed)
    setup(sim, feed, agent)
    out = []
    for _ in range(steps):
        feed.step(sim)
        p = feed.price
        quote(sim, p - 1, p + 1)
        before = sim.futures.position("inf", M)
        agent.step(sim)
        out.append((sim.futures.position("inf", M) - before, feed.price_ahead(1) - p))
        sim.forward_time(60)
    return agent, out


def kwargs():
    return {"threshold_bps": 0.0, "trade_size": 0.001, "position_limit": 100.0}


@pytest.mark.parametrize("p", [0.8, 0.6])
def test_noisy_informed_accuracy(p):
    agent, out = informed_run(lambda f: NoisyInformedTrader("inf", M, f, accuracy=p, **kwargs()))
    n = agent.signals
    assert n == len(out)
    correct = 1 - agent.wrong_signals / n
    assert correct == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))
    # the trades follow the signal: the fraction in the direction of the true move is p too
    traded = [(dq, move) for dq, move in out if dq != 0 and abs(move) > 1]
    right = sum(1 for dq, move in traded if dq * move > 0) / len(traded)
    assert len(traded) > 0.9 * n
    assert right == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / len(traded)))


def test_noisy_informed_with_accuracy_one_is_the_informed_trader():
    a, out_a = informed_run(lambda f: InformedTrader("inf", M, f, **kwargs()), steps=400)
    b, out_b = informed_run(
        lambda f: NoisyInformedTrader("inf", M, f, accuracy=1.0, **kwargs()), steps=400
    )
    assert out_a == out_b and a.orders_sent == b.orders_sent
    assert b.wrong_signals == 0 and b.signals == 400
    assert all(dq * move > 0 for dq, move in out_b if dq != 0)
    _, out_c = informed_run(
        lambda f: NoisyInformedTrader("inf", M, f, accuracy=0.5, **kwargs()), steps=400
    )
    assert out_c != out_a
    with pytest.raises(ValueError):
        NoisyInformedTrader("x", M, feed_of([P0, P0]), accuracy=1.5)
