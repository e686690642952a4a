"""The zero-intelligence trader: the limit/cancel trader of Gode and Sunder (1993,
"Allocative efficiency of markets with zero-intelligence traders"), in the
event-driven form of the ABIDES noise / ZI agents (Byrd, Hybinette and Balch 2019,
"ABIDES: Towards high-fidelity market simulation for AI research"): Poisson arrivals,
each a cancel or a random limit order with a random time in force.

Every random draw comes from the agent's :attr:`~defisim.agents.Agent.rng`; every
action goes through :class:`~defisim.Simulation`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from ..trading import MarketAgent, SizeDistribution, draw_size

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed

Anchor = Literal["mid", "reference"]

#: Times in force a :class:`ZeroIntelligenceTrader` draws, in the order of its probabilities.
ZI_TIFS = ("GTC", "GTT", "IOC")


class ZeroIntelligenceTrader(MarketAgent):
    """Poisson arrivals of random cancels and random limit orders.

    Arrivals form a Poisson process of intensity ``rate_per_s`` (exponential gaps,
    drawn from :attr:`rng`; :meth:`next_wakeup` returns the next arrival, and every
    arrival due at or before ``sim.now`` is handled when the agent wakes). Each
    arrival, while the market trades continuously (arrivals during auctions or
    outside trading states are dropped without a draw):

    1. with probability ``cancel_prob`` it is a *cancel*: one of the agent's resting
       orders, chosen uniformly, is cancelled (nothing happens when it has none);
    2. otherwise a *limit order*: buy with probability ``buy_prob``; log offset
       ``ln(X) ~ N(offset_mu, offset_sigma^2)`` with ``X`` in basis points, so ``X``
       is lognormal (median ``exp(offset_mu)`` bps); price ``c * exp(-X / 10_000)``
       for a buy and ``c * exp(+X / 10_000)`` for a sell (rounded onto the tick grid
       away from the centre), with ``c`` the book's mid (``anchor="mid"``, the
       reference price when a side is empty) or the reference price
       (``anchor="reference"``); time in force GTC, GTT or IOC with probabilities
       ``tif_probs``; a GTT order lives ``max(1, Exponential(mean_lifetime_s))``
       seconds; size from ``size_distribution`` with mean ``mean_size`` contracts.
       The order is drawn in full and then skipped (counted in :attr:`skipped`)
       when the agent already rests ``max_open_orders`` orders or it could take
       ``|position|`` above ``max_position``.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed.
        rate_per_s: arrival intensity, arrivals per second (> 0).
        cancel_prob: probability that an arrival is a cancel.
        offset_mu, offset_sigma: mean and standard deviation of ``ln(X)``, ``X``
            the price offset in basis points.
        tif_probs: probabilities of GTC, GTT and IOC (non-negative, sum 1).
        mean_lifetime_s: mean GTT lifetime, seconds.
        buy_prob: probability of a buy.
        mean_size: mean size, contracts; ``size_distribution``: as
            :func:`~defisim.agents.trading.draw_size`.
        anchor: ``"mid"`` or ``"reference"`` (the centre ``c``).
        max_open_orders: cap on its resting orders.
        max_position: absolute position limit, contracts (``None``: none).
        start_s: time of the start of the arrival process, seconds since the start.

    Attributes:
        arrivals: arrivals handled; cancel_arrivals: of those, cancels; cancels:
            orders actually cancelled; placed: limit orders submitted; skipped:
            limit orders drawn but not sent.
        tif_counts: limit orders drawn per time in force.
        log_offset_sum, log_offset_sumsq: sums of ``ln(X)`` and ``ln(X)^2`` over the
            drawn limit orders (their sample moments).
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 500_000.0,
        rate_per_s: float = 1 / 300,
        cancel_prob: float = 0.3,
        offset_mu: float = math.log(20.0),
        offset_sigma: float = 0.8,
        tif_probs: tuple[float, float, float] = (0.4, 0.4, 0.2),
        mean_lifetime_s: float = 3600.0,
        buy_prob: float = 0.5,
        mean_size: float = 0.05,
        size_distribution: SizeDistribution = "exponential",
        anchor: Anchor = "mid",
        max_open_orders: int = 20,
        max_position: float | None = 2.0,
        start_s: float = 0.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not rate_per_s > 0 or not 0 <= cancel_prob <= 1 or not 0 <= buy_prob <= 1:
            raise ValueError(f"{name}: need rate_per_s > 0, cancel_prob and buy_prob in [0, 1]")
        if offset_sigma < 0 or not mean_size > 0 or not mean_lifetime_s > 0:
            raise ValueError(
                f"{name}: need offset_sigma >= 0, mean_size > 0 and mean_lifetime_s > 0"
            )
        if (
            len(tif_probs) != 3
            or min(tif_probs) < 0
            or not math.isclose(sum(tif_probs), 1.0, abs_tol=1e-9)
        ):
            raise ValueError(f"{name}: tif_probs must be 3 non-negative numbers summing to 1")
        if anchor not in ("mid", "reference"):
            raise ValueError(f"{name}: anchor must be 'mid' or 'reference', got {anchor!r}")
        self.feed = feed
        self.rate_per_s = rate_per_s
        self.cancel_prob = cancel_prob
        self.offset_mu = offset_mu
        self.offset_sigma = offset_sigma
        self.tif_probs = tuple(float(p) for p in tif_probs)
        self.mean_lifetime_s = mean_lifetime_s
        self.buy_prob = buy_prob
        self.mean_size = mean_size
        self.size_distribution: SizeDistribution = size_distribution
        self.anchor: Anchor = anchor
        self.max_open_orders = max_open_orders
        self.max_position = max_position
        self.start_s = start_s
        self.arrivals = 0
        self.cancel_arrivals = 0
        self.cancels = 0
        self.placed = 0
        self.skipped = 0
        self.tif_counts = dict.fromkeys(ZI_TIFS, 0)
        self.log_offset_sum = 0.0
        self.log_offset_sumsq = 0.0
        self._next: float | None = None

    def next_wakeup(self, now: float) -> float | None:
        """The time of the next arrival (seconds since the start)."""
        return self._next

    def step(self, sim: Simulation) -> None:
        now = sim.now
        if self._next is None:
            self._next = self.start_s + float(self.rng.exponential(1 / self.rate_per_s))
        while self._next <= now + 1e-9:
            self._next += float(self.rng.exponential(1 / self.rate_per_s))
            if sim.futures.in_auction(self.market) or not self.trading(sim, self.market):
                continue
            self._arrival(sim, now)

    def _arrival(self, sim: Simulation, now: float) -> None:
        rng, m = self.rng, self.market
        self.arrivals += 1
        if rng.random() < self.cancel_prob:
            self.cancel_arrivals += 1
            mine = sim.futures.open_orders(self.name, m)
            if mine:
                o = mine[int(rng.integers(len(mine)))]
                if sim.futures.cancel_order(self.name, m, o.order_id).accepted:
                    self.cancels += 1
            return
        side = "buy" if rng.random() < self.buy_prob else "sell"
        log_x = float(rng.normal(self.offset_mu, self.offset_sigma))
        tif = ZI_TIFS[int(rng.choice(3, p=self.tif_probs))]
        life = max(1.0, float(rng.exponential(self.mean_lifetime_s))) if tif == "GTT" else None
        size = self.size(sim, draw_size(rng, self.mean_size, self.size_distribution))
        self.log_offset_sum += log_x
        self.log_offset_sumsq += log_x * log_x
        self.tif_counts[tif] += 1
        mid = sim.futures.mid_price(m) if self.anchor == "mid" else None
        centre = self.feed.price if mid is None else mid
        x = math.exp(log_x) / 10_000
        price = centre * (math.exp(-x) if side == "buy" else math.exp(x))
        if (
            size <= 0
            or len(sim.futures.open_orders(self.name, m)) >= self.max_open_orders
            or not self.within_position_limit(sim, side, size, self.max_position)
        ):
            self.skipped += 1
            return
        kwargs = {"time_in_force": tif}
        if life is not None:
            kwargs["expires_at"] = now + life
        self.send(sim, side, size, price, **kwargs)
        self.placed += 1
