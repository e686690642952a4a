"""Agents and the agent zoo.

- :class:`ReferencePriceFeed`: the off-chain reference price (phase 0).
- :class:`AvellanedaStoikovMarketMaker`, :class:`SymmetricMarketMaker`: quoting
  (Avellaneda and Stoikov 2008).
- :class:`PoissonTaker`, :class:`PriceSensitiveTaker`: liquidity takers.
- :class:`InformedTrader`: trades on the future reference price.
- :class:`MomentumTrader`: RSI / MACD signals (``talipp``).
- :class:`NoiseLimitTrader`: random limit orders and cancels.
- :class:`OpeningAuctionTrader`: makes the opening auction uncross at the reference.
- :class:`FuzzAgent`: random valid and invalid transactions of every kind (``fuzz``).
- :class:`LiquidityProvider`: a bonded liquidity commitment and a quote ladder that
  meets (or misses) its obligation.
- :class:`LeveragedTrader`: a "degen" position at a fraction of the maximum leverage.
- :class:`OracleAgent`: publishes the reference price on the chain (perpetual funding).
- :class:`GLFTMarketMaker`: Gueant-Lehalle-Fernandez-Tapia quotes (closed form or the
  finite-horizon solution).
- :class:`ExponentialBookMarketMaker`, :class:`PeggedMarketMaker`, :class:`HedgedMarketMaker`,
  :class:`BackgroundMarket`: shaped books, at-the-touch pegs, a hedge on a second market,
  a regime-switching background book.
- :class:`IndicatorMomentumTrader`: RSI, stochastic RSI, APO or MACD signals (``talipp``),
  or CMO (``ta-lib``).
- :class:`RecorderAgent`: a custom per-step measurement.
- :class:`ZeroIntelligenceTrader`: Poisson limit/cancel orders with lognormal offsets and
  random time in force; :class:`ValueTrader`: a noisy, filtered view of the fundamental;
  :class:`NoisyInformedTrader`: a look-ahead signal right with a given accuracy.
- :class:`ReferenceArbitrageur`: persistent orders that pull the traded price back to
  the reference (they start price-monitoring auctions after a jump).

Phases: 0 feeds, 1 liquidity providers (market makers, the auction agent),
2 takers and traders, so each step the quotes are refreshed from the new
reference price before anyone takes them.
"""

from .arbitrage import ReferenceArbitrageur
from .auction import OpeningAuctionTrader
from .base import Agent
from .book_makers import (
    BackgroundMarket,
    ExponentialBookMarketMaker,
    HedgedMarketMaker,
    PeggedMarketMaker,
    Regime,
    exponential_profile,
)
from .feeds import ReferencePriceFeed
from .fuzzers import BlockMarker, FuzzAgent, FuzzContext, TxGenerator, TxLog
from .glft import GLFTMarketMaker, glft_asymptotic_half_spreads, glft_finite_half_spreads
from .informed import InformedTrader
from .leveraged import LeveragedTrader, max_leverage_size
from .liquidity_provider import LiquidityProvider
from .market_makers import (
    AvellanedaStoikovMarketMaker,
    SymmetricMarketMaker,
    avellaneda_stoikov_quotes,
)
from .momentum import MomentumTrader
from .noise import NoiseLimitTrader
from .oracle import OracleAgent
from .recorder import RecorderAgent
from .signals import IndicatorMomentumTrader
from .takers import PoissonTaker, PriceSensitiveTaker
from .traders import NoisyInformedTrader, ValueTrader, ZeroIntelligenceTrader
from .trading import MarketAgent, draw_size

__all__ = [
    "BackgroundMarket",
    "ExponentialBookMarketMaker",
    "GLFTMarketMaker",
    "HedgedMarketMaker",
    "IndicatorMomentumTrader",
    "PeggedMarketMaker",
    "RecorderAgent",
    "Regime",
    "exponential_profile",
    "glft_asymptotic_half_spreads",
    "glft_finite_half_spreads",
    "Agent",
    "AvellanedaStoikovMarketMaker",
    "BlockMarker",
    "FuzzAgent",
    "FuzzContext",
    "InformedTrader",
    "LeveragedTrader",
    "LiquidityProvider",
    "MarketAgent",
    "MomentumTrader",
    "NoiseLimitTrader",
    "OpeningAuctionTrader",
    "OracleAgent",
    "PoissonTaker",
    "PriceSensitiveTaker",
    "ReferenceArbitrageur",
    "ReferencePriceFeed",
    "SymmetricMarketMaker",
    "TxGenerator",
    "TxLog",
    "avellaneda_stoikov_quotes",
    "draw_size",
    "max_leverage_size",
    "NoisyInformedTrader",
    "ValueTrader",
    "ZeroIntelligenceTrader",
]
