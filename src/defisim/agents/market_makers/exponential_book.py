"""The exponential-book market maker: resting volume at depth ``d`` from the reference
price proportional to ``exp(-d / scale)``, the average shape of real order books near
the touch (Bouchaud, Mezard, Potters 2002, "Statistical properties of stock order
books: empirical results and models"; the exponential fit of Cont, Stoikov, Talreja
2010 for the first levels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


def exponential_profile(
    total_size: float, levels: int, first_bps: float, spacing_bps: float, scale_bps: float
) -> list[tuple[float, float]]:
    """``(depth_bps, size)`` of each level of one side: depth ``d_i = first_bps + i *
    spacing_bps`` (``i = 0..levels-1``), size ``total_size * exp(-d_i / scale_bps) /
    sum_j exp(-d_j / scale_bps)`` (contracts; the sizes add up to ``total_size``)."""
    if levels < 1 or not total_size > 0 or not scale_bps > 0 or first_bps < 0 or spacing_bps <= 0:
        raise ValueError(
            "need levels >= 1, total_size > 0, scale_bps > 0, first_bps >= 0, spacing_bps > 0"
        )
    d = first_bps + spacing_bps * np.arange(levels)
    w = np.exp(-d / scale_bps)
    w = w / w.sum()
    return [(float(di), float(total_size * wi)) for di, wi in zip(d, w, strict=True)]


class ExponentialBookMarketMaker(MarketAgent):
    """Keeps an exponentially shaped book around the reference price.

    Each step while the market accepts orders, with ``s`` the feed's price: for
    each of ``levels`` levels per side at depth ``d_i = first_bps + i * spacing_bps``
    basis points, a bid at ``s (1 - d_i / 10_000)`` (rounded down to the tick) and
    an ask at ``s (1 + d_i / 10_000)`` (rounded up), of size
    ``total_size * exp(-d_i / scale_bps) / sum_j exp(-d_j / scale_bps)`` contracts
    (:func:`exponential_profile`), so the volume at depth ``d`` is proportional to
    ``exp(-d / scale_bps)``. Unchanged orders are left alone, the rest replaced.
    With ``max_inventory``, the side that would grow ``|position|`` past it is not
    quoted.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (``None`` for subclasses that set :meth:`centre`).
        total_size: contracts per side.
        levels: levels per side.
        first_bps: depth of the first level, basis points of ``s``.
        spacing_bps: distance between levels, basis points.
        scale_bps: the exponential's depth scale, basis points.
        max_inventory: absolute inventory limit, contracts (``None``: none).
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed | None,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        total_size: float = 5.0,
        levels: int = 10,
        first_bps: float = 5.0,
        spacing_bps: float = 5.0,
        scale_bps: float = 20.0,
        max_inventory: float | None = None,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        exponential_profile(total_size, levels, first_bps, spacing_bps, scale_bps)  # validates
        self.feed = feed
        self.total_size = total_size
        self.levels = levels
        self.first_bps = first_bps
        self.spacing_bps = spacing_bps
        self.scale_bps = scale_bps
        self.max_inventory = max_inventory

    def centre(self, sim: Simulation) -> float:
        """The price the book is centred on (the feed's price)."""
        return self.feed.price  # type: ignore[union-attr]

    def scale(self, sim: Simulation) -> float:
        """The depth scale in force, basis points."""
        return self.scale_bps

    def wanted(self, sim: Simulation) -> list[tuple[str, float, float]]:
        s = self.centre(sim)
        pos = sim.futures.position(self.name, self.market)
        prof = exponential_profile(
            self.total_size, self.levels, self.first_bps, self.spacing_bps, self.scale(sim)
        )
        out = []
        for side, sign in (("buy", -1), ("sell", 1)):
            if self.max_inventory is not None and sign * -pos >= self.max_inventory:
                continue
            for d, sz in prof:
                p = sim.futures.round_price(self.market, s * (1 + sign * d / 10_000), side)
                sz = self.size(sim, sz)
                if p > 0 and sz > 0:
                    out.append((side, p, sz))
        return out

    def step(self, sim: Simulation) -> None:
        if not self.trading(sim, self.market):
            return
        self.sync_orders(sim, self.wanted(sim))
