"""Events of the futures market."""

from __future__ import annotations

from dataclasses import dataclass

from defisim.chain.events import Event


@dataclass(frozen=True, slots=True)
class MarketCreated(Event):
    market: str
    asset: str
    config: str  # the MarketConfig as JSON


@dataclass(frozen=True, slots=True)
class MarketStateChanged(Event):
    market: str
    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OrderUpdated(Event):
    """An order's new state (accepted, traded, amended, cancelled, expired, stopped, rejected)."""

    market: str
    order_id: int
    party: str
    side: int
    order_type: str
    tif: str
    price: int
    size: int
    remaining: int
    status: str
    reason: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class TradeExecuted(Event):
    """A trade of ``size`` at ``price``. ``aggressor`` is +1 buy, -1 sell, 0 in an auction.

    Fees are what each side paid (base units of the settlement asset).
    """

    market: str
    trade_id: int
    price: int
    size: int
    buyer: str
    seller: str
    aggressor: int
    buy_order: int
    sell_order: int
    trade_type: str
    buyer_fee: int
    seller_fee: int


@dataclass(frozen=True, slots=True)
class MarkPriceUpdated(Event):
    market: str
    price: int


@dataclass(frozen=True, slots=True)
class MarginLevelsBreached(Event):
    """``party`` is distressed: its margin balance is below maintenance after top-up."""

    market: str
    party: str
    maintenance: int
    balance: int


@dataclass(frozen=True, slots=True)
class PositionClosedOut(Event):
    """``party``'s position ``size`` moved to the network party at ``price``; its margin
    balance ``margin_to_insurance`` went to the insurance pool."""

    market: str
    party: str
    size: int
    price: int
    margin_to_insurance: int


@dataclass(frozen=True, slots=True)
class LossSocialised(Event):
    """A mark-to-market or settlement collected less than it owed; ``party`` got ``amount`` less."""

    market: str
    party: str
    amount: int


@dataclass(frozen=True, slots=True)
class AuctionStarted(Event):
    """A price-monitoring auction began; ``triggers`` are the breached trigger indices."""

    market: str
    auction: str
    price: int  # the price that breached the bounds
    triggers: tuple
    end_ns: int


@dataclass(frozen=True, slots=True)
class AuctionExtended(Event):
    """A price-monitoring auction was extended at its scheduled end (the indicative price
    breached a trigger still on)."""

    market: str
    price: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class AuctionEnded(Event):
    market: str
    price: int
    volume: int
    auction: str  # "opening" or "price_monitoring"


@dataclass(frozen=True, slots=True)
class FundingPeriodEnded(Event):
    """A perpetual's funding period ended (0053-PERP). ``funding_payment`` is per whole
    contract in raw price units (> 0: longs pay shorts); ``funding_rate`` is over 10^18."""

    market: str
    seq: int
    start_ns: int
    end_ns: int
    internal_twap: int
    external_twap: int
    funding_payment: int
    funding_rate: int
    skipped: bool
    reason: str


@dataclass(frozen=True, slots=True)
class OraclePrice(Event):
    """An oracle (external) price for ``market``, in raw ticks."""

    market: str
    price: int


@dataclass(frozen=True, slots=True)
class LiquidityProvisionUpdated(Event):
    """A liquidity commitment changed (``what``: the transaction, or ``removed``).
    ``fee`` is fixed-point over 10^18; ``pending_commitment`` is -1 when nothing waits
    for the epoch boundary."""

    market: str
    party: str
    commitment: int
    fee: int
    pending_commitment: int
    what: str


@dataclass(frozen=True, slots=True)
class LiquidityEpochEnded(Event):
    """A liquidity epoch ended: the new fee factor (over 10^18), target and supplied
    stake (base units) and the fees paid to LPs."""

    market: str
    epoch_start: int
    epoch_end: int
    fee_factor: int
    target_stake: int
    supplied_stake: int
    fees_paid: int


@dataclass(frozen=True, slots=True)
class MarketSettled(Event):
    market: str
    price: int
