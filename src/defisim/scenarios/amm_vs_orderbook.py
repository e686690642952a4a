"""``amm_vs_orderbook``: a V3 pool beside a futures order book on the same reference
price, linked (or not) by cross-venue arbitrageurs.

The futures side is the mechanics scenarios' USDT-settled BTC market
(:class:`~defisim.scenarios._mechanics.MechanicsScenario`: market makers quoting around
a GBM reference, takers, noise traders, reference arbitrageurs, opening auction). Next
to it a Uniswap V3 pool WBTC/USDT (8/6 decimals, fee ``pool_fee``) created at the first
reference price and funded by a :class:`~defisim.agents.amm.PassiveLiquidityProvider`
(``pool_value`` USDT, range ``+-pool_range_pct``). Nobody else trades the pool: only
``cross_arb_count`` :class:`~defisim.agents.amm.AmmFuturesArbitrageur` move it, buying on
the cheaper venue and selling on the other when the gap pays the pool fee and the
futures taker fee, hedged and within a futures position limit. With
``cross_arb_count=0`` the pool stays at its first price while the book follows the
reference: the gap between venues is what the arbitrageurs close.

KPIs (besides the common ones of the mechanics scenarios): ``pool_price`` (USDT per
BTC), ``gap_bps`` (|pool / futures mid - 1|, bps; NaN without a two-sided book),
``gap_bps_mean``, ``gap_bps_max``, ``cross_arb_volume`` (BTC on the pool),
``cross_arb_volume_quote`` (USDT), ``cross_arb_profit`` (USDT locked in by hedged
round trips), ``cross_arb_position`` (futures, BTC), ``pool_lp_fees`` (USDT at the
reference), ``pool_lvr`` (USDT; LVR as in ``amm_arbitrage``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents.amm import AmmFuturesArbitrageur, PassiveLiquidityProvider

from ._mechanics import MechanicsParams, MechanicsScenario
from ._reference import gbm_reference
from ._zoo import ASSET, ASSET_DECIMALS
from .amm_arbitrage import PoolTally
from .base import PoolBackendParams, register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-AMM"
BASE = "WBTC"
BASE_DECIMALS = 8
NAN = float("nan")


class AmmVsOrderbookParams(MechanicsParams, PoolBackendParams):
    """Parameters of ``amm_vs_orderbook`` (USDT, BTC, seconds; see :class:`MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps (default 480: 8 hours of one-minute steps)."""
    mu: float = 0.0
    """Annualised drift of the GBM reference."""
    pool_fee: int = Field(500, description="V3 fee tier, pips")
    """V3 fee tier of the pool, pips (100, 500, 3000, 10000)."""
    pool_value: float = Field(2_000_000.0, gt=0)
    """USDT value the passive LP deposits (half in WBTC)."""
    pool_range_pct: float | None = Field(0.2, gt=0, lt=1)
    """The LP's range around the first price (``None``: full range)."""
    cross_arb_count: int = Field(1, ge=0)
    """Cross-venue arbitrageurs (0: the venues are not linked)."""
    cross_arb_collateral: float = Field(1_000_000.0, gt=0)
    """USDT each (pool budget and futures margin)."""
    cross_arb_inventory: float = Field(5.0, ge=0)
    """WBTC each."""
    cross_arb_max_trade: float = Field(0.25, gt=0)
    """Most BTC per pool leg."""
    cross_arb_position_limit: float = Field(5.0, gt=0)
    """Largest absolute futures position, BTC."""
    cross_arb_threshold_bps: float = Field(2.0, ge=0)
    """Extra edge required beyond the fees, bps."""


@register
class AmmVsOrderbook(MechanicsScenario):
    """A V3 pool beside a futures book, with cross-venue arbitrageurs (module doc)."""

    name = "amm_vs_orderbook"
    description = (
        "A WBTC/USDT V3 pool beside a BTC futures order book on one reference price, "
        "linked by cross-venue arbitrageurs: gap between venues, arb volume and profit."
    )
    Params = AmmVsOrderbookParams
    protocols = ("governance", "futures", "amm")
    market_id = MARKET_ID
    default_steps = 480

    def __init__(self, params: AmmVsOrderbookParams | None = None) -> None:
        super().__init__(params)
        if self.params.pool_fee not in (100, 500, 3000, 10000):
            raise ValueError(f"pool_fee must be 100, 500, 3000 or 10000, got "
                             f"{self.params.pool_fee}")
        self.pool_id = ""
        self.cross_arbs: list[AmmFuturesArbitrageur] = []
        self.pool_tally: PoolTally | None = None
        self._gaps: list[float] = []

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        return gbm_reference(sim, self.params, max(n, 2), self.step_seconds)

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """The pool, its passive LP and the cross-venue arbitrageurs."""
        p: AmmVsOrderbookParams = self.params  # type: ignore[assignment]
        s0 = float(feed.path.prices[0])
        sim.create_asset(BASE, BASE_DECIMALS)
        self.pool_id = sim.amm.create_v3_pool(BASE, ASSET, fee=p.pool_fee, price=s0)
        v = sim.amm.pool_view(self.pool_id)
        dec = {BASE: BASE_DECIMALS, ASSET: ASSET_DECIMALS}
        self.pool_tally = PoolTally({self.pool_id: (v.assets[0], v.assets[1], v.fee,
                                                    10.0 ** dec[v.assets[0]],
                                                    10.0 ** dec[v.assets[1]])}, BASE)
        self._gaps = []
        lp = PassiveLiquidityProvider("pool_lp", self.pool_id, base=BASE, quote=ASSET,
                                      amount_base=p.pool_value / 2 / s0,
                                      amount_quote=p.pool_value / 2,
                                      range_pct=p.pool_range_pct, reference=feed)
        self.lp = lp
        self.cross_arbs = [
            AmmFuturesArbitrageur(
                f"cross_arb_{i}", self.pool_id, self.market_id, base=BASE, quote=ASSET,
                collateral=p.cross_arb_collateral, inventory_base=p.cross_arb_inventory,
                max_trade=p.cross_arb_max_trade, position_limit=p.cross_arb_position_limit,
                threshold_bps=p.cross_arb_threshold_bps)
            for i in range(p.cross_arb_count)
        ]
        return [lp, *self.cross_arbs]

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        ref = self.feed.price
        self.pool_tally.update(sim, ref)
        price = sim.amm.pool_view(self.pool_id).price_of(BASE)
        mid = sim.futures.market_view(self.market_id).mid
        gap = abs(price / mid - 1) * 1e4 if mid else NAN
        if not math.isnan(gap):
            self._gaps.append(gap)
        gaps = self._gaps
        a = self.cross_arbs
        return {
            "pool_price": price,
            "gap_bps": gap,
            "gap_bps_mean": sum(gaps) / len(gaps) if gaps else NAN,
            "gap_bps_max": max(gaps) if gaps else NAN,
            "cross_arb_volume": sum(x.volume for x in a),
            "cross_arb_volume_quote": sum(x.volume_quote for x in a),
            "cross_arb_profit": sum(x.profit for x in a),
            "cross_arb_position": sum(sim.futures.position(x.name, self.market_id) for x in a),
            "pool_lp_fees": self.pool_tally.fees[self.pool_id],
            "pool_lvr": self.pool_tally.lvr[self.pool_id],
        }
