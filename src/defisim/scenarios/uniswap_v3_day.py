"""``uniswap_v3_day``: a real day of the Uniswap V3 USDC/WETH 0.05 % pool (2024-01-05),
replayed into a simulated pool, with your liquidity added on top.

The pool starts at the state after the file's first swap, with the liquidity that
existed before the day rebuilt from the file (spec ``amm.md`` 4.7: the first swap's
active liquidity and the ``liquidityNet`` inferred for 32 ticks; beyond the outermost
ticks the edge liquidity is assumed to extend ``edge_ticks`` further).
:class:`~defisim.agents.amm.historic_flow.HistoricPoolFlow` then sends every swap, mint
and burn of the day at its block time (swaps as exact input of the amount paid in).

Add LP ranges with ``lp_ranges`` (WETH prices in USDC, e.g. ``[[2200, 2300]]``) and
``lp_capital`` (USDC per range): each is a passive LP that deposits at the start and
holds (:class:`~defisim.agents.amm.liquidity.PassiveLiquidityProvider`, with the token
split the range takes at the starting price), so the run answers "what would my range
have earned on that day". Its liquidity
deepens the pool, so the day's swaps move the price a little less than they did on
chain: ``tracking_bps`` (pool price against the file's price after the same swap) shows
by how much.

KPIs: ``pool_price`` and ``historic_price`` (WETH in USDC), ``tracking_bps`` (and its
running maximum in absolute value, ``tracking_bps_max_abs``),
``swaps_replayed``, ``swaps_rejected``, and per LP ``<lp>.fees_usdc`` (fees earned,
at the pool price), ``<lp>.value_usdc`` (position value + fees), ``<lp>.hold_usdc``
(the deposit held instead), ``<lp>.pnl_vs_hold_usdc`` and ``<lp>.in_range``.

The file is read from ``tick_csv`` (default: ``../shared/data/uniswap_v3/*.tick.csv``
from the working directory); the scenario fails with a clear message without it.
"""

from __future__ import annotations

import glob
import math
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from defisim.agents.amm.historic_flow import HistoricPoolFlow
from defisim.agents.amm.liquidity import PassiveLiquidityProvider, range_deposit
from defisim.agents.base import Agent
from defisim.prices.uniswap_v3_events import SWAP, infer_tick_nets, read_tick_csv

from .base import PoolBackendParams, Scenario, register

if TYPE_CHECKING:
    from defisim.service import Simulation

DEFAULT_GLOB = "../shared/data/uniswap_v3/*.tick.csv"
USDC, WETH = "USDC", "WETH"


class UniswapV3DayParams(PoolBackendParams):
    """Parameters of ``uniswap_v3_day``."""

    tick_csv: str | None = None
    """The day's events (demeter-fetch ``tick.csv``); None: ``../shared/data/uniswap_v3/*.tick.csv``."""
    step_seconds: float = Field(60.0, gt=0)
    """Seconds per step (the day is 1,440 one-minute steps)."""
    fee: int = 500
    """The pool's fee tier in pips (the file's pool: 500 = 0.05 %)."""
    edge_ticks: int = Field(2000, ge=10)
    """How far beyond the outermost inferred tick the edge liquidity is assumed to extend."""
    lp_ranges: list[tuple[float, float]] = Field(default_factory=lambda: [(2150.0, 2300.0)])
    """Your LP ranges: (low, high) WETH prices in USDC; each becomes a passive LP."""
    lp_capital: float = Field(100_000.0, gt=0)
    """USDC value each LP deposits (at the starting price)."""

    @field_validator("lp_ranges")
    @classmethod
    def _ranges(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for lo, hi in v:
            if not (0 < lo < hi and math.isfinite(hi)):
                raise ValueError(f"each LP range needs 0 < low < high, got ({lo}, {hi})")
        return v


def _find_file(path: str | None) -> str:
    if path is not None:
        return path
    found = sorted(glob.glob(DEFAULT_GLOB))
    if not found:
        raise FileNotFoundError(
            f"uniswap_v3_day needs the day's events: pass --set tick_csv=PATH (none found at "
            f"{os.path.abspath(DEFAULT_GLOB)})")
    return found[0]


@register
class UniswapV3Day(Scenario):
    """The real USDC/WETH 0.05 % day replayed into a V3 pool, with LP ranges on top
    (module docstring)."""

    name = "uniswap_v3_day"
    description = ("A real day of the Uniswap V3 USDC/WETH 0.05 % pool (2024-01-05) replayed "
                   "into a simulated pool, with your LP ranges on top: fees, value vs holding, "
                   "tracking of the real price.")
    Params = UniswapV3DayParams
    protocols = ("amm",)

    def __init__(self, params: UniswapV3DayParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        self.events = read_tick_csv(_find_file(p.tick_csv))  # errors before a run folder
        if not self.events.timestamp:
            raise ValueError(f"{self.events.path}: no block_timestamp column")
        swaps = [i for i, k in enumerate(self.events.kind) if k == SWAP]
        if not swaps:
            raise ValueError(f"{self.events.path}: no SWAP rows")
        self.start_row = swaps[0]
        first = self.events.timestamp[self.start_row]
        day = datetime.fromtimestamp(first, UTC).replace(hour=0, minute=0, second=0)
        self.origin_s = int(day.timestamp())
        self.flow: HistoricPoolFlow | None = None
        self.lps: list[PassiveLiquidityProvider] = []
        self.pool_id = ""
        self.tracking_max = 0.0

    def time_origin(self) -> datetime | None:
        return datetime.fromtimestamp(self.origin_s, UTC)

    def total_steps(self) -> int:
        if self.params.steps is not None:
            return self.params.steps
        span = self.events.timestamp[-1] - self.origin_s
        return math.ceil(span / self.params.step_seconds) + 1

    def build(self, sim: Simulation) -> list[Agent]:
        p = self.params
        sim.create_asset(USDC, 6)
        sim.create_asset(WETH, 18)
        ev, i = self.events, self.start_row
        self.pool_id = sim.amm.create_v3_pool(USDC, WETH, p.fee, sqrt_price_x96=ev.sqrt_price_x96[i])
        spacing = sim.amm.pool_view(self.pool_id).tick_spacing
        nets = infer_tick_nets(ev, spacing)
        self.flow = HistoricPoolFlow("history", ev, nets, self.pool_id, i, self.origin_s,
                                     p.edge_ticks, spacing)
        self.lps = []
        for k, (lo, hi) in enumerate(p.lp_ranges):
            weth, usdc = range_deposit(sim, self.pool_id, WETH, lo, hi, p.lp_capital)
            self.lps.append(PassiveLiquidityProvider(
                f"lp{k}", self.pool_id, base=WETH, quote=USDC, amount_base=weth,
                amount_quote=usdc, price_range=(lo, hi)))
        return [self.flow, *self.lps]

    def kpis(self, sim: Simulation) -> dict[str, float]:
        if self.flow is None:
            return {}
        v = sim.amm.pool_view(self.pool_id)
        price = v.price_of(WETH)
        sp = self.flow.last_row_sqrt_price
        historic = 1 / (sp * sp * 10**6 / 10**18 / 2**192)
        tracking = (price / historic - 1) * 1e4
        self.tracking_max = max(self.tracking_max, abs(tracking))
        out = {"pool_price": price, "historic_price": historic, "tracking_bps": tracking,
               "tracking_bps_max_abs": self.tracking_max,
               "swaps_replayed": float(self.flow.swaps_sent),
               "swaps_rejected": float(self.flow.swaps_rejected)}
        for lp in self.lps:
            fees, value, hold = lp.fees(sim, price), lp.value(sim, price), lp.hold_value(sim, price)
            out.update({f"{lp.name}.fees_usdc": fees, f"{lp.name}.value_usdc": value,
                        f"{lp.name}.hold_usdc": hold, f"{lp.name}.pnl_vs_hold_usdc": value - hold,
                        f"{lp.name}.in_range": float(lp.tick_lower <= v.tick < lp.tick_upper)})
        return out


__all__ = ["UniswapV3Day", "UniswapV3DayParams"]
