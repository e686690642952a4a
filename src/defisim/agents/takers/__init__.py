"""Liquidity takers: order flow without a view on the price.

- :mod:`.poisson`: :class:`PoissonTaker`, Poisson market orders;
- :mod:`.price_sensitive`: :class:`PriceSensitiveTaker`, Poisson IOC limit orders a
  random depth beyond the reference;
- :mod:`.noise`: :class:`NoiseLimitTrader`, random limit orders and cancels around
  the mid;
- :mod:`.zero_intelligence`: :class:`ZeroIntelligenceTrader`, Poisson limit/cancel
  arrivals with lognormal offsets and a random time in force;
- :mod:`.leveraged`: :class:`LeveragedTrader`, a position at a fraction of the
  maximum leverage, held until closed out (:func:`max_leverage_size`).
"""

from .leveraged import LeveragedTrader, max_leverage_size
from .noise import NoiseLimitTrader
from .poisson import PoissonTaker
from .price_sensitive import PriceSensitiveTaker
from .zero_intelligence import ZeroIntelligenceTrader

__all__ = [
    "LeveragedTrader",
    "NoiseLimitTrader",
    "PoissonTaker",
    "PriceSensitiveTaker",
    "ZeroIntelligenceTrader",
    "max_leverage_size",
]
