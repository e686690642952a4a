"""The informed trader: knows the reference price some steps ahead.

It plays the informed trader of Kyle (1985, "Continuous auctions and insider
trading") and Glosten-Milgrom (1985): it trades only when its private signal (the
future reference price) says the book is mispriced, which is the adverse
selection the market makers' spread must pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


class InformedTrader(MarketAgent):
    """Buys below the future price, sells above it, closes when the edge is gone.

    Each step in continuous trading (nothing in auctions), with ``f =
    feed.price_ahead(lookahead)``, best bid ``b`` and best ask ``a``,
    ``theta = threshold_bps / 10_000`` and position ``V`` (contracts):

    - if ``f > a (1 + theta)`` and ``V < position_limit``: buy
      ``min(trade_size, position_limit - V)`` with an IOC limit at
      ``f / (1 + theta)`` (it takes every ask that still leaves the edge);
    - else if ``f < b (1 - theta)`` and ``V > -position_limit``: the mirror sell,
      IOC limit at ``f / (1 - theta)``;
    - else, the edge is gone for a long when ``f <= b`` (selling now at the bid is
      no worse than waiting): it closes the whole long with a reduce-only market
      order (IOC); and for a short when ``f >= a``.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (the source of the private signal).
        lookahead: how many feed points ahead it sees (>= 1).
        threshold_bps: edge needed to open or add, basis points of the price.
        trade_size: contracts per order.
        position_limit: absolute position limit, contracts.
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        lookahead: int = 1,
        threshold_bps: float = 30.0,
        trade_size: float = 0.1,
        position_limit: float = 1.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if lookahead < 1 or threshold_bps < 0 or not trade_size > 0 or position_limit < 0:
            raise ValueError(
                f"{name}: need lookahead >= 1, threshold_bps >= 0, trade_size > 0, "
                "position_limit >= 0"
            )
        self.feed = feed
        self.lookahead = lookahead
        self.threshold_bps = threshold_bps
        self.trade_size = trade_size
        self.position_limit = position_limit

    def step(self, sim: Simulation) -> None:
        m = self.market
        if sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        f = self.feed.price_ahead(self.lookahead)
        bid, ask = sim.futures.best_prices(m)
        pos = sim.futures.position(self.name, m)
        th = self.threshold_bps / 10_000
        room_long = self.position_limit - pos
        room_short = self.position_limit + pos
        if ask is not None and f > ask * (1 + th) and room_long > 0:
            self.send_with_retry(
                sim, "buy", min(self.trade_size, room_long), f / (1 + th), time_in_force="IOC"
            )
        elif bid is not None and f < bid * (1 - th) and room_short > 0:
            self.send_with_retry(
                sim, "sell", min(self.trade_size, room_short), f / (1 - th), time_in_force="IOC"
            )
        elif pos > 0 and bid is not None and f <= bid:
            self.send(
                sim, "sell", pos, None, order_type="MARKET", time_in_force="IOC", reduce_only=True
            )
        elif pos < 0 and ask is not None and f >= ask:
            self.send(
                sim, "buy", -pos, None, order_type="MARKET", time_in_force="IOC", reduce_only=True
            )
