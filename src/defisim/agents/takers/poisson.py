"""The Poisson liquidity taker: market orders arriving as a Poisson process.

Order arrivals follow a Poisson process of intensity ``rate_per_s`` (orders per
second): at each wake-up the agent sends ``N ~ Poisson(rate_per_s * dt)`` orders,
``dt`` the seconds since its previous wake-up (``first_dt_s`` at the first one).
This is the "zero-intelligence" order flow of the market-microstructure
literature (e.g. Cont, Stoikov and Talreja 2010, "A stochastic model for order
book dynamics"; Smith, Farmer, Gillemot and Krishnamurthy 2003, "Statistical
theory of the continuous double auction"), and the liquidity-taker flow that
the Avellaneda-Stoikov market maker faces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent, SizeDistribution, draw_size

if TYPE_CHECKING:
    from defisim.service import Simulation


class PoissonTaker(MarketAgent):
    """Sends Poisson-many market orders (IOC) of random side and size.

    Behaviour per wake-up, in continuous trading only (market orders are rejected
    in auctions, so nothing is sent there): ``N ~ Poisson(rate_per_s * dt)``
    orders; each is a buy with probability ``buy_prob``, else a sell; its size is
    drawn from ``size_distribution`` with mean ``mean_size`` contracts (rounded
    down to the position decimals; a zero size sends nothing); with
    ``max_position`` set, an order that would take ``|position|`` above it is
    skipped.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        rate_per_s: order intensity lambda, orders per second (>= 0).
        buy_prob: probability that an order is a buy, in [0, 1].
        mean_size: mean order size, contracts (> 0).
        size_distribution: ``"fixed"``, ``"exponential"`` or ``"lognormal"``.
        size_sigma: log-volatility of the lognormal sizes.
        max_position: absolute position limit in contracts, ``None`` for none.
        first_dt_s: ``dt`` used at the first wake-up (seconds).

    Attributes:
        arrivals: total orders drawn (sent or skipped), for checking the intensity.
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        *,
        asset: str = "USDT",
        collateral: float = 500_000.0,
        rate_per_s: float = 1 / 600,
        buy_prob: float = 0.5,
        mean_size: float = 0.05,
        size_distribution: SizeDistribution = "exponential",
        size_sigma: float = 1.0,
        max_position: float | None = None,
        first_dt_s: float = 0.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if rate_per_s < 0 or not 0 <= buy_prob <= 1 or not mean_size > 0:
            raise ValueError(f"{name}: need rate_per_s >= 0, buy_prob in [0, 1], mean_size > 0")
        self.rate_per_s = rate_per_s
        self.buy_prob = buy_prob
        self.mean_size = mean_size
        self.size_distribution: SizeDistribution = size_distribution
        self.size_sigma = size_sigma
        self.max_position = max_position
        self.first_dt_s = first_dt_s
        self.arrivals = 0
        self._last: float | None = None

    def arrivals_now(self, sim: Simulation) -> int:
        """Draw the number of orders arriving since the last wake-up."""
        now = sim.now
        dt = self.first_dt_s if self._last is None else now - self._last
        self._last = now
        n = int(self.rng.poisson(self.rate_per_s * dt)) if dt > 0 and self.rate_per_s > 0 else 0
        self.arrivals += n
        return n

    def within_limit(self, sim: Simulation, side: str, size: float) -> bool:
        """True if a fill of ``size`` on ``side`` keeps ``|position| <= max_position``."""
        return self.within_position_limit(sim, side, size, self.max_position)

    def step(self, sim: Simulation) -> None:
        n = self.arrivals_now(sim)
        if n == 0 or sim.futures.in_auction(self.market) or not self.trading(sim, self.market):
            return
        for _ in range(n):
            side = "buy" if self.rng.random() < self.buy_prob else "sell"
            size = self.size(
                sim, draw_size(self.rng, self.mean_size, self.size_distribution, self.size_sigma)
            )
            if size <= 0 or not self.within_limit(sim, side, size):
                continue
            self.place(sim, side, size)

    def place(self, sim: Simulation, side: str, size: float) -> None:
        """Send one order (here: a market IOC order)."""
        self.send(sim, side, size, None, order_type="MARKET", time_in_force="IOC")
