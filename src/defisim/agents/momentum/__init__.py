"""Momentum (technical) traders: one :class:`MomentumTrader` with a choice of indicator
(:mod:`~defisim.agents.momentum.indicators`: RSI, stochastic RSI, APO, MACD, CMO and
the RSI / MACD rule)."""

from .indicators import (
    APO,
    CMO,
    INDICATORS,
    MACD,
    RSI,
    RSIMACD,
    Indicator,
    StochRSI,
    make_indicator,
)
from .trader import MomentumTrader

__all__ = [
    "APO",
    "CMO",
    "INDICATORS",
    "MACD",
    "RSI",
    "RSIMACD",
    "Indicator",
    "MomentumTrader",
    "StochRSI",
    "make_indicator",
]
