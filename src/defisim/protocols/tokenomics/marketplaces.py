"""Marketplaces that pay a toll on every sale.

Source: the toll of TokenSPICE's ``MarketplacesAgent`` (spec ``token-netlists.md`` 2.1:
a share of sales goes to the network as revenue, ``ss.networkRevenue``) as a contract:
a sale of price ``p`` (base units of the payment asset), paid by the buyer, sends
``toll = ceil(p * toll_fraction)`` to the toll receiver and ``p - toll`` to the seller.
The toll rounds up (in the toll receiver's favour, as fees in defisim round in the
protocol's favour); ``toll_fraction`` is stored in parts per ``10**18`` (exact from its
decimal text) and lies in ``[0, 1]``. The toll receiver may be a party or a router or
vesting wallet of the same protocol (wsloop: marketplaces pay ``opc_address``, a
router). The marketplace counts sales, volume and tolls per asset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WAD = 10**18


@dataclass(slots=True)
class Marketplace:
    """One marketplace's books."""

    market_id: str
    toll_receiver: str
    toll_wad: int
    sales: int = 0
    volume: dict[str, int] = field(default_factory=dict)
    tolls: dict[str, int] = field(default_factory=dict)

    def toll(self, price: int) -> int:
        """``ceil(price * toll_fraction)``."""
        return -(-price * self.toll_wad // WAD)

    def record_sale(self, asset: str, price: int, toll: int) -> None:
        self.sales += 1
        self.volume[asset] = self.volume.get(asset, 0) + price
        self.tolls[asset] = self.tolls.get(asset, 0) + toll
