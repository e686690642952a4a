"""``market_crash``: a regime change in the reference price meets price monitoring and closeouts.

One USDT-settled BTC futures market (as ``btc_futures``: 0.01 USDT tick, 0.001 BTC
lots, log-normal risk model) with price-monitoring triggers (spec
``../shared/specs/futures-market.md`` section 2). The reference price follows a
GBM, then crashes by ``crash_return`` (default -30 %) over ``crash_duration_s``
(default 10 minutes) starting at ``crash_at_s``, then trades with a higher
volatility and a partial rebound (:func:`defisim.prices.crash_path`).

Agents: the common ones of :class:`~defisim.scenarios._mechanics.MechanicsScenario`
(market makers and takers trading around the reference, an auction agent that
also crosses at the reference in price-monitoring auctions so that they uncross
there) and ``degen_count`` leveraged longs (:class:`~defisim.agents.LeveragedTrader`)
at leverage fractions spread over ``[degen_leverage_min, degen_leverage_max]``,
entering before the crash, plus ``degen_short_count`` leveraged shorts.

What it shows: trades and mark prices beyond the bounds start auctions (market
SUSPENDED), extended while the indicative price still breaches a trigger, then
the book uncrosses and the market is ACTIVE again; after the crash the leveraged
longs are closed out to the network party, their margin goes to the insurance
pool and the network disposes of their positions.

KPIs (besides the common ones): ``reference_drawdown`` (fraction below the
running maximum of the reference price), ``degens_closed_out``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import LeveragedTrader

from ._mechanics import MechanicsParams, MechanicsScenario
from ._reference import crash_reference
from ._zoo import leveraged_traders, price_monitoring_config, spread_evenly
from .base import register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-FUT"


class MarketCrashParams(MechanicsParams):
    """Parameters of ``market_crash`` (USDT, BTC, seconds; see :class:`MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 1,440: 12 hours of 30-second steps)."""
    step_seconds: float = Field(30.0, gt=0)

    # reference path
    mu: float = 0.0
    """Annualised drift of the GBM parts."""
    crash_at_s: float = Field(6 * 3600.0, ge=0)
    """When the crash starts (seconds since the start)."""
    crash_duration_s: float = Field(600.0, gt=0)
    """How long the fall lasts (seconds; one step or less is a jump)."""
    crash_return: float = Field(-0.30, gt=-1)
    """Total relative move of the crash (-0.30: a 30 % fall)."""
    sigma_after: float = Field(1.2, ge=0)
    """Annualised volatility from the crash on."""
    rebound: float = Field(0.05, gt=-1)
    """Relative move after the crash (0.05: +5 % of the crashed level)."""
    rebound_duration_s: float = Field(3600.0, ge=0)

    # price monitoring: (horizon seconds, probability, extension seconds)
    price_monitoring_triggers: list[tuple[int, float, int]] = Field(
        default_factory=lambda: [(300, 0.9999, 120), (1800, 0.9999, 300)]
    )
    """Triggers of the log-normal bounds (risk_sigma, 0032-PRIM); ``[]`` switches it off."""
    min_auction_duration_s: float = Field(60.0, ge=0)

    # leveraged traders
    degen_count: int = Field(8, ge=0)
    """Leveraged longs."""
    degen_short_count: int = Field(2, ge=0)
    """Leveraged shorts."""
    degen_collateral: float = Field(2_000.0, gt=0)
    """USDT each."""
    degen_leverage_min: float = Field(0.3, gt=0, le=1)
    """Smallest fraction of the maximum position."""
    degen_leverage_max: float = Field(0.95, gt=0, le=1)
    """Largest fraction of the maximum position."""
    degen_entry_start_s: float = Field(1800.0, ge=0)
    """Entries spread evenly over [degen_entry_start_s, crash_at_s / 2] (seconds)."""


@register
class MarketCrash(MechanicsScenario):
    """A -30 % crash: price-monitoring auctions, closeouts, insurance pool (module doc)."""

    name = "market_crash"
    description = (
        "BTC futures with price monitoring and leveraged traders through a sudden "
        "-30 % crash of the reference price: auctions, closeouts, insurance pool."
    )
    Params = MarketCrashParams
    market_id = MARKET_ID
    default_steps = 1440

    def __init__(self, params: MarketCrashParams | None = None) -> None:
        self.degens: list[LeveragedTrader] = []
        self._peak = 0.0
        super().__init__(params)

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """:func:`~defisim.prices.crash_path` drawn from ``sim.rng("reference_price")``."""
        return crash_reference(sim, self.params, max(n, 2), self.step_seconds)

    def market_config(self) -> dict:
        p: MarketCrashParams = self.params  # type: ignore[assignment]
        cfg = super().market_config()
        cfg["price_monitoring"] = price_monitoring_config(p.price_monitoring_triggers)
        cfg["min_auction_duration_s"] = p.min_auction_duration_s
        return cfg

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """Leveraged longs then shorts, entries and leverage fractions spread evenly."""
        p: MarketCrashParams = self.params  # type: ignore[assignment]
        self._peak = 0.0
        n = p.degen_count + p.degen_short_count
        lo, hi = sorted((p.degen_leverage_min, p.degen_leverage_max))
        t0 = p.degen_entry_start_s
        t1 = max(t0, p.crash_at_s / 2)
        self.degens = leveraged_traders(
            self.market_id,
            feed,
            p.degen_count,
            p.degen_short_count,
            leverage=spread_evenly(lo, hi, n, single=hi),
            entry_s=spread_evenly(t0, t1, n),
            collateral=p.degen_collateral,
        )
        return list(self.degens)

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        dd = float("nan")
        if self.feed is not None:
            price = self.feed.price
            self._peak = max(self._peak, price)
            dd = price / self._peak - 1.0
        return {
            "reference_drawdown": dd,
            "degens_closed_out": float(sum(d.closed_out for d in self.degens)),
        }
