"""The oracle agent: publishes the reference price on the chain for a perpetual's funding.

A perpetual future (spec ``../shared/specs/futures-market.md`` section 9, Vega
0053-PERP) pays funding from the difference between its internal (mark price) and
external (oracle) TWAPs. The external series comes from an oracle: this agent
reads the off-chain :class:`~defisim.agents.ReferencePriceFeed`'s path and sends
it to the market with :meth:`defisim.Simulation.submit_oracle_price`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .reference import ReferencePriceFeed


class OracleAgent(Agent):
    """Publishes the reference price of ``market`` every ``interval_s`` seconds.

    At each publication time ``t`` it reads the feed's path point in force at
    ``t - delay_s`` (the last point at or before it; the feed itself need not have
    stepped yet, so the order inside phase 0 does not matter), multiplies it by
    ``exp(noise_bps / 10_000 * Z)`` with ``Z ~ N(0, 1)`` from :attr:`rng` when
    ``noise_bps > 0``, rounds it to the market's tick and submits it. Nothing is
    sent once the market no longer trades (settled, closed).

    Args:
        name: agent name (it has no party; oracle prices are not party transactions).
        market: the market id (a perpetual, or any market that records oracle prices).
        feed: the reference price feed (its ``path`` is read, not stepped).
        interval_s: seconds between publications (0: every step).
        delay_s: staleness of the published price, seconds (>= 0).
        noise_bps: standard deviation of a multiplicative noise, basis points (>= 0).

    Attributes:
        published: number of prices accepted by the market.
        last_price: the last published price (quote units), ``None`` before the first.
    """

    phase = 0

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        interval_s: float = 0.0,
        delay_s: float = 0.0,
        noise_bps: float = 0.0,
    ) -> None:
        super().__init__(name)
        if interval_s < 0 or delay_s < 0 or noise_bps < 0:
            raise ValueError(f"{name}: interval_s, delay_s and noise_bps must be >= 0")
        self.market = market
        self.feed = feed
        self.interval_s = float(interval_s)
        self.delay_s = float(delay_s)
        self.noise_bps = float(noise_bps)
        self.published = 0
        self.last_price: float | None = None
        self._times = np.asarray(feed.path.times_s, dtype=np.float64)
        self._prices = np.asarray(feed.path.prices, dtype=np.float64)
        self._next = 0.0

    def price_at(self, t_s: float) -> float:
        """The feed's path price in force at ``t_s`` seconds (clamped to the path)."""
        i = int(np.searchsorted(self._times, t_s + 1e-9, side="right")) - 1
        return float(self._prices[min(max(i, 0), len(self._prices) - 1)])

    def step(self, sim: Simulation) -> None:
        now = sim.now
        if now + 1e-9 < self._next:
            return
        if sim.futures.market_state(self.market) not in ("PENDING", "ACTIVE", "SUSPENDED"):
            return
        price = self.price_at(now - self.delay_s)
        if self.noise_bps > 0:
            price *= math.exp(self.noise_bps / 10_000 * float(self.rng.standard_normal()))
        price = sim.futures.round_price(self.market, price)
        if sim.futures.submit_oracle_price(self.market, price):
            self.published += 1
            self.last_price = price
        self._next = now + self.interval_s

    def next_wakeup(self, now: float) -> float | None:
        return None if self.interval_s <= 0 else now + self.interval_s
