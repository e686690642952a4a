"""Agents of AMM pools: MEV around swaps (noise swappers, the sandwich searcher, JIT
liquidity). Each acts through ``sim.amm``, ``sim.pending_transactions()`` and
``sim.send`` only."""

from .jit_lp import JitLiquidityProvider
from .noise_swapper import AmmNoiseSwapper
from .sandwich import SandwichPlan, SandwichSearcher, plan_v2_sandwich

__all__ = [
    "AmmNoiseSwapper",
    "JitLiquidityProvider",
    "SandwichPlan",
    "SandwichSearcher",
    "plan_v2_sandwich",
]
