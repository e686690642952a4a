"""Noise (zero-intelligence) limit-order traders.

Random limit orders around the mid and random cancellations, in the spirit of
the zero-intelligence traders of Gode and Sunder (1993, "Allocative efficiency
of markets with zero-intelligence traders") and the order-flow model of Smith,
Farmer, Gillemot and Krishnamurthy (2003): limit orders arrive as a Poisson
process at random distances from the mid, and each resting order is cancelled
at a constant rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent, SizeDistribution, draw_size

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


class NoiseLimitTrader(MarketAgent):
    """Places random GTC/GTT limit orders around the mid and cancels some at random.

    Each wake-up (``dt`` seconds after the previous one):

    1. Each of its resting orders is cancelled with probability ``cancel_prob``.
    2. ``N ~ Poisson(rate_per_s * dt)`` new orders (while it has fewer than
       ``max_open_orders`` resting). Each: buy with probability ``buy_prob``;
       size from ``size_distribution`` with mean ``mean_size`` contracts; price
       ``m (1 - x)`` for a buy and ``m (1 + x)`` for a sell, ``x = (min_offset_bps +
       Exponential(mean_offset_bps)) / 10_000`` (a negative ``min_offset_bps``
       lets some orders cross the spread and trade on entry); ``m`` is the book's
       mid in continuous trading (the reference price when a side is empty).
       In an auction ``m`` is the reference price and offsets are kept >= one
       tick, so noise orders never cross the reference price and never move the
       uncrossing price.
    3. The order is GTT with a lifetime ``~ Exponential(mean_lifetime_s)`` (at
       least one second) or GTC when ``mean_lifetime_s`` is ``None``. With
       ``max_position``, an order that could take ``|position|`` above it is
       skipped.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (the fallback for ``m``).
        rate_per_s: limit-order intensity, orders per second.
        buy_prob: probability of a buy.
        mean_size: mean size, contracts; ``size_distribution``: as
            :func:`~defisim.agents.trading.draw_size`.
        min_offset_bps, mean_offset_bps: offset of the price from ``m``, basis points.
        mean_lifetime_s: mean GTT lifetime in seconds, ``None`` for GTC.
        cancel_prob: per-step cancellation probability of each resting order.
        max_open_orders: cap on its resting orders.
        max_position: absolute position limit, contracts (``None``: none).
        first_dt_s: ``dt`` at the first wake-up.
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
        rate_per_s: float = 1 / 900,
        buy_prob: float = 0.5,
        mean_size: float = 0.05,
        size_distribution: SizeDistribution = "exponential",
        min_offset_bps: float = -5.0,
        mean_offset_bps: float = 25.0,
        mean_lifetime_s: float | None = 4 * 3600.0,
        cancel_prob: float = 0.1,
        max_open_orders: int = 20,
        max_position: float | None = 2.0,
        first_dt_s: float = 0.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if rate_per_s < 0 or not 0 <= buy_prob <= 1 or not 0 <= cancel_prob <= 1:
            raise ValueError(f"{name}: need rate_per_s >= 0, buy_prob and cancel_prob in [0, 1]")
        if not mean_size > 0 or not mean_offset_bps > 0:
            raise ValueError(f"{name}: mean_size and mean_offset_bps must be > 0")
        self.feed = feed
        self.rate_per_s = rate_per_s
        self.buy_prob = buy_prob
        self.mean_size = mean_size
        self.size_distribution: SizeDistribution = size_distribution
        self.min_offset_bps = min_offset_bps
        self.mean_offset_bps = mean_offset_bps
        self.mean_lifetime_s = mean_lifetime_s
        self.cancel_prob = cancel_prob
        self.max_open_orders = max_open_orders
        self.max_position = max_position
        self.first_dt_s = first_dt_s
        self.cancels = 0
        self._last: float | None = None

    def step(self, sim: Simulation) -> None:
        m = self.market
        now = sim.now
        dt = self.first_dt_s if self._last is None else now - self._last
        self._last = now
        if not self.trading(sim, m):
            return
        rng = self.rng
        mine = sim.futures.open_orders(self.name, m)
        open_n = len(mine)
        if self.cancel_prob > 0:
            for o in mine:
                if rng.random() < self.cancel_prob:
                    sim.futures.cancel_order(self.name, m, o.order_id)
                    self.cancels += 1
                    open_n -= 1
        n = int(rng.poisson(self.rate_per_s * dt)) if dt > 0 and self.rate_per_s > 0 else 0
        if n == 0:
            return
        auction = sim.futures.in_auction(m)
        ref = self.feed.price
        mid = None if auction else sim.futures.mid_price(m)
        centre = ref if mid is None else mid
        for _ in range(n):
            side = "buy" if rng.random() < self.buy_prob else "sell"
            size = self.size(sim, draw_size(rng, self.mean_size, self.size_distribution))
            x = (self.min_offset_bps + rng.exponential(self.mean_offset_bps)) / 10_000
            life = (
                None
                if self.mean_lifetime_s is None
                else max(1.0, rng.exponential(self.mean_lifetime_s))
            )
            if size <= 0 or open_n >= self.max_open_orders or not self.within_position_limit(sim, side, size, self.max_position):
                continue
            if side == "buy":
                price = sim.futures.round_price(m, centre * (1 - x), "buy")
                if auction and price > ref - self._tick:
                    price = sim.futures.round_price(m, ref - self._tick, "buy")
            else:
                price = sim.futures.round_price(m, centre * (1 + x), "sell")
                if auction and price < ref + self._tick:
                    price = sim.futures.round_price(m, ref + self._tick, "sell")
            if life is None:
                res = self.send(sim, side, size, price, time_in_force="GTC")
            else:
                res = self.send(sim, side, size, price, time_in_force="GTT", expires_at=now + life)
            if res is not None and res.accepted and res.status == "ACTIVE":
                open_n += 1
