"""The Uniswap V3 pool core (spec ``amm.md`` section 2): one module per contract library."""

from .events import (
    Burn,
    Collect,
    CollectProtocol,
    Flash,
    IncreaseObservationCardinalityNext,
    Initialize,
    Mint,
    SetFeeProtocol,
    Swap,
)
from .oracle import Oracle
from .pool import FEE_TIER_TICK_SPACING, V3Pool
from .position import PositionInfo
from .tick import TickInfo
from .tick_math import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK

__all__ = [
    "FEE_TIER_TICK_SPACING",
    "MAX_SQRT_RATIO",
    "MAX_TICK",
    "MIN_SQRT_RATIO",
    "MIN_TICK",
    "Burn",
    "Collect",
    "IncreaseObservationCardinalityNext",
    "CollectProtocol",
    "Flash",
    "Initialize",
    "Mint",
    "Oracle",
    "PositionInfo",
    "SetFeeProtocol",
    "Swap",
    "TickInfo",
    "V3Pool",
]
