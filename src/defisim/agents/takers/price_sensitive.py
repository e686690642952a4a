"""The price-sensitive taker: Poisson arrivals of IOC limit orders priced a random
depth beyond the reference price (:class:`~defisim.agents.takers.PoissonTaker` flow
that only takes liquidity up to a price)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .poisson import PoissonTaker

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


class PriceSensitiveTaker(PoissonTaker):
    """A Poisson taker whose orders are IOC limit orders priced off the reference.

    Each order is an IOC limit at ``reference * (1 + d)`` for a buy and
    ``reference * (1 - d)`` for a sell, ``d = depth_bps / 10_000`` with
    ``depth_bps ~ Exponential(mean_depth_bps)`` (so the order only takes liquidity
    up to a random distance, in basis points of the reference price, beyond the
    reference; the price is rounded down for buys and up for sells). Nothing is
    sent in auctions (an IOC would be rejected there). Arrivals, sides and sizes
    as :class:`PoissonTaker`.

    Args:
        feed: the reference price feed.
        mean_depth_bps: mean of the exponential depth, basis points (> 0).
        Other arguments: as :class:`PoissonTaker`.
    """

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        mean_depth_bps: float = 10.0,
        **kwargs,
    ) -> None:
        super().__init__(name, market, **kwargs)
        if not mean_depth_bps > 0:
            raise ValueError(f"{name}: mean_depth_bps must be > 0")
        self.feed = feed
        self.mean_depth_bps = mean_depth_bps

    def limit_price(self, side: str) -> float:
        """Draw the limit price of one order (quote units, before tick rounding)."""
        d = self.rng.exponential(self.mean_depth_bps) / 10_000
        ref = self.feed.price
        return ref * (1 + d) if side == "buy" else ref * (1 - d)

    def place(self, sim: Simulation, side: str, size: float) -> None:
        self.send(sim, side, size, self.limit_price(side), time_in_force="IOC")
