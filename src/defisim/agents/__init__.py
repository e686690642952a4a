"""Agents and the agent zoo, grouped by role.

- :mod:`.base`: :class:`Agent`, the interface (DESIGN.md, "Agents");
  :mod:`.trading`: :class:`MarketAgent`, the party, collateral and order plumbing of
  every trading agent, and :func:`draw_size`.
- :mod:`.feeds`: :class:`ReferencePriceFeed` (the off-chain reference price),
  :class:`OracleAgent` (publishes it on the chain for perpetual funding),
  :class:`OpeningAuctionTrader` (makes the opening auction uncross at the reference),
  :class:`RecorderAgent` (a custom per-step measurement).
- :mod:`.market_makers`: :class:`AvellanedaStoikovMarketMaker` and
  :class:`SymmetricMarketMaker` (Avellaneda and Stoikov 2008), :class:`GLFTMarketMaker`
  (Gueant-Lehalle-Fernandez-Tapia, closed form or the finite-horizon solution),
  :class:`ExponentialBookMarketMaker` (a shaped book), :class:`BackgroundMarket` (a
  regime-switching background book), :class:`PeggedMarketMaker` (at-the-touch pegs),
  :class:`HedgedMarketMaker` (a hedge on a second market).
- :mod:`.liquidity_providers`: :class:`LiquidityProvider`, a bonded liquidity
  commitment and a quote ladder that meets (or misses) its obligation.
- :mod:`.takers`: :class:`PoissonTaker`, :class:`PriceSensitiveTaker` (liquidity
  takers), :class:`NoiseLimitTrader` and :class:`ZeroIntelligenceTrader` (random limit
  orders and cancels), :class:`LeveragedTrader` (a "degen" position at a fraction of
  the maximum leverage).
- :mod:`.informed`: :class:`InformedTrader` (trades on the future reference price),
  :class:`NoisyInformedTrader` (a look-ahead signal right with a given accuracy),
  :class:`ValueTrader` (a noisy, filtered view of the fundamental).
- :mod:`.momentum`: :class:`MomentumTrader`, with a choice of indicator (RSI / MACD,
  RSI, stochastic RSI, APO, MACD via ``talipp``; CMO via ``ta-lib``).
- :mod:`.arbitrageurs`: :class:`ReferenceArbitrageur`, persistent orders that pull the
  traded price back to the reference (they start price-monitoring auctions after a
  jump).
- :mod:`.fuzzers`: :class:`FuzzAgent`, random valid and invalid transactions of every
  kind, and its log, context and generator (``fuzz``).

Phases: 0 feeds, 1 liquidity providers (market makers, the auction agent),
2 takers and traders, so each step the quotes are refreshed from the new
reference price before anyone takes them.
"""

from .arbitrageurs import ReferenceArbitrageur
from .base import Agent
from .feeds import (
    LiveReferencePriceFeed,
    OpeningAuctionTrader,
    OracleAgent,
    RecorderAgent,
    ReferencePriceFeed,
)
from .fuzzers import BlockMarker, FuzzAgent, FuzzContext, TxGenerator, TxLog
from .informed import InformedTrader, NoisyInformedTrader, ValueTrader
from .liquidity_providers import LiquidityProvider
from .market_makers import (
    AvellanedaStoikovMarketMaker,
    BackgroundMarket,
    ExponentialBookMarketMaker,
    GLFTMarketMaker,
    HedgedMarketMaker,
    PeggedMarketMaker,
    Regime,
    SymmetricMarketMaker,
    avellaneda_stoikov_quotes,
    exponential_profile,
    glft_asymptotic_half_spreads,
    glft_finite_half_spreads,
)
from .momentum import MomentumTrader
from .takers import (
    LeveragedTrader,
    NoiseLimitTrader,
    PoissonTaker,
    PriceSensitiveTaker,
    ZeroIntelligenceTrader,
    max_leverage_size,
)
from .trading import MarketAgent, draw_size

__all__ = [
    "Agent",
    "AvellanedaStoikovMarketMaker",
    "BackgroundMarket",
    "BlockMarker",
    "ExponentialBookMarketMaker",
    "FuzzAgent",
    "FuzzContext",
    "GLFTMarketMaker",
    "HedgedMarketMaker",
    "InformedTrader",
    "LeveragedTrader",
    "LiquidityProvider",
    "LiveReferencePriceFeed",
    "MarketAgent",
    "MomentumTrader",
    "NoiseLimitTrader",
    "NoisyInformedTrader",
    "OpeningAuctionTrader",
    "OracleAgent",
    "PeggedMarketMaker",
    "PoissonTaker",
    "PriceSensitiveTaker",
    "RecorderAgent",
    "ReferenceArbitrageur",
    "ReferencePriceFeed",
    "Regime",
    "SymmetricMarketMaker",
    "TxGenerator",
    "TxLog",
    "ValueTrader",
    "ZeroIntelligenceTrader",
    "avellaneda_stoikov_quotes",
    "draw_size",
    "exponential_profile",
    "glft_asymptotic_half_spreads",
    "glft_finite_half_spreads",
    "max_leverage_size",
]
