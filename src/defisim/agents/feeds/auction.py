"""The opening-auction agent: makes the opening auction uncross at the reference price."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .reference import ReferencePriceFeed


class OpeningAuctionTrader(MarketAgent):
    """Crosses a buy and a sell at the reference price while the market is in its
    opening auction.

    Each step while the market is ``PENDING`` (its opening auction; also in
    price-monitoring auctions with ``every_auction=True``), it cancels its own
    resting orders and places a buy and a sell limit order of ``size`` contracts,
    both at the feed's reference price rounded to the nearest tick, with time in
    force ``time_in_force`` (GFA by default: the market cancels what is left when
    the auction ends). Its two orders cross each other (self-trades are allowed
    in an uncrossing, spec section 2), so the book has an indicative uncrossing
    price; as long as nobody else's buys rest above the reference or sells below
    it, the uncrossing price is the reference price itself (uncrossing-price rule:
    only that price reaches the maximum volume), and the mark price starts there.
    Its own trades net to a zero position. Outside auctions it cancels leftovers
    once and then does nothing.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed.
        size: contracts on each side.
        time_in_force: ``"GFA"`` or ``"GTC"``.
        every_auction: also act in price-monitoring auctions (market ``SUSPENDED``).
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 200_000.0,
        size: float = 0.5,
        time_in_force: str = "GFA",
        every_auction: bool = False,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not size > 0:
            raise ValueError(f"{name}: size must be > 0")
        if time_in_force not in ("GFA", "GTC"):
            raise ValueError(f"{name}: time_in_force must be GFA or GTC")
        self.feed = feed
        self.size_each = size
        self.time_in_force = time_in_force
        self.every_auction = every_auction
        self.placed_at: float | None = None
        """Price of the last pair of crossing orders (quote units)."""
        self._has_orders = False

    def step(self, sim: Simulation) -> None:
        m = self.market
        state = sim.futures.market_state(m)
        if state == "PENDING" or (self.every_auction and state == "SUSPENDED"):
            sim.futures.cancel_all(self.name, m)
            price = sim.futures.round_price(m, self.feed.price)
            ok = 0
            for side in ("buy", "sell"):
                res = self.send_with_retry(
                    sim, side, self.size_each, price, time_in_force=self.time_in_force
                )
                ok += res is not None and res.accepted
            self.placed_at = price if ok == 2 else None
            self._has_orders = ok > 0
        elif self._has_orders:
            sim.futures.cancel_all(self.name, m)
            self._has_orders = False
