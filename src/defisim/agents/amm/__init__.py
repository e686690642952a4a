"""Agents around AMM pools: a real day's flow (:class:`HistoricPoolFlow`), noise swappers,
MEV around swaps (the sandwich searcher, JIT liquidity). Each acts through ``sim.amm``,
``sim.pending_transactions()`` and ``sim.send`` only."""

from .historic_flow import HistoricPoolFlow, liquidity_profile
from .jit_lp import JitLiquidityProvider
from .noise_swapper import AmmNoiseSwapper
from .sandwich import SandwichPlan, SandwichSearcher, plan_v2_sandwich

__all__ = [
    "AmmNoiseSwapper",
    "HistoricPoolFlow",
    "JitLiquidityProvider",
    "SandwichPlan",
    "SandwichSearcher",
    "liquidity_profile",
    "plan_v2_sandwich",
]
