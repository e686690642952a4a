"""Agents around AMM pools (``sim.amm``).

- :mod:`.arbitrageur`: :class:`AmmArbitrageur` (trades a V2 or V3 pool back to a
  reference price when the gap pays fee and gas; closed forms :func:`v2_arbitrage`,
  :func:`v3_arbitrage`), :class:`AmmFuturesArbitrageur` (pool against a futures book),
  :class:`FuturesMarkReference` (a futures mark price as the reference).
- :mod:`.liquidity`: :class:`PassiveLiquidityProvider` (deposit once: V2, V3 full or
  fixed range) and :class:`RecenteringLiquidityProvider` (a V3 range kept around the
  price), with fees and impermanent loss versus holding.
"""

from .arbitrageur import (
    AmmArbitrageur,
    AmmFuturesArbitrageur,
    ArbTrade,
    FuturesMarkReference,
    pool_arbitrage,
    reference_price,
    v2_arbitrage,
    v3_arbitrage,
)
from .liquidity import (
    PassiveLiquidityProvider,
    RecenteringLiquidityProvider,
    full_range_ticks,
    range_ticks,
)

__all__ = [
    "AmmArbitrageur",
    "AmmFuturesArbitrageur",
    "ArbTrade",
    "FuturesMarkReference",
    "PassiveLiquidityProvider",
    "RecenteringLiquidityProvider",
    "full_range_ticks",
    "pool_arbitrage",
    "range_ticks",
    "reference_price",
    "v2_arbitrage",
    "v3_arbitrage",
]
