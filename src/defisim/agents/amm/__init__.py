"""Agents around AMM pools: they act through ``sim.amm`` and ``Simulation`` only."""

from .historic_flow import HistoricPoolFlow, liquidity_profile

__all__ = ["HistoricPoolFlow", "liquidity_profile"]
