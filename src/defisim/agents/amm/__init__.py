"""Agents around AMM pools. Each acts through ``sim.amm``, ``sim.pending_transactions()``
and ``sim.send`` only.

- :mod:`.arbitrageur`: :class:`AmmArbitrageur` (trades a V2 or V3 pool back to a
  reference price when the gap pays fee and gas; closed forms :func:`v2_arbitrage`,
  :func:`v3_arbitrage`), :class:`AmmFuturesArbitrageur` (pool against a futures book),
  :class:`FuturesMarkReference` (a futures mark price as the reference).
- :mod:`.liquidity`: :class:`PassiveLiquidityProvider` (deposit once: V2, V3 full or
  fixed range) and :class:`RecenteringLiquidityProvider` (a V3 range kept around the
  price), with fees and impermanent loss versus holding.
- :mod:`.noise_swapper`: :class:`AmmNoiseSwapper` (lognormal sizes, both directions).
- :mod:`.sandwich` and :mod:`.jit_lp`: MEV around pending swaps
  (:class:`SandwichSearcher`, :class:`JitLiquidityProvider`).
- :mod:`.historic_flow`: :class:`HistoricPoolFlow` (a real day's pool events as
  transactions).
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
from .historic_flow import HistoricPoolFlow, liquidity_profile
from .jit_lp import JitLiquidityProvider
from .liquidity import (
    PassiveLiquidityProvider,
    RecenteringLiquidityProvider,
    full_range_ticks,
    range_ticks,
)
from .noise_swapper import AmmNoiseSwapper
from .sandwich import SandwichPlan, SandwichSearcher, plan_v2_sandwich

__all__ = [
    "AmmArbitrageur",
    "AmmFuturesArbitrageur",
    "AmmNoiseSwapper",
    "ArbTrade",
    "FuturesMarkReference",
    "HistoricPoolFlow",
    "JitLiquidityProvider",
    "PassiveLiquidityProvider",
    "RecenteringLiquidityProvider",
    "SandwichPlan",
    "SandwichSearcher",
    "full_range_ticks",
    "liquidity_profile",
    "plan_v2_sandwich",
    "pool_arbitrage",
    "range_ticks",
    "reference_price",
    "v2_arbitrage",
    "v3_arbitrage",
]
