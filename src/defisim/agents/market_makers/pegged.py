"""The pegged market maker: joins the best bid and the best ask with pegged orders
(``peg_reference="BEST_BID"/"BEST_ASK"``, offset 0) that the matching engine moves with
the touch (spec 0037-OPEG).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation


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
