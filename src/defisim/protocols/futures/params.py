"""Market parameters (validated with pydantic when a market is created)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .liquidity import LiquidityParams
from .perpetual import PerpetualParams
from .price_monitoring import PriceMonitoringParams


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimpleRiskModel(_Params):
    """Fixed risk factors (spec section 3; used by the test vectors)."""

    kind: Literal["simple"] = "simple"
    factor_long: float = Field(0.1, ge=0, le=1)
    factor_short: float = Field(0.1, ge=0)


class LogNormalRiskModel(_Params):
    """Log-normal model: risk aversion lambda, horizon tau (years), drift mu, rate r, vol sigma."""

    kind: Literal["lognormal"] = "lognormal"
    risk_aversion: float = Field(0.01, gt=0, lt=1)
    tau: float = Field(1.0 / 365.25 / 24, ge=0)
    mu: float = 0.0
    r: float = 0.0
    sigma: float = Field(1.0, ge=0)


RiskModel = Annotated[SimpleRiskModel | LogNormalRiskModel, Field(discriminator="kind")]


class MarginScaling(_Params):
    """Search, initial and release levels as multiples of maintenance (0019-MCAL)."""

    search: float = 1.1
    initial: float = 1.2
    release: float = 1.4

    @model_validator(mode="after")
    def _ordered(self) -> MarginScaling:
        if not 1 <= self.search <= self.initial <= self.release:
            raise ValueError(
                "margin scaling must satisfy 1 <= search <= initial <= release, got "
                f"{self.search}, {self.initial}, {self.release}"
            )
        return self


class FeeFactors(_Params):
    """Fee factors as fractions of trade value (0029-FEES)."""

    maker: float = Field(0.00025, ge=0, le=1)
    infrastructure: float = Field(0.0005, ge=0, le=1)
    liquidity: float = Field(0.0, ge=0, le=1)


class CloseoutParams(_Params):
    """How the network party disposes of closed-out positions (0012-POSR).

    Every ``disposal_time_step_s`` outside auctions it sends an IOC limit order for
    ``min(whole position if <= full_disposal_size else ceil(position *
    disposal_fraction), ceil(max_fraction_consumed * opposite volume within the
    slippage range))``, priced at the edge of ``mid * (1 -/+ slippage_range)``.
    """

    disposal_time_step_s: float = Field(10.0, ge=0)
    full_disposal_size: int = Field(0, ge=0, description="raw position units")
    disposal_fraction: float = Field(0.5, gt=0, le=1)
    max_fraction_consumed: float = Field(0.5, gt=0, le=1)
    slippage_range: float = Field(0.05, gt=0, lt=1)


class MarketConfig(_Params):
    """Everything that defines a cash-settled futures market.

    Units: ``tick_size`` is in raw price units (10^-decimal_places),
    ``decimal_places`` may not exceed the settlement asset's decimals (a price
    unit is worth ``10**(asset decimals - decimal_places)`` base units per
    contract), sizes are in 10^-position_decimal_places contracts.
    """

    market_id: str = Field(min_length=1)
    asset: str = Field(min_length=1)
    decimal_places: int = Field(0, ge=0, le=18)
    tick_size: int = Field(1, ge=1)
    position_decimal_places: int = Field(0, ge=0, le=12)
    risk_model: RiskModel = Field(default_factory=SimpleRiskModel)
    linear_slippage_factor: float = Field(0.1, ge=0)
    quadratic_slippage_factor: float = Field(0.0, ge=0)
    margin_scaling: MarginScaling = Field(default_factory=MarginScaling)
    fees: FeeFactors = Field(default_factory=FeeFactors)
    opening_auction_duration_s: float = Field(1800.0, ge=0)
    mark_price_frequency_s: float = Field(5.0, ge=0)
    closeout: CloseoutParams = Field(default_factory=CloseoutParams)
    price_monitoring: PriceMonitoringParams = Field(default_factory=PriceMonitoringParams)
    price_monitoring_bounds: list[tuple[float, float]] | None = Field(
        None,
        description="model-free (down, up) bound factors per trigger; required with the simple "
        "risk model, optional with the log-normal one (whose mu and sigma give them otherwise)",
    )
    min_auction_duration_s: float = Field(1.0, ge=0, description="shortest price-monitoring auction")
    liquidity: LiquidityParams = Field(default_factory=LiquidityParams)
    perpetual: PerpetualParams | None = Field(
        None, description="funding parameters: the market is a perpetual future (no expiry)"
    )
    trading_termination_s: float | None = Field(
        None, ge=0, description="scheduled trading termination (seconds since the start), or None"
    )

    @model_validator(mode="after")
    def _perpetual_has_no_expiry(self) -> MarketConfig:
        if self.perpetual is not None and self.trading_termination_s is not None:
            raise ValueError("a perpetual market has no trading_termination_s")
        return self

    @model_validator(mode="after")
    def _monitoring_bounds(self) -> MarketConfig:
        n = len(self.price_monitoring.triggers)
        b = self.price_monitoring_bounds
        if b is not None and len(b) != n:
            raise ValueError(f"price_monitoring_bounds has {len(b)} pairs for {n} triggers")
        if n and b is None and self.risk_model.kind != "lognormal":
            raise ValueError("price monitoring with the simple risk model needs price_monitoring_bounds")
        return self
