"""``perp_btc``: a BTC perpetual future whose funding ties it to an oracle price.

One USDT-settled BTC perpetual (spec ``../shared/specs/futures-market.md`` section
9, Vega 0053-PERP): no expiry; every ``funding_period_s`` (default 8 hours) the
parties exchange a funding payment per contract equal to the internal (mark
price) TWAP minus the external (oracle) TWAP of the period (positive: longs pay
shorts), plus an optional interest term.

The reference price is a Binance kline CSV (``--prices``, e.g.
``../shared/data/crypto/BTCUSDT_1h.csv``, one step per row) or a seeded GBM path.
An :class:`~defisim.agents.OracleAgent` publishes it on the chain every step
(the external series); market makers quote around it; takers buy with
probability ``taker_buy_prob`` (default 0.55), so the Avellaneda-Stoikov market
maker goes short, skews its quotes up and the mark trades above the oracle
(a reference arbitrageur sells when it is more than ``arb_threshold_bps``
above): funding payments are then mostly positive and flow from longs to
shorts.

KPIs (besides the common ones): ``oracle_price``, ``basis`` (mark minus oracle,
USDT) and ``basis_bps``, ``funding_payment`` (last period, USDT per BTC, > 0:
longs pay), ``funding_rate`` (last period, fraction of the external TWAP),
``funding_estimate`` (the payment if the period ended now), ``funding_periods``,
``funding_cumulative`` (sum of the payments, USDT per BTC held long throughout).

Loading: the price file is read when the scenario is constructed, so a missing
or malformed file fails before a runner writes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import OracleAgent

from ._mechanics import NAN, HourlyStepParams, MechanicsParams, MechanicsScenario
from ._reference import PriceFileParams, PriceFileReference
from .base import register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-PERP"
DEFAULT_STEPS = 2000


# the file (PriceFileParams), the flow rates and opening auction for hourly steps
# (HourlyStepParams), then the common mechanics parameters
class PerpBtcParams(PriceFileParams, HourlyStepParams, MechanicsParams):
    """Parameters of ``perp_btc`` (USDT, BTC, seconds; see :class:`MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run: default 2,000 (capped at the file's rows from ``prices_start``)."""
    step_seconds: float | None = Field(None, gt=0)  # type: ignore[assignment]
    """Seconds per step. ``None``: one step per price row (the file's median interval,
    gaps collapsed), 3600 for GBM; a value resamples the file on that grid."""

    # reference price (price_column, time_column: PriceFileParams)
    prices_file: str | None = None
    """Binance kline CSV (e.g. ``../shared/data/crypto/BTCUSDT_1h.csv``); ``None``: GBM."""
    prices_start: int = Field(0, ge=0)
    """First row of the file used (after resampling)."""
    mu: float = 0.0
    """Annualised drift of the GBM path."""

    # perpetual (0053-PERP)
    funding_period_s: float = Field(8 * 3600.0, gt=0)
    interest_rate: float = Field(0.0, ge=-1, le=1)
    """Yearly rate of the interest term (0: none, as Vega core)."""
    clamp_lower_bound: float = Field(0.0, ge=-1, le=1)
    clamp_upper_bound: float = Field(0.0, ge=-1, le=1)
    margin_funding_factor: float = Field(0.5, ge=0, le=1)
    """Share of the expected funding payment added to maintenance margin."""

    # oracle
    oracle_interval_s: float = Field(0.0, ge=0)
    """Seconds between oracle prices (0: every step)."""
    oracle_noise_bps: float = Field(0.0, ge=0)
    """Noise of the oracle price, basis points."""

    # flow: a buying bias makes the mark trade above the oracle
    taker_buy_prob: float = Field(0.55, ge=0, le=1)
    arb_threshold_bps: float = Field(50.0, gt=0)


@register
class PerpBtc(PriceFileReference, MechanicsScenario):
    """A BTC perpetual with an oracle agent; funding payments follow the basis (module doc)."""

    name = "perp_btc"
    description = (
        "BTC perpetual future (USDT) on a reference price (CSV or GBM) with an oracle "
        "agent: funding payments from the mark-oracle basis every 8 hours."
    )
    Params = PerpBtcParams
    market_id = MARKET_ID
    default_steps = DEFAULT_STEPS
    gbm_steps = DEFAULT_STEPS
    auction_agent_every_auction = False

    def __init__(self, params: PerpBtcParams | None = None) -> None:
        self.oracle: OracleAgent | None = None
        super().__init__(params)

    # ------------------------------------------------------------- preparation
    def file_start_row(self) -> int:
        """``prices_start`` (:meth:`prepare` raises ``ValueError`` when it leaves fewer
        than 2 rows)."""
        return self.params.prices_start  # type: ignore[attr-defined]

    def file_steps(self, rows: int) -> int:
        """``steps`` (default 2,000), capped at the file's rows from ``prices_start`` less one."""
        return min(self.params.steps or DEFAULT_STEPS, rows - 1)

    def market_config(self) -> dict:
        p: PerpBtcParams = self.params  # type: ignore[assignment]
        cfg = super().market_config()
        cfg["perpetual"] = {
            "funding_period_s": p.funding_period_s,
            "interest_rate": p.interest_rate,
            "clamp_lower_bound": p.clamp_lower_bound,
            "clamp_upper_bound": p.clamp_upper_bound,
            "margin_funding_factor": p.margin_funding_factor,
        }
        return cfg

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """The oracle agent (phase 0: the external price is in before anyone trades)."""
        p: PerpBtcParams = self.params  # type: ignore[assignment]
        self.oracle = OracleAgent(
            "oracle",
            self.market_id,
            feed,
            interval_s=p.oracle_interval_s,
            noise_bps=p.oracle_noise_bps,
        )
        return [self.oracle]

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        m = self.market_id
        view = sim.futures.market_view(m)
        f = view.units.price_factor
        tally = self.tally
        oracle = NAN if view.oracle_price is None else view.oracle_price
        mark = NAN if view.mark_price is None else view.mark_price
        est = sim.futures.funding_estimate(m)
        if est is None:
            est = NAN
        return {
            "oracle_price": oracle,
            "basis": mark - oracle,
            "basis_bps": (mark / oracle - 1) * 10_000,
            "funding_payment": tally.last_funding_payment / f,
            "funding_rate": tally.last_funding_rate / 10**18,
            "funding_estimate": est,
            "funding_periods": float(tally.funding_periods),
            "funding_cumulative": tally.funding_sum / f,
        }
