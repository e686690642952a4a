"""Market makers: quoting strategies that keep a bid and an ask (or a shaped book) on
the market.

- :mod:`.avellaneda_stoikov`: :class:`AvellanedaStoikovMarketMaker` and its
  inventory-blind :class:`SymmetricMarketMaker` (Avellaneda and Stoikov 2008);
- :mod:`.glft`: :class:`GLFTMarketMaker` (Gueant, Lehalle, Fernandez-Tapia 2013);
- :mod:`.exponential_book`: :class:`ExponentialBookMarketMaker`, an exponentially
  shaped book around the reference;
- :mod:`.background`: :class:`BackgroundMarket`, an exponential book on its own
  regime-switching price path;
- :mod:`.pegged`: :class:`PeggedMarketMaker`, pegged orders at the touch;
- :mod:`.hedged`: :class:`HedgedMarketMaker`, quotes one market, hedges on another.
"""

from .avellaneda_stoikov import (
    AvellanedaStoikovMarketMaker,
    SymmetricMarketMaker,
    avellaneda_stoikov_quotes,
)
from .background import BackgroundMarket, Regime
from .exponential_book import ExponentialBookMarketMaker, exponential_profile
from .glft import (
    GLFTMarketMaker,
    glft_asymptotic_half_spreads,
    glft_finite_half_spreads,
    glft_value_vector,
)
from .hedged import HedgedMarketMaker
from .pegged import PeggedMarketMaker

__all__ = [
    "AvellanedaStoikovMarketMaker",
    "BackgroundMarket",
    "ExponentialBookMarketMaker",
    "GLFTMarketMaker",
    "HedgedMarketMaker",
    "PeggedMarketMaker",
    "Regime",
    "SymmetricMarketMaker",
    "avellaneda_stoikov_quotes",
    "exponential_profile",
    "glft_asymptotic_half_spreads",
    "glft_finite_half_spreads",
    "glft_value_vector",
]
