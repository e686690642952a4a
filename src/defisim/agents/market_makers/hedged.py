"""The hedged market maker: quotes one market and offsets its inventory on a second
market (the standard "make on one venue, hedge on another" practice, e.g. Gueant 2017
section 6 / Cartea, Jaimungal, Penalva 2015 chapter 10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


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
            self.sync_orders(sim, [w for w in want if w[2] > 0])
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
