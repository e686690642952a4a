"""Agents and the agent zoo.

- :class:`ReferencePriceFeed`: the off-chain reference price (phase 0).
- :class:`AvellanedaStoikovMarketMaker`, :class:`SymmetricMarketMaker`: quoting
  (Avellaneda and Stoikov 2008).
- :class:`PoissonTaker`, :class:`PriceSensitiveTaker`: liquidity takers.
- :class:`InformedTrader`: trades on the future reference price.
- :class:`MomentumTrader`: RSI / MACD signals (``talipp``).
- :class:`NoiseLimitTrader`: random limit orders and cancels.
- :class:`OpeningAuctionTrader`: makes the opening auction uncross at the reference.

Phases: 0 feeds, 1 liquidity providers (market makers, the auction agent),
2 takers and traders, so each step the quotes are refreshed from the new
reference price before anyone takes them.
"""

from .auction import OpeningAuctionTrader
from .base import Agent
from .feeds import ReferencePriceFeed
from .informed import InformedTrader
from .market_makers import (
    AvellanedaStoikovMarketMaker,
    SymmetricMarketMaker,
    avellaneda_stoikov_quotes,
)
from .momentum import MomentumTrader
from .noise import NoiseLimitTrader
from .takers import PoissonTaker, PriceSensitiveTaker
from .trading import MarketAgent, draw_size

__all__ = [
    "Agent",
    "AvellanedaStoikovMarketMaker",
    "InformedTrader",
    "MarketAgent",
    "MomentumTrader",
    "NoiseLimitTrader",
    "OpeningAuctionTrader",
    "PoissonTaker",
    "PriceSensitiveTaker",
    "ReferencePriceFeed",
    "SymmetricMarketMaker",
    "avellaneda_stoikov_quotes",
    "draw_size",
]
