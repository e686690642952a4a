"""``simplepool``: TokenSPICE's one-publisher Ocean V3 pool netlist
(``../shared/specs/token-netlists.md`` 4.3; TokenSPICE ``netlists/simplepool/netlist.py``).

One publisher ``pub1`` (10 000 OCEAN) with TokenSPICE's *default* ``PublisherStrategy``
(DT_init 1000, DT_stake 20, weights 3/7, create every 7 d, unstake every 3 d, sell DT
every 15 d) on hourly ticks for 20 days (``max_ticks`` 481.0: ticks 0..481, 482 steps),
a row a day (21 rows). Its pools are ``ocean_v3`` Balancer V1 pools of the AMM plug-in
(:mod:`defisim.agents.netlist.ocean`).

Events (a counter reaches X hours at the tick t with t + 1 = X):

- tick 167: create ``pool0`` (1000 DT0 minted, 20 bound at weight 3, 9999 OCEAN bound
  at weight 7, fee 1e-6, 100 BPT) and, in the same step, unstake 10 BPT
  (``exitswapPoolAmountIn``);
- ticks 239 and 311: unstake 10 % of its BPT; tick 335: create ``pool1`` from OCEAN − 1;
- tick 359: sell 1 % of a randomly chosen DT; ticks 383 and 455: unstake 10 % in a
  randomly chosen staked pool. The unstakes of ticks 167–311 draw ``random.choice``
  over one pool (a draw, no choice), so the run is deterministic up to tick 359.

Columns ``publisher_OCEAN`` (float, ``wei/1e18``) and ``n_pools`` (int). Plots (x =
"Day"): ``publisher_OCEAN_LINEAR.png``, ``n_pools_LINEAR.png``.

**Quirk** (kept): TokenSPICE's SimStrategy also defines pool attributes (OCEAN_init
1000, OCEAN_stake 200, DT_init 100, DT_stake 20, weights 3/7) that nothing reads; they
are parameters here too (``unused_*``) and, as there, change nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.netlist.ocean import (
    OCEAN,
    OceanState,
    PublisherAgent,
    PublisherStrategy,
    ocean,
)
from defisim.agents.netlist.wallets import to_base18

from ..base import PoolBackendParams, register
from ..netlist import COUNT, DOLLAR, LINEAR, MULT1, S_DAY, S_HOUR, Netlist, NetlistParams, YParam
from ..netlist.engine import TimeUnit

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation


class SimplePoolParams(NetlistParams, PoolBackendParams):
    """``simplepool``'s SimStrategy (spec 4.3) and the publisher's strategy (spec 2.2
    defaults), every constant a typed parameter."""

    step_seconds: float = Field(S_HOUR, gt=0)
    """Δ, seconds per tick (one hour)."""
    max_time: float = Field(20.0, gt=0)
    """Horizon, in ``max_time_unit`` (``setMaxTime(20, "days")``)."""
    max_time_unit: TimeUnit = "days"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(S_DAY, gt=0)
    """L, seconds: a row before every tick whose time is a multiple (daily)."""
    pub_init_OCEAN: float = Field(10_000.0, ge=0)
    """OCEAN the publisher starts with (OCEAN)."""
    pub_DT_init: float = Field(1000.0, gt=0)
    """DT minted (= cap) per created pool (DT; PublisherStrategy default)."""
    pub_DT_stake: float = Field(20.0, gt=0)
    """DT bound into each new pool (DT)."""
    pub_pool_weight_DT: float = Field(3.0, ge=1, le=50)
    """Denormalised weight of the DT (1 to 50)."""
    pub_pool_weight_OCEAN: float = Field(7.0, ge=1, le=50)
    """Denormalised weight of OCEAN (1 to 50; total at most 50)."""
    pub_s_between_create: float = Field(7 * S_DAY, gt=0)
    """Seconds between pool creations."""
    pub_s_between_unstake: float = Field(3 * S_DAY, gt=0)
    """Seconds between unstakes."""
    pub_s_between_sellDT: float = Field(15 * S_DAY, gt=0)
    """Seconds between DT sales."""
    pool_swap_fee: float = Field(1e-6, ge=1e-6, le=0.1)
    """Swap fee of new pools, a fraction (``BFactory``'s MIN_FEE, 1e12 wei)."""
    unused_OCEAN_init: float = 1000.0
    """SimStrategy ``OCEAN_init`` (OCEAN): **unused**, as in TokenSPICE (quirk)."""
    unused_OCEAN_stake: float = 200.0
    """SimStrategy ``OCEAN_stake`` (OCEAN): **unused** (quirk)."""
    unused_DT_init: float = 100.0
    """SimStrategy ``DT_init`` (DT): **unused** (quirk; the publisher mints ``pub_DT_init``)."""
    unused_DT_stake: float = 20.0
    """SimStrategy ``DT_stake`` (DT): **unused** (quirk)."""
    unused_pool_weight_DT: float = 3.0
    """SimStrategy ``pool_weight_DT``: **unused** (quirk)."""
    unused_pool_weight_OCEAN: float = 7.0
    """SimStrategy ``pool_weight_OCEAN``: **unused** (quirk)."""


def _fee(x: float) -> Decimal:
    return Decimal(repr(float(x)))


@register
class SimplePool(Netlist):
    """TokenSPICE's ``simplepool`` netlist (module docstring)."""

    name = "simplepool"
    description = ("TokenSPICE simplepool: one Ocean V3 publisher creates Balancer DT/OCEAN "
                   "pools every 7 days, unstakes every 3 and sells DT every 15; hourly, 20 days.")
    Params = SimplePoolParams
    protocols = ("governance", "amm")
    x_label = "Day"
    skip_idle = False

    PUBLISHER = "pub1"

    def __init__(self, params: SimplePoolParams | None = None) -> None:
        super().__init__(params)
        self.state = OceanState()
        self.publisher: PublisherAgent | None = None

    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        self.state = OceanState(step_seconds=p.step_seconds)
        sim.create_asset(OCEAN, 18)
        sim.create_party(self.PUBLISHER)
        sim.mint_raw(self.PUBLISHER, OCEAN, to_base18(p.pub_init_OCEAN))
        strategy = PublisherStrategy(
            DT_init=p.pub_DT_init, DT_stake=p.pub_DT_stake, pool_weight_DT=p.pub_pool_weight_DT,
            pool_weight_OCEAN=p.pub_pool_weight_OCEAN, s_between_create=p.pub_s_between_create,
            s_between_unstake=p.pub_s_between_unstake, s_between_sellDT=p.pub_s_between_sellDT)
        self.publisher = PublisherAgent(self.PUBLISHER, self.state, self.rng, p.step_seconds,
                                        strategy, swap_fee=_fee(p.pool_swap_fee))
        return [self.publisher]

    def columns(self) -> list[str]:
        return ["publisher_OCEAN", "n_pools"]

    def row(self, sim: Simulation) -> list[Any]:
        return [ocean(sim, self.PUBLISHER), len(self.state.pools)]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 4.3: ``publisher_OCEAN`` ("OCEAN"; LINEAR, MULT1, DOLLAR) and ``n_pools``
        ("# pools"; LINEAR, MULT1, COUNT)."""
        return [YParam(["publisher_OCEAN"], ["OCEAN"], "publisher_OCEAN", LINEAR, MULT1, DOLLAR),
                YParam(["n_pools"], ["# pools"], "n_pools", LINEAR, MULT1, COUNT)]
