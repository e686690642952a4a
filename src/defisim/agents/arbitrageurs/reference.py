"""The reference arbitrageur: brings the market's traded price back to the reference.

With price monitoring (spec ``../shared/specs/futures-market.md`` section 2) an
order whose trades would breach the price bounds is rejected when it is IOC/FOK,
and starts an auction when it is persistent (GTC/GTT). After a jump of the
underlying, market orders are therefore refused and the traded (and mark) price
can stay stale while the quotes have moved: only a persistent order that trades
at the new level moves it, through an auction. This agent is that order flow:
it sees the traded price away from the reference price (another venue, an
index) and sends GTT limit orders toward it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


class ReferenceArbitrageur(MarketAgent):
    """Sells when the last traded price is above the reference, buys when below.

    Each step in continuous trading (nothing is sent in auctions; its resting
    orders take part in the uncrossing), with ``r`` the feed's reference price,
    ``l`` the last traded price and ``theta = threshold_bps / 10_000``:

    - if ``l > r (1 + theta)`` and its position is above ``-position_limit``: a
      GTT limit sell of ``min(order_size, room)`` at ``r (1 - slippage_bps/10_000)``
      expiring ``ttl_s`` seconds later (the mirror buy when ``l < r (1 - theta)``);
      it trades at the bids down to that price, or, if those trades breach price
      monitoring, it rests and the market goes into an auction;
    - else, if ``|l / r - 1| < theta / 2`` and it holds a position, it closes up to
      ``order_size`` of it with a reduce-only IOC market order.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed.
        threshold_bps: deviation that triggers an order, basis points (> 0).
        slippage_bps: limit price beyond the reference, basis points (>= 0).
        order_size: contracts per order (> 0).
        position_limit: absolute position limit, contracts (>= 0).
        ttl_s: lifetime of an order, seconds (> 0).

    Attributes:
        pushes: orders sent toward the reference.
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 2_000_000.0,
        threshold_bps: float = 100.0,
        slippage_bps: float = 10.0,
        order_size: float = 0.5,
        position_limit: float = 5.0,
        ttl_s: float = 60.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not threshold_bps > 0 or slippage_bps < 0 or not order_size > 0:
            raise ValueError(f"{name}: need threshold_bps > 0, slippage_bps >= 0, order_size > 0")
        if position_limit < 0 or not ttl_s > 0:
            raise ValueError(f"{name}: need position_limit >= 0 and ttl_s > 0")
        self.feed = feed
        self.threshold_bps = float(threshold_bps)
        self.slippage_bps = float(slippage_bps)
        self.order_size = float(order_size)
        self.position_limit = float(position_limit)
        self.ttl_s = float(ttl_s)
        self.pushes = 0

    def step(self, sim: Simulation) -> None:
        m = self.market
        if sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        last = sim.futures.last_traded_price(m)
        if last is None:
            return
        r = self.feed.price
        th = self.threshold_bps / 10_000
        slip = self.slippage_bps / 10_000
        pos = sim.futures.position(self.name, m)
        if last > r * (1 + th) or last < r * (1 - th):
            sell = last > r
            room = self.position_limit + pos if sell else self.position_limit - pos
            size = min(self.order_size, room)
            if size < self._lot:
                return
            price = r * (1 - slip) if sell else r * (1 + slip)
            res = self.send_with_retry(
                sim,
                "sell" if sell else "buy",
                size,
                price,
                time_in_force="GTT",
                expires_at=sim.now + self.ttl_s,
            )
            self.pushes += res is not None and res.accepted
        elif pos and abs(last / r - 1) < th / 2:
            self.send(
                sim,
                "sell" if pos > 0 else "buy",
                min(abs(pos), self.order_size),
                None,
                order_type="MARKET",
                time_in_force="IOC",
                reduce_only=True,
            )
