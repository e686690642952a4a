"""Vega-style cash-settled futures on a central limit order book.

Rules and test vectors: ``../shared/specs/futures-market.md``.
"""

from .book import OrderBook, PriceLevel
from .events import (
    AuctionEnded,
    AuctionExtended,
    AuctionStarted,
    FundingPeriodEnded,
    LiquidityEpochEnded,
    LiquidityProvisionUpdated,
    LossSocialised,
    MarginLevelsBreached,
    MarketCreated,
    MarketSettled,
    MarketStateChanged,
    MarkPriceUpdated,
    OraclePrice,
    OrderUpdated,
    PositionClosedOut,
    TradeExecuted,
)
from .fees import FeeCalculator
from .liquidity import LiquidityEngine, LiquidityParams
from .margin import MarginCalculator, MarginLevels
from .market import FuturesMarket
from .params import (
    CloseoutParams,
    FeeFactors,
    LogNormalRiskModel,
    MarginScaling,
    MarketConfig,
    SimpleRiskModel,
)
from .perpetual import FundingCalculator, PerpetualParams
from .price_monitoring import PriceMonitor, PriceMonitoringParams, PriceMonitoringTrigger
from .protocol import FuturesProtocol
from .risk import RiskFactors, lognormal_risk_factors
from .state import LiquidityResult, OrderResult, PartyState
from .types import (
    MarketState,
    Order,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    TimeInForce,
    TradeType,
)

__all__ = [
    "LiquidityEngine",
    "LiquidityEpochEnded",
    "LiquidityParams",
    "LiquidityProvisionUpdated",
    "FundingCalculator",
    "FundingPeriodEnded",
    "OraclePrice",
    "PerpetualParams",
    "AuctionEnded",
    "AuctionExtended",
    "AuctionStarted",
    "PriceMonitor",
    "PriceMonitoringParams",
    "PriceMonitoringTrigger",
    "CloseoutParams",
    "FeeCalculator",
    "FeeFactors",
    "FuturesMarket",
    "FuturesProtocol",
    "LogNormalRiskModel",
    "LossSocialised",
    "MarginCalculator",
    "MarginLevels",
    "MarginLevelsBreached",
    "MarkPriceUpdated",
    "MarketConfig",
    "MarketCreated",
    "MarketSettled",
    "MarketState",
    "MarketStateChanged",
    "MarginScaling",
    "Order",
    "OrderBook",
    "LiquidityResult",
    "OrderResult",
    "OrderStatus",
    "OrderType",
    "OrderUpdated",
    "PartyState",
    "PositionClosedOut",
    "PriceLevel",
    "Reason",
    "RiskFactors",
    "Side",
    "SimpleRiskModel",
    "TimeInForce",
    "TradeExecuted",
    "TradeType",
    "lognormal_risk_factors",
]
