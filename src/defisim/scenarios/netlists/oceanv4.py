"""``oceanv4``: TokenSPICE's **work-in-progress** Ocean V4 netlist, approximated on
Balancer V1 pools (``../shared/specs/token-netlists.md`` 4.6; TokenSPICE
``netlists/oceanv4/``). **There is no reference output**: TokenSPICE's oceanv4 fails
at HEAD (gas funding, a ``TypeError`` on ``DT_cap``, V3 call signatures against the V4
pool), so nothing here can be checked against it, and the numbers are this
approximation's own.

What runs (the V3-compatible parts, with V4's parameters): hourly ticks for 60 days
(``max_ticks`` 1441.0: 1442 steps), a row every 12 hours (121 rows); agents, declared
order (TokenSPICE: a set): ``publisher``
(:class:`~defisim.agents.netlist.ocean.PublisherAgentV4`: one pool at tick 23, a 50/50
pool of OCEAN − 1 against 0.1 DT per OCEAN seeded by the side-staking party
``sideStaking`` that holds the DT cap and half the BPT; vesting of 100 DT over 600
blocks), ``stakerSpeculator`` (every day: unstake 10 % of its BPT or stake 5 % of its
OCEAN with at least 0.1 BPT out) and ``speculator`` (every 3 days: sell 50 % of its DT
or buy 5 DT). The pool is an ``ocean_v3`` Balancer V1 pool with the V4 LP fee (3 %) as
its swap fee.

Not modelled (so not V4): the market fee (1 %) and OPC fee, the side-staking contract's
DT top-ups on single-sided joins and exits, the data NFT, the router and the factory.
The consumer, malicious publisher and buy/sell robot are commented out upstream and
absent here.

Columns: for each of publisher, stakerSpeculator, speculator: ``{name}_OCEAN``,
``_OCEAN_in_DTs``, ``_OCEAN_in_BPTs``, ``_OCEAN_networth``, ``DT_{name}``,
``BPT_{name}`` (ints 0 before the pool); then ``DT_pool``, ``DT_1ss_contract``,
``BPT_total``, ``BPT_1ss_contract``, ``DT_price``, ``pool_OCEAN`` (ints 0 before the
pool), ``n_pools``, ``n_rugged``. Plots: upstream's 8 plot instructions reference the
absent ``consumer_*`` and ``DT_buySellRobot`` columns and fail; here only those whose
columns exist are drawn (networth, wallets, DT and BPT holdings, the pool).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.netlist.ocean import (
    OCEAN,
    OceanState,
    PublisherAgentV4,
    SpeculatorAgent,
    StakerspeculatorAgent,
    bpt_balance,
    dt_balance,
    dt_price,
    ocean,
    ocean_in_bpts,
    ocean_in_dts,
)
from defisim.agents.netlist.wallets import from_base18, to_base18

from ..base import register
from ..netlist import COUNT, DOLLAR, LINEAR, MULT1, S_DAY, S_HOUR, Netlist, NetlistParams, YParam
from ..netlist.engine import TimeUnit

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

AGENT_NAMES = ("publisher", "stakerSpeculator", "speculator")
SIDE_STAKING = "sideStaking"
"""The party standing for V4's ``SideStaking`` contract (the pool's controller)."""


class OceanV4Params(NetlistParams):
    """``oceanv4``'s SimStrategy (spec 4.6) and the V4 pool constants, typed."""

    step_seconds: float = Field(S_HOUR, gt=0)
    """Δ, seconds per tick (one hour)."""
    max_time: float = Field(60.0, gt=0)
    """Horizon, in ``max_time_unit`` (``setMaxTime(60, "days")``)."""
    max_time_unit: TimeUnit = "days"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(12 * S_HOUR, gt=0)
    """L, seconds: a row every 12 hours."""
    publisher_init_OCEAN: float = Field(5000.0, ge=0)
    """Publisher's initial OCEAN (OCEAN)."""
    publisher_DT_cap: float = Field(1000.0, gt=0)
    """DT cap, minted to the side-staking party (DT)."""
    publisher_vested_amount: float = Field(100.0, ge=0)
    """DT vested to the publisher (DT)."""
    publisher_vesting_blocks: int = Field(600, ge=1)
    """Vesting length, blocks (= ticks)."""
    publisher_DT_per_OCEAN: float = Field(0.1, gt=0)
    """DT seeded per OCEAN of initial liquidity (V4's rate, DT/OCEAN)."""
    publisher_s_between_create: float = Field(S_DAY, gt=0)
    """Seconds before its (single) pool creation."""
    publisher_s_between_unstake: float = Field(500 * S_DAY, gt=0)
    """Seconds between unstakes."""
    publisher_s_between_sellDT: float = Field(100 * S_DAY, gt=0)
    """Seconds between DT sales."""
    staker_init_OCEAN: float = Field(5000.0, ge=0)
    """Staker-speculator's initial OCEAN (OCEAN)."""
    staker_s_between_speculates: float = Field(S_DAY, gt=0)
    """Seconds between the staker-speculator's actions."""
    speculator_init_OCEAN: float = Field(5000.0, ge=0)
    """Speculator's initial OCEAN (OCEAN)."""
    speculator_s_between_speculates: float = Field(3 * S_DAY, gt=0)
    """Seconds between the speculator's actions."""
    pool_lp_fee: float = Field(0.03, ge=1e-6, le=0.1)
    """The pool's swap fee: V4's LP fee, a fraction (market and OPC fees not modelled)."""


@register
class OceanV4(Netlist):
    """TokenSPICE's WIP ``oceanv4`` netlist, approximated; no reference (module docstring)."""

    name = "oceanv4"
    description = ("TokenSPICE oceanv4 (WIP upstream, no reference output): a V4-style 50/50 "
                   "side-staked pool approximated on Balancer V1, a staker and a speculator; "
                   "hourly, 60 days.")
    Params = OceanV4Params
    protocols = ("governance", "amm")
    x_label = "Day"
    skip_idle = False

    def __init__(self, params: OceanV4Params | None = None) -> None:
        super().__init__(params)
        self.state = OceanState()
        self.agents: dict[str, Any] = {}

    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        self.state = st = OceanState(step_seconds=p.step_seconds)
        sim.create_asset(OCEAN, 18)
        initial = {"publisher": p.publisher_init_OCEAN, "stakerSpeculator": p.staker_init_OCEAN,
                   "speculator": p.speculator_init_OCEAN}
        for name in (*AGENT_NAMES, SIDE_STAKING):
            sim.create_party(name)
            if name in initial:
                sim.mint_raw(name, OCEAN, to_base18(initial[name]))
        dt, rng = p.step_seconds, self.rng
        agents = [
            PublisherAgentV4("publisher", st, rng, dt, SIDE_STAKING, p.publisher_DT_cap,
                             p.publisher_vested_amount, p.publisher_vesting_blocks,
                             p.publisher_DT_per_OCEAN, p.publisher_s_between_create,
                             p.publisher_s_between_unstake, p.publisher_s_between_sellDT,
                             swap_fee=Decimal(repr(float(p.pool_lp_fee)))),
            StakerspeculatorAgent("stakerSpeculator", st, rng, dt, p.staker_s_between_speculates,
                                  unstake_fraction=0.1, stake_fraction=0.05, min_pool_out=0.1),
            SpeculatorAgent("speculator", st, rng, dt, p.speculator_s_between_speculates,
                            sell_fraction=0.5, buy_amount=5.0),
        ]
        self.agents = {a.name: a for a in agents}
        return agents

    def columns(self) -> list[str]:
        cols = []
        for n in AGENT_NAMES:
            cols += [f"{n}_OCEAN", f"{n}_OCEAN_in_DTs", f"{n}_OCEAN_in_BPTs", f"{n}_OCEAN_networth",
                     f"DT_{n}", f"BPT_{n}"]
        return [*cols, "DT_pool", "DT_1ss_contract", "BPT_total", "BPT_1ss_contract", "DT_price",
                "pool_OCEAN", "n_pools", "n_rugged"]

    def row(self, sim: Simulation) -> list[Any]:
        st = self.state
        pool0 = st.pools[0] if st.pools else None
        values: list[Any] = []
        for n in AGENT_NAMES:
            wallet, in_dts, in_bpts = ocean(sim, n), ocean_in_dts(sim, st, n), ocean_in_bpts(sim, st, n)
            values += [wallet, in_dts, in_bpts, wallet + in_dts + in_bpts]
            values += ([dt_balance(sim, n, pool0.datatoken), bpt_balance(sim, n, pool0)]
                       if pool0 else [0, 0])
        if pool0 is None:
            values += [0, 0, 0, 0, 0, 0]
        else:
            v = sim.amm.pool_view(pool0.pool_id)
            raw = dict(zip(v.assets, v.reserves_raw, strict=True))
            values += [from_base18(raw[pool0.datatoken]),
                       dt_balance(sim, SIDE_STAKING, pool0.datatoken),
                       from_base18(v.lp_supply_raw), bpt_balance(sim, SIDE_STAKING, pool0),
                       dt_price(sim, pool0), from_base18(raw[OCEAN])]
        return [*values, len(st.pools), len(st.rugged_pools)]

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        """``rejected_transactions``: pool calls refused so far."""
        return {"rejected_transactions": float(sum(a.rejected for a in self.agents.values()))}

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """The drawable part of upstream's plots (module docstring)."""
        names = list(AGENT_NAMES)
        return [
            YParam([f"{n}_OCEAN_networth" for n in names], names, "Agents OCEAN networth",
                   LINEAR, MULT1, COUNT),
            YParam([f"{n}_OCEAN" for n in names], names, "Agents OCEAN wallet", LINEAR, MULT1,
                   DOLLAR),
            YParam([f"DT_{n}" for n in names], names, "Agents DT", LINEAR, MULT1, COUNT),
            YParam([f"BPT_{n}" for n in names], names, "Agents BPT", LINEAR, MULT1, COUNT),
            YParam(["DT_pool", "DT_1ss_contract"], ["pool", "1ss contract"], "DT balances",
                   LINEAR, MULT1, COUNT),
            YParam(["BPT_total", "BPT_1ss_contract"], ["total", "1ss contract"], "BPT",
                   LINEAR, MULT1, COUNT),
            YParam(["DT_price"], ["DT price"], "DT price", LINEAR, MULT1, DOLLAR),
            YParam(["pool_OCEAN"], ["OCEAN in pool"], "pool OCEAN", LINEAR, MULT1, DOLLAR),
        ]
