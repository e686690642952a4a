"""The liquidity-provider agent (:class:`~defisim.agents.LiquidityProvider`): orders
shaped within the obligation range and a target time on book, checked on numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim import Simulation
from defisim.agents import LiquidityProvider, ReferencePriceFeed
from defisim.agents.liquidity_providers import level_weights
from defisim.prices import PricePath

ONE = 10**18


def market(epoch_s: float = 100.0, **liquidity) -> Simulation:
    """Market "M" (USD, 1-decimal sizes) in its opening auction; :func:`provider` commits
    and then opens it (a commitment made in the opening auction is active at once)."""
    sim = Simulation(seed=3)
    sim.create_asset("USD", 2)
    sim.futures.create_market(
        market_id="M",
        asset="USD",
        opening_auction_duration_s=0,
        position_decimal_places=1,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        linear_slippage_factor=0.1,
        fees={"maker": 0, "infrastructure": 0, "liquidity": 0},
        mark_price_frequency_s=0,
        liquidity={"epoch_s": epoch_s, "stake_to_volume": 1.0, "price_range": 0.05, **liquidity},
    )
    for p in ("o1", "o2"):
        sim.create_party(p)
        sim.mint(p, "USD", 1_000_000)
    return sim


def open_market(sim: Simulation) -> None:
    """Uncross 1 at 100, then a 90 / 110 book besides the LP: the mid is 100 and the
    obligation range (5 %) is [95, 105]."""
    sim.futures.submit_order("o1", "M", "buy", 1, 100)
    sim.futures.submit_order("o2", "M", "sell", 1, 100)
    sim.forward_time(1)
    sim.futures.submit_order("o1", "M", "buy", 1, 90)
    sim.futures.submit_order("o2", "M", "sell", 1, 110)
    assert sim.futures.market_state("M") == "ACTIVE"


def flat_feed(price: float = 100.0, n: int = 1000) -> ReferencePriceFeed:
    return ReferencePriceFeed("ref", PricePath(np.arange(n) * 1.0, np.full(n, price)))


def provider(sim: Simulation, **kw) -> LiquidityProvider:
    args = dict(
        asset="USD",
        collateral=50_000,
        commitment=1000,
        fee=0.001,
        coverage=1.2,
        levels=3,
        inner_bps=100,
        range_position=0.6,
    )
    args.update(kw)
    lp = LiquidityProvider("lp", "M", flat_feed(), **args)
    lp.rng = sim.rng("agent:lp")
    lp.initialise(sim)
    assert lp.submitted and lp.submitted.reason == ""
    open_market(sim)
    return lp


def sides(sim: Simulation) -> dict[str, list[tuple[float, float]]]:
    """The LP's (price, size) per side, innermost first."""
    out: dict[str, list[tuple[float, float]]] = {"buy": [], "sell": []}
    for o in sim.futures.open_orders("lp", "M"):
        out[o.side].append((o.price, o.remaining))
    out["buy"].sort(reverse=True)
    out["sell"].sort()
    return out


# ------------------------------------------------------------------ shapes
def test_level_weights_numbers():
    assert level_weights([10, 30, 50]) == pytest.approx([1 / 3] * 3)
    assert level_weights([10, 30, 50], "linear") == pytest.approx([3 / 6, 2 / 6, 1 / 6])
    e = [math.exp(-10 / 20), math.exp(-30 / 20), math.exp(-50 / 20)]
    got = level_weights([10, 30, 50], "exponential", scale_bps=20)
    assert got == pytest.approx([x / sum(e) for x in e])
    assert got == pytest.approx([0.6652, 0.2447, 0.0900], abs=1e-4)
    assert level_weights([10, 30], weights=[1, 3]) == pytest.approx([0.25, 0.75])
    for bad in (dict(weights=[1, -1, 1]), dict(weights=[1, 1]), dict(weights=[0, 0, 0])):
        with pytest.raises(ValueError, match="weights"):
            level_weights([10, 30, 50], **bad)
    with pytest.raises(ValueError, match="unknown shape"):
        level_weights([10], "triangle")
    with pytest.raises(ValueError, match="scale_bps"):
        level_weights([10], "exponential", scale_bps=0)
    with pytest.raises(ValueError, match="weights"):
        LiquidityProvider("x", "M", flat_feed(), weights=[1, 2], levels=3)


def test_uniform_ladder_keeps_equal_sizes():
    sim = market()
    lp = provider(sim)
    lp.step(sim)
    # 1.2 x 1000 / 100 = 12 contracts per side, 4 per level at 1 %, 2 % and 3 % from 100
    assert sides(sim) == {
        "buy": [(99.0, 4.0), (98.0, 4.0), (97.0, 4.0)],
        "sell": [(101.0, 4.0), (102.0, 4.0), (103.0, 4.0)],
    }


@pytest.mark.parametrize(
    "shape, kw, sizes",
    [
        # 12 contracts per side: linear 3:2:1 -> 6, 4, 2
        ("linear", {}, [6.0, 4.0, 2.0]),
        # exponential at 100, 200, 300 bps, scale 100 bps: 12 x (e^-1, e^-2, e^-3) /
        # (e^-1 + e^-2 + e^-3) = 7.98, 2.94, 1.08 -> 7.9, 2.9, 1.0 (rounded down to 0.1)
        ("exponential", {"shape_scale_bps": 100.0}, [7.9, 2.9, 1.0]),
        ("uniform", {"weights": [1, 1, 4]}, [2.0, 2.0, 8.0]),
    ],
)
def test_shaped_ladders_follow_their_shape(shape, kw, sizes):
    sim = market()
    lp = provider(sim, shape=shape, **kw)
    lp.step(sim)
    s = sides(sim)
    assert [p for p, _ in s["buy"]] == [99.0, 98.0, 97.0]
    assert [p for p, _ in s["sell"]] == [101.0, 102.0, 103.0]
    assert [q for _, q in s["buy"]] == pytest.approx(sizes)
    assert [q for _, q in s["sell"]] == pytest.approx(sizes)
    # the whole ladder sits inside [95, 105] and covers the 1,000 obligation
    sim.forward_time(1)
    assert sim.futures.internal_market("M").liquidity.meets_obligation("lp")
    assert sum(p * q for p, q in s["buy"]) >= 1000


# ---------------------------------------------------------- time on book
def run_target(target: float, epochs: int = 3, epoch_s: float = 100.0):
    """The LP stepping every second for ``epochs`` epochs (the market's epochs start at
    0 s); returns the agent and the market's time on book just before each epoch end."""
    sim = market(epoch_s, minimum_time_fraction=0.5)
    lp = provider(sim, target_time_on_book=target)
    eng = sim.futures.internal_market("M").liquidity
    measured = []
    while sim.now < epochs * epoch_s:
        lp.step(sim)
        sim.forward_time(1)
        if math.isclose((sim.now + 1) % epoch_s, 0, abs_tol=1e-9):
            measured.append(eng.time_on_book("lp", sim.now_ns) / ONE)
    return lp, measured


def test_target_time_on_book_is_met_and_orders_are_pulled_otherwise():
    lp, measured = run_target(0.8)
    assert len(measured) == 3
    # the market's own measure (time meeting the obligation) per epoch: at least the
    # target and at most one step above it (it pulls its orders when it is ahead)
    for t in measured:
        assert 0.8 <= t <= 0.82, measured
    # the agent's count of each finished epoch agrees (1 s steps, 100 s epochs)
    assert len(lp.on_book_fractions) == 2
    for f in lp.on_book_fractions:
        assert 0.8 <= f <= 0.82
    # away about one step in five, deliberately (no random draw decides it)
    total = lp.steps_quoted + lp.steps_away
    assert lp.steps_away / total == pytest.approx(0.2, abs=0.02)
    assert lp.steps_away >= 55


def test_target_one_never_leaves_and_target_half_leaves_half_the_time():
    full, measured_full = run_target(1.0, epochs=2)
    assert full.steps_away == 0
    assert all(t >= 0.98 for t in measured_full)  # the first second of the market aside
    half, measured_half = run_target(0.5, epochs=2)
    assert all(0.5 <= t <= 0.52 for t in measured_half), measured_half
    assert half.steps_away / (half.steps_quoted + half.steps_away) == pytest.approx(0.5, abs=0.02)


def test_target_and_random_presence_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        LiquidityProvider("x", "M", flat_feed(), time_on_book=0.5, target_time_on_book=0.8)
    with pytest.raises(ValueError, match="target_time_on_book"):
        LiquidityProvider("x", "M", flat_feed(), target_time_on_book=1.5)
