"""Book-shaping market makers: an exponential book, at-the-touch pegs, a hedged maker,
and a regime-switching background market.

- :class:`ExponentialBookMarketMaker`: resting volume at depth ``d`` from the
  reference price proportional to ``exp(-d / scale)``, the average shape of real
  order books near the touch (Bouchaud, Mezard, Potters 2002, "Statistical
  properties of stock order books: empirical results and models"; the exponential
  fit of Cont, Stoikov, Talreja 2010 for the first levels).
- :class:`PeggedMarketMaker`: joins the best bid and the best ask with pegged orders
  (``peg_reference="BEST_BID"/"BEST_ASK"``, offset 0) that the matching engine
  moves with the touch (spec 0037-OPEG).
- :class:`HedgedMarketMaker`: quotes one market and offsets its inventory on a
  second market (the standard "make on one venue, hedge on another" practice,
  e.g. Gueant 2017 section 6 / Cartea, Jaimungal, Penalva 2015 chapter 10).
- :class:`BackgroundMarket`: an exponential book that follows its own price path
  with Markov-switching regimes (Hamilton 1989, "A new approach to the economic
  analysis of nonstationary time series"), so a scenario has a liquid market
  without a feed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .feeds import ReferencePriceFeed


def exponential_profile(
    total_size: float, levels: int, first_bps: float, spacing_bps: float, scale_bps: float
) -> list[tuple[float, float]]:
    """``(depth_bps, size)`` of each level of one side: depth ``d_i = first_bps + i *
    spacing_bps`` (``i = 0..levels-1``), size ``total_size * exp(-d_i / scale_bps) /
    sum_j exp(-d_j / scale_bps)`` (contracts; the sizes add up to ``total_size``)."""
    if levels < 1 or not total_size > 0 or not scale_bps > 0 or first_bps < 0 or spacing_bps <= 0:
        raise ValueError(
            "need levels >= 1, total_size > 0, scale_bps > 0, first_bps >= 0, spacing_bps > 0"
        )
    d = first_bps + spacing_bps * np.arange(levels)
    w = np.exp(-d / scale_bps)
    w = w / w.sum()
    return [(float(di), float(total_size * wi)) for di, wi in zip(d, w, strict=True)]


def sync_orders(agent: MarketAgent, sim: Simulation, want: list[tuple[str, float, float]]) -> None:
    """Make ``agent``'s resting limit orders the list ``want`` of ``(side, price, size)``:
    orders already at a wanted price and size stay (time priority kept), the others
    are cancelled and the missing ones sent GTC."""
    m = agent.market
    todo = list(want)
    tick, lot = agent._tick / 2, agent._lot / 2
    for o in sim.futures.open_orders(agent.name, m):
        for j, (side, p, sz) in enumerate(todo):
            if side == o.side and abs(o.price - p) < tick and abs(o.remaining - sz) < lot:
                del todo[j]
                break
        else:
            sim.futures.cancel_order(agent.name, m, o.order_id)
    for side, p, sz in todo:
        agent.send_with_retry(sim, side, sz, p, time_in_force="GTC")


class ExponentialBookMarketMaker(MarketAgent):
    """Keeps an exponentially shaped book around the reference price.

    Each step while the market accepts orders, with ``s`` the feed's price: for
    each of ``levels`` levels per side at depth ``d_i = first_bps + i * spacing_bps``
    basis points, a bid at ``s (1 - d_i / 10_000)`` (rounded down to the tick) and
    an ask at ``s (1 + d_i / 10_000)`` (rounded up), of size
    ``total_size * exp(-d_i / scale_bps) / sum_j exp(-d_j / scale_bps)`` contracts
    (:func:`exponential_profile`), so the volume at depth ``d`` is proportional to
    ``exp(-d / scale_bps)``. Unchanged orders are left alone, the rest replaced.
    With ``max_inventory``, the side that would grow ``|position|`` past it is not
    quoted.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (``None`` for subclasses that set :meth:`centre`).
        total_size: contracts per side.
        levels: levels per side.
        first_bps: depth of the first level, basis points of ``s``.
        spacing_bps: distance between levels, basis points.
        scale_bps: the exponential's depth scale, basis points.
        max_inventory: absolute inventory limit, contracts (``None``: none).
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed | None,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        total_size: float = 5.0,
        levels: int = 10,
        first_bps: float = 5.0,
        spacing_bps: float = 5.0,
        scale_bps: float = 20.0,
        max_inventory: float | None = None,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        exponential_profile(total_size, levels, first_bps, spacing_bps, scale_bps)  # validates
        self.feed = feed
        self.total_size = total_size
        self.levels = levels
        self.first_bps = first_bps
        self.spacing_bps = spacing_bps
        self.scale_bps = scale_bps
        self.max_inventory = max_inventory

    def centre(self, sim: Simulation) -> float:
        """The price the book is centred on (the feed's price)."""
        return self.feed.price  # type: ignore[union-attr]

    def scale(self, sim: Simulation) -> float:
        """The depth scale in force, basis points."""
        return self.scale_bps

    def wanted(self, sim: Simulation) -> list[tuple[str, float, float]]:
        s = self.centre(sim)
        pos = sim.futures.position(self.name, self.market)
        prof = exponential_profile(
            self.total_size, self.levels, self.first_bps, self.spacing_bps, self.scale(sim)
        )
        out = []
        for side, sign in (("buy", -1), ("sell", 1)):
            if self.max_inventory is not None and sign * -pos >= self.max_inventory:
                continue
            for d, sz in prof:
                p = sim.futures.round_price(self.market, s * (1 + sign * d / 10_000), side)
                sz = self.size(sim, sz)
                if p > 0 and sz > 0:
                    out.append((side, p, sz))
        return out

    def step(self, sim: Simulation) -> None:
        if not self.trading(sim, self.market):
            return
        sync_orders(self, sim, self.wanted(sim))


class PeggedMarketMaker(MarketAgent):
    """Quotes at the touch with pegged orders (``BEST_BID`` / ``BEST_ASK``, offset 0).

    Each step while the market accepts orders: it keeps one pegged buy at the best
    bid and one pegged sell at the best ask, ``order_size`` contracts each (less
    when the inventory limit is near: the buy is at most ``max_inventory -
    position``, the sell ``max_inventory + position``). The matching engine
    reprices the pegs as the touch moves (parked while that side is empty); the
    agent only replaces a peg that was filled, expired or resized.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        order_size: contracts per peg.
        max_inventory: absolute inventory limit, contracts.
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        order_size: float = 0.1,
        max_inventory: float = 1.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not order_size > 0 or max_inventory < 0:
            raise ValueError(f"{name}: need order_size > 0 and max_inventory >= 0")
        self.order_size = order_size
        self.max_inventory = max_inventory

    def step(self, sim: Simulation) -> None:
        m = self.market
        if not self.trading(sim, m):
            return
        pos = sim.futures.position(self.name, m)
        want = {
            "buy": self.size(sim, min(self.order_size, self.max_inventory - pos)),
            "sell": self.size(sim, min(self.order_size, self.max_inventory + pos)),
        }
        have = set()
        lot = self._lot / 2
        for o in sim.futures.open_orders(self.name, m):
            if o.peg_reference and o.side not in have and abs(o.remaining - want[o.side]) < lot:
                have.add(o.side)
            else:
                sim.futures.cancel_order(self.name, m, o.order_id)
        for side, ref in (("buy", "BEST_BID"), ("sell", "BEST_ASK")):
            if side not in have and want[side] > 0:
                self.send_with_retry(sim, side, want[side], None, peg_reference=ref, peg_offset=0.0)


class HedgedMarketMaker(MarketAgent):
    """Quotes a symmetric spread on one market and hedges its inventory on another.

    Each step while both markets accept orders:

    1. quotes: a bid at ``s (1 - half_spread_bps / 10_000)`` and an ask at ``s (1 +
       half_spread_bps / 10_000)`` on ``market``, ``order_size`` contracts each
       (``s`` the feed's price; unchanged quotes are left alone);
    2. hedge: with net exposure ``E = position(market) + position(hedge_market) /
       hedge_ratio`` (contracts of ``market``), when ``|E| > hedge_threshold`` it sends
       a market IOC order of ``hedge_ratio * |E|`` contracts on ``hedge_market``
       against ``E`` (sell when long), bringing the net exposure back to zero.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed.
        hedge_market: id of the hedging market (same settlement asset).
        half_spread_bps: quoted half-spread, basis points of ``s``.
        order_size: contracts per quote.
        hedge_ratio: hedge-market contracts per quoted-market contract.
        hedge_threshold: net exposure tolerated before hedging, contracts.

    Attributes:
        hedges: ``(time, signed hedge size)`` of every hedge sent.
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        hedge_market: str,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        half_spread_bps: float = 10.0,
        order_size: float = 0.1,
        hedge_ratio: float = 1.0,
        hedge_threshold: float = 0.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not order_size > 0 or not hedge_ratio > 0 or half_spread_bps < 0 or hedge_threshold < 0:
            raise ValueError(f"{name}: invalid quoting or hedging parameters")
        self.feed = feed
        self.hedge_market = hedge_market
        self.half_spread_bps = half_spread_bps
        self.order_size = order_size
        self.hedge_ratio = hedge_ratio
        self.hedge_threshold = hedge_threshold
        self.hedges: list[tuple[float, float]] = []

    def exposure(self, sim: Simulation) -> float:
        """Net exposure in quoted-market contracts."""
        return (
            sim.futures.position(self.name, self.market)
            + sim.futures.position(self.name, self.hedge_market) / self.hedge_ratio
        )

    def step(self, sim: Simulation) -> None:
        m, h = self.market, self.hedge_market
        if self.trading(sim, m):
            s = self.feed.price
            x = self.half_spread_bps / 10_000
            sz = self.size(sim, self.order_size)
            want = [
                ("buy", sim.futures.round_price(m, s * (1 - x), "buy"), sz),
                ("sell", sim.futures.round_price(m, s * (1 + x), "sell"), sz),
            ]
            sync_orders(self, sim, [w for w in want if w[2] > 0])
        e = self.exposure(sim)
        if abs(e) <= self.hedge_threshold or sim.futures.in_auction(h) or not self.trading(sim, h):
            return
        size = sim.futures.round_size(h, abs(e) * self.hedge_ratio)
        if size <= 0:
            return
        side = "sell" if e > 0 else "buy"
        res = sim.futures.submit_order(self.name, h, side, size, None, "MARKET", "IOC")
        self.orders_sent += 1
        if res.accepted:
            filled = sim.futures.units(h).size(res.filled_size)
            self.hedges.append((sim.now, filled if side == "buy" else -filled))
        else:
            self.rejections += 1


@dataclass(frozen=True)
class Regime:
    """One regime of :class:`BackgroundMarket`: log-price drift ``mu`` and volatility
    ``sigma`` per second (``d ln S = mu dt + sigma dW``), and ``scale_factor`` that
    multiplies the book's depth scale (a wider, thinner book in a stressed regime)."""

    mu: float = 0.0
    sigma: float = 1e-4
    scale_factor: float = 1.0


class BackgroundMarket(ExponentialBookMarketMaker):
    """An exponential book around its own regime-switching price path.

    The price ``S`` starts at ``s0``; at each wake-up, ``dt`` seconds after the
    previous one, the regime first switches per the Markov matrix
    ``transition[i][j]`` (probability of moving from regime ``i`` to ``j`` over one
    wake-up; rows sum to 1), then ``ln S += (mu - sigma^2/2) dt + sigma sqrt(dt) Z``,
    ``Z ~ N(0, 1)`` drawn from :attr:`rng` (GBM within a regime). The book is that
    of :class:`ExponentialBookMarketMaker` around ``S`` with depth scale
    ``scale_bps * scale_factor`` of the regime.

    Args:
        name, market, asset, collateral, total_size, levels, first_bps, spacing_bps,
            scale_bps, max_inventory: as :class:`ExponentialBookMarketMaker`.
        s0: initial price, quote units.
        regimes: the regimes (default: one calm regime).
        transition: the regime transition matrix (default: identity).

    Attributes:
        price: the current background price; ``regime``: index of the regime in
        force; ``path``: ``(time, price, regime)`` of every wake-up.
    """

    def __init__(
        self,
        name: str,
        market: str,
        *,
        s0: float,
        regimes: Sequence[Regime] = (Regime(),),
        transition: Sequence[Sequence[float]] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(name, market, None, **kwargs)
        n = len(regimes)
        if not s0 > 0 or n < 1:
            raise ValueError(f"{name}: need s0 > 0 and at least one regime")
        P = np.eye(n) if transition is None else np.asarray(transition, dtype=float)
        if P.shape != (n, n) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0):
            raise ValueError(f"{name}: transition must be a {n}x{n} stochastic matrix")
        self.regimes = list(regimes)
        self.transition = P
        self.price = float(s0)
        self.regime = 0
        self.path: list[tuple[float, float, int]] = []
        self._last: float | None = None

    def centre(self, sim: Simulation) -> float:
        return self.price

    def scale(self, sim: Simulation) -> float:
        return self.scale_bps * self.regimes[self.regime].scale_factor

    def advance(self, dt: float) -> None:
        """Switch regime, then move the price over ``dt`` seconds."""
        self.regime = int(self.rng.choice(len(self.regimes), p=self.transition[self.regime]))
        r = self.regimes[self.regime]
        if dt > 0:
            z = self.rng.standard_normal()
            self.price *= math.exp((r.mu - r.sigma**2 / 2) * dt + r.sigma * math.sqrt(dt) * z)

    def step(self, sim: Simulation) -> None:
        now = sim.now
        if self._last is not None:
            self.advance(now - self._last)
        self._last = now
        self.path.append((now, self.price, self.regime))
        super().step(sim)
