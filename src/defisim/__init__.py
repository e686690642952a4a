"""defisim: agent-based simulation of DeFi protocols and token economies.

Start with :class:`defisim.Simulation` (the one API over the null chain and its
protocols) or ``defisim run btc_futures`` on the command line.
"""

__version__ = "0.1.0"

from .chain import InvariantViolation
from .protocols.futures import MarketConfig, OrderStatus, OrderType, Reason, Side, TimeInForce
from .service import Simulation

__all__ = [
    "InvariantViolation",
    "MarketConfig",
    "OrderStatus",
    "OrderType",
    "Reason",
    "Side",
    "Simulation",
    "TimeInForce",
    "__version__",
]
