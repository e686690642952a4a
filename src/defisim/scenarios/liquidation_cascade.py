"""``liquidation_cascade``: leveraged longs in a falling market, closed out one after another.

One USDT-settled BTC futures market without price monitoring (by default, so
nothing pauses the cascade). The reference price is calm, then falls by
``fall_return`` (default -25 %) over ``fall_s`` seconds, then is calm again
(:func:`defisim.prices.regime_path`: three GBM regimes). ``degen_count`` leveraged
longs (:class:`~defisim.agents.LeveragedTrader`) build positions in the calm
regime at leverage fractions spread over ``[degen_leverage_min,
degen_leverage_max]`` of the maximum the margin rules allow, so the fall reaches
their closeout levels one after another.

Mechanics shown (spec ``../shared/specs/futures-market.md`` sections 5 and 6):

- each distressed long is closed out: its position moves to the network party
  at the mark price and its remaining margin goes to the insurance pool;
- the network party disposes of what it holds with IOC orders into the bids
  every ``disposal_time_step_s`` (at most ``disposal_fraction`` of its position
  and ``disposal_max_fraction_consumed`` of the bid volume within
  ``disposal_slippage_range`` of the mid), which pushes the price down and can
  close out the next long (the market makers quote around the reference, so
  the impact lasts until the next trade; with ``mm_price_source="mid"`` they
  follow the book instead);
- the network's losses on what it still holds are paid from the insurance pool;
  when the pool runs dry the winners of the mark-to-market get less (loss
  socialisation, ``LossSocialised`` events).

KPIs (besides the common ones): ``degens_closed_out``, ``degens_open``
(positions still open), ``closeout_volume`` and ``disposal_volume`` (BTC,
cumulative), ``insurance_pool_peak`` (USDT).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from defisim.agents import LeveragedTrader
from defisim.prices import SECONDS_PER_YEAR, regime_path

from ._mechanics import MechanicsParams, MechanicsScenario
from ._zoo import leveraged_traders, price_monitoring_config, spread_evenly
from .base import register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-FUT"


class LiquidationCascadeParams(MechanicsParams):
    """Parameters of ``liquidation_cascade`` (USDT, BTC, seconds; see :class:`MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 1,440: 12 hours of 30-second steps)."""
    step_seconds: float = Field(30.0, gt=0)
    sigma: float = Field(0.5, ge=0)
    """Annualised volatility of the calm regimes."""

    # reference path
    calm_s: float = Field(3 * 3600.0, gt=0)
    """Length of the first calm regime (seconds)."""
    fall_s: float = Field(4 * 3600.0, gt=0)
    """Length of the fall (seconds)."""
    fall_return: float = Field(-0.25, gt=-1)
    """Drift of the fall as a total relative move (-0.25: a 25 % fall, noise aside)."""
    fall_sigma: float = Field(0.8, ge=0)
    """Annualised volatility during the fall."""

    # market makers quote around the reference (``"mid"``: around the book's mid, so
    # the disposal's impact stays; the market can then drift far from the reference)
    mm_price_source: Literal["reference", "mid"] = "reference"
    mm_order_size: float = Field(0.15, gt=0)
    """BTC per quote level (a thin book)."""
    mm_max_inventory: float = Field(10.0, ge=0)
    price_monitoring_triggers: list[tuple[int, float, int]] = Field(default_factory=list)
    """(horizon s, probability, extension s) triggers; none by default."""

    # network disposal (0012-POSR)
    disposal_time_step_s: float = Field(120.0, ge=0)
    """Seconds between the network party's disposal orders."""
    disposal_fraction: float = Field(0.1, gt=0, le=1)
    """Largest share of its position the network sells per disposal order."""
    disposal_max_fraction_consumed: float = Field(0.1, gt=0, le=1)
    """Largest share of the bid volume within the slippage range taken per order."""
    disposal_slippage_range: float = Field(0.02, gt=0, lt=1)
    """Disposal orders sell down to mid x (1 - range)."""

    # leveraged longs
    degen_count: int = Field(16, ge=0)
    degen_collateral: float = Field(1_000.0, gt=0)
    """USDT each."""
    degen_leverage_min: float = Field(0.3, gt=0, le=1)
    degen_leverage_max: float = Field(0.9, gt=0, le=1)
    degen_entry_start_s: float = Field(900.0, ge=0)
    """Entries spread evenly over [degen_entry_start_s, 0.8 calm_s] (seconds)."""


@register
class LiquidationCascade(MechanicsScenario):
    """Leveraged longs closed out in a falling market (module doc)."""

    name = "liquidation_cascade"
    description = (
        "Leveraged longs in a falling BTC futures market: successive closeouts, network "
        "disposal, the insurance pool draining and loss socialisation."
    )
    Params = LiquidationCascadeParams
    market_id = MARKET_ID
    default_steps = 1440
    auction_agent_every_auction = True

    def __init__(self, params: LiquidationCascadeParams | None = None) -> None:
        self.degens: list[LeveragedTrader] = []
        self._pool_peak = 0.0
        super().__init__(params)

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """Calm, fall, calm GBM regimes drawn from ``sim.rng("reference_price")``."""
        p: LiquidationCascadeParams = self.params  # type: ignore[assignment]
        dt = self.step_seconds
        n = max(n, 4)
        calm = max(1, min(int(round(p.calm_s / dt)), n - 3))
        fall = max(1, min(int(round(p.fall_s / dt)), n - 2 - calm))
        after = max(1, n - 1 - calm - fall)
        years = fall * dt / SECONDS_PER_YEAR
        # drift so that the median move over the fall is fall_return
        mu_fall = math.log1p(p.fall_return) / years + 0.5 * p.fall_sigma**2
        return regime_path(
            dt,
            p.s0,
            [(calm, 0.0, p.sigma), (fall, mu_fall, p.fall_sigma), (after, 0.0, p.sigma)],
            sim.rng("reference_price"),
        )

    def market_config(self) -> dict:
        p: LiquidationCascadeParams = self.params  # type: ignore[assignment]
        cfg = super().market_config()
        cfg["closeout"] = {
            "disposal_time_step_s": p.disposal_time_step_s,
            "disposal_fraction": p.disposal_fraction,
            "max_fraction_consumed": p.disposal_max_fraction_consumed,
            "slippage_range": p.disposal_slippage_range,
        }
        if p.price_monitoring_triggers:
            cfg["price_monitoring"] = price_monitoring_config(p.price_monitoring_triggers)
        return cfg

    def build(self, sim: Simulation) -> list[Agent]:
        p: LiquidationCascadeParams = self.params  # type: ignore[assignment]
        self._pool_peak = 0.0
        agents = super().build(sim)
        for mm in self.market_makers:
            mm.price_source = p.mm_price_source
        return agents

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """Leveraged longs, entries and leverage fractions spread evenly."""
        p: LiquidationCascadeParams = self.params  # type: ignore[assignment]
        n = p.degen_count
        lo, hi = sorted((p.degen_leverage_min, p.degen_leverage_max))
        t0 = p.degen_entry_start_s
        t1 = max(t0, 0.8 * p.calm_s)
        self.degens = leveraged_traders(
            self.market_id,
            feed,
            n,
            leverage=spread_evenly(lo, hi, n, single=hi),
            entry_s=spread_evenly(t0, t1, n),
            name="degen_{i}",
            collateral=p.degen_collateral,
            max_order_size=p.mm_order_size,
        )
        return list(self.degens)

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        d = sim.futures.units(self.market_id).size_factor
        pool = sim.futures.insurance_pool(self.market_id)
        self._pool_peak = max(self._pool_peak, pool)
        return {
            "degens_closed_out": float(sum(a.closed_out for a in self.degens)),
            "degens_open": float(sum(1 for a in self.degens if a.state == "holding")),
            "closeout_volume": self.tally.closeout_size / d,
            "disposal_volume": self.tally.disposal_volume / d,
            "insurance_pool_peak": self._pool_peak,
        }
