"""``oceanv3``: TokenSPICE's Ocean V3 data-market netlist
(``../shared/specs/token-netlists.md`` 4.5; TokenSPICE ``netlists/oceanv3/``).

Five agents on ``ocean_v3`` Balancer V1 pools (:mod:`defisim.agents.netlist.ocean`),
hourly ticks for 19 days (``max_ticks`` 457.0: ticks 0..457, 458 steps), a row every
10 hours (46 rows). Stepping order, declared: ``publisher`` (honest
:class:`~defisim.agents.netlist.ocean.PublisherAgent`), ``consumer``
(:class:`~defisim.agents.netlist.ocean.DataconsumerAgent`), ``stakerSpeculator``,
``speculator``, ``maliciousPublisher``. **TokenSPICE builds them in a Python ``set``**
(spec 1.7): its order is an arbitrary permutation that changes between processes, so
TokenSPICE's output is one of 120 orders; this one is the source order. Every draw
(``random.choice``, ``random.random``) comes from the netlist's seeded
``random.Random``, in TokenSPICE's call order.

Schedule with the declared order (counters start at 0 and grow by one hour a tick):

- publisher: tick 167 creates ``pool0`` (DT0: 100 minted, 50 bound, 4999 OCEAN bound)
  and unstakes 10 % of its BPT; unstakes again at 239, 311, 383, 455; tick 335 creates
  ``pool2``; tick 359 sells 1 % of a random DT;
- maliciousPublisher: tick 239 creates ``pool1``; ticks 359–383 (120 h to 144 h after
  the creation) unstakes 10 % of its BPT and sells 1 % of its DT1 every tick; tick 359
  puts ``pool1`` in ``rugged_pools``;
- consumer: buys 1.0 DT at tick 167, then every 72 ticks (239, 311, 383, 455) while an
  affordable non-rugged pool exists, gives it to the pool's controller and receives
  1.2x its spend; stakerSpeculator every 8 ticks and speculator every 24 ticks from
  tick 167. Consumers and speculators skip rugged pools; publishers do not.

Columns (22): for each of publisher, consumer, stakerSpeculator, speculator,
maliciousPublisher: ``{name}_OCEAN`` (wallet), ``{name}_OCEAN_in_DTs`` (Σ over all pools
of DT held × ``getSpotPrice(OCEAN, DT)/1e18``), ``{name}_OCEAN_in_BPTs`` (Σ BPT share ×
(p·b_DT + b_OCEAN); the int 0 while no pool exists), ``{name}_OCEAN_networth`` (the
sum); then ``n_pools`` and ``n_rugged`` (ints). Plots (x = "Day"):
``Agents_OCEAN_networth_LINEAR.png``, ``Agents_OCEAN_wallet_LINEAR.png``,
``n_pools_LINEAR.png``.

A transaction the pool refuses is rejected (nothing moves) and counted in the agent's
``rejected``; TokenSPICE would abort the run there (see the agents' module).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.netlist.ocean import (
    OCEAN,
    DataconsumerAgent,
    OceanState,
    PublisherAgent,
    PublisherStrategy,
    SpeculatorAgent,
    StakerspeculatorAgent,
    ocean,
    ocean_in_bpts,
    ocean_in_dts,
)
from defisim.agents.netlist.wallets import to_base18

from ..base import PoolBackendParams, register
from ..netlist import COUNT, DOLLAR, LINEAR, MULT1, S_DAY, S_HOUR, Netlist, NetlistParams, YParam
from ..netlist.engine import TimeUnit

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

AGENT_NAMES = ("publisher", "consumer", "stakerSpeculator", "speculator", "maliciousPublisher")
"""The agents, in the declared stepping order and the order of the CSV columns."""


class OceanV3Params(NetlistParams, PoolBackendParams):
    """``oceanv3``'s SimStrategy (spec 4.5), every constant a typed parameter."""

    step_seconds: float = Field(S_HOUR, gt=0)
    """Δ, seconds per tick (one hour)."""
    max_time: float = Field(19.0, gt=0)
    """Horizon, in ``max_time_unit`` (``setMaxTime(19, "days")``)."""
    max_time_unit: TimeUnit = "days"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(10 * S_HOUR, gt=0)
    """L, seconds: a row every 10 hours."""
    publisher_init_OCEAN: float = Field(5000.0, ge=0)
    """Publisher's initial OCEAN (OCEAN)."""
    publisher_DT_init: float = Field(100.0, gt=0)
    """DT minted per pool by the publisher (DT)."""
    publisher_DT_stake: float = Field(50.0, gt=0)
    """DT the publisher binds into each pool (DT)."""
    publisher_pool_weight_DT: float = Field(3.0, ge=1, le=50)
    """Denormalised DT weight of the publisher's pools."""
    publisher_pool_weight_OCEAN: float = Field(7.0, ge=1, le=50)
    """Denormalised OCEAN weight of the publisher's pools."""
    publisher_s_between_create: float = Field(7 * S_DAY, gt=0)
    """Seconds between the publisher's pool creations."""
    publisher_s_between_unstake: float = Field(3 * S_DAY, gt=0)
    """Seconds between the publisher's unstakes."""
    publisher_s_between_sellDT: float = Field(15 * S_DAY, gt=0)
    """Seconds between the publisher's DT sales."""
    consumer_init_OCEAN: float = Field(5000.0, ge=0)
    """Consumer's initial OCEAN (OCEAN)."""
    consumer_s_between_buys: float = Field(3 * S_DAY, gt=0)
    """Seconds between the consumer's purchases."""
    consumer_profit_margin_on_consume: float = Field(0.2, ge=0)
    """The consumer receives (1 + this) x its OCEAN spend from outside (a fraction)."""
    staker_init_OCEAN: float = Field(5000.0, ge=0)
    """Staker-speculator's initial OCEAN (OCEAN)."""
    staker_s_between_speculates: float = Field(8 * S_HOUR, gt=0)
    """Seconds between the staker-speculator's actions."""
    speculator_init_OCEAN: float = Field(5000.0, ge=0)
    """Speculator's initial OCEAN (OCEAN)."""
    speculator_s_between_speculates: float = Field(S_DAY, gt=0)
    """Seconds between the speculator's actions."""
    mal_init_OCEAN: float = Field(5000.0, ge=0)
    """Malicious publisher's initial OCEAN (OCEAN)."""
    mal_DT_init: float = Field(100.0, gt=0)
    """DT minted per pool by the malicious publisher (DT)."""
    mal_DT_stake: float = Field(50.0, gt=0)
    """DT the malicious publisher binds (DT)."""
    mal_pool_weight_DT: float = Field(3.0, ge=1, le=50)
    """Denormalised DT weight of the malicious publisher's pools."""
    mal_pool_weight_OCEAN: float = Field(7.0, ge=1, le=50)
    """Denormalised OCEAN weight of the malicious publisher's pools."""
    mal_s_between_create: float = Field(10 * S_DAY, gt=0)
    """Seconds between the malicious publisher's pool creations."""
    mal_s_between_unstake: float = Field(S_HOUR, gt=0)
    """Seconds between its unstakes (inside the rug window)."""
    mal_s_between_sellDT: float = Field(S_HOUR, gt=0)
    """Seconds between its DT sales (inside the rug window)."""
    mal_s_wait_to_rug: float = Field(5 * S_DAY, ge=0)
    """Seconds after its last creation when the rug window opens and the pool is rugged."""
    mal_s_rug_time: float = Field(S_DAY, ge=0)
    """Length of the rug window, seconds."""
    pool_swap_fee: float = Field(1e-6, ge=1e-6, le=0.1)
    """Swap fee of new pools, a fraction (``BFactory``'s MIN_FEE, 1e12 wei)."""


@register
class OceanV3(Netlist):
    """TokenSPICE's ``oceanv3`` netlist (module docstring)."""

    name = "oceanv3"
    description = ("TokenSPICE oceanv3: publisher, data consumer, staker-speculator, speculator "
                   "and a rug-pulling publisher on Ocean V3 Balancer pools; hourly, 19 days.")
    Params = OceanV3Params
    protocols = ("governance", "amm")
    x_label = "Day"
    skip_idle = False

    def __init__(self, params: OceanV3Params | None = None) -> None:
        super().__init__(params)
        self.state = OceanState()
        self.agents: dict[str, Any] = {}

    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        self.state = st = OceanState(step_seconds=p.step_seconds)
        dt, rng = p.step_seconds, self.rng
        fee = Decimal(repr(float(p.pool_swap_fee)))
        sim.create_asset(OCEAN, 18)
        initial = {"publisher": p.publisher_init_OCEAN, "consumer": p.consumer_init_OCEAN,
                   "stakerSpeculator": p.staker_init_OCEAN,
                   "speculator": p.speculator_init_OCEAN, "maliciousPublisher": p.mal_init_OCEAN}
        for name in AGENT_NAMES:
            sim.create_party(name)
            sim.mint_raw(name, OCEAN, to_base18(initial[name]))
        pub = PublisherStrategy(
            DT_init=p.publisher_DT_init, DT_stake=p.publisher_DT_stake,
            pool_weight_DT=p.publisher_pool_weight_DT,
            pool_weight_OCEAN=p.publisher_pool_weight_OCEAN,
            s_between_create=p.publisher_s_between_create,
            s_between_unstake=p.publisher_s_between_unstake,
            s_between_sellDT=p.publisher_s_between_sellDT, is_malicious=False)
        mal = PublisherStrategy(
            DT_init=p.mal_DT_init, DT_stake=p.mal_DT_stake, pool_weight_DT=p.mal_pool_weight_DT,
            pool_weight_OCEAN=p.mal_pool_weight_OCEAN, s_between_create=p.mal_s_between_create,
            s_between_unstake=p.mal_s_between_unstake, s_between_sellDT=p.mal_s_between_sellDT,
            is_malicious=True, s_wait_to_rug=p.mal_s_wait_to_rug, s_rug_time=p.mal_s_rug_time)
        agents = [
            PublisherAgent("publisher", st, rng, dt, pub, swap_fee=fee),
            DataconsumerAgent("consumer", st, rng, dt, p.consumer_s_between_buys,
                              p.consumer_profit_margin_on_consume),
            StakerspeculatorAgent("stakerSpeculator", st, rng, dt, p.staker_s_between_speculates),
            SpeculatorAgent("speculator", st, rng, dt, p.speculator_s_between_speculates),
            PublisherAgent("maliciousPublisher", st, rng, dt, mal, swap_fee=fee),
        ]
        self.agents = {a.name: a for a in agents}
        return agents

    def columns(self) -> list[str]:
        cols = []
        for name in AGENT_NAMES:
            cols += [f"{name}_OCEAN", f"{name}_OCEAN_in_DTs", f"{name}_OCEAN_in_BPTs",
                     f"{name}_OCEAN_networth"]
        return [*cols, "n_pools", "n_rugged"]

    def row(self, sim: Simulation) -> list[Any]:
        values: list[Any] = []
        for name in AGENT_NAMES:
            wallet = ocean(sim, name)
            in_dts = ocean_in_dts(sim, self.state, name)
            in_bpts = ocean_in_bpts(sim, self.state, name)
            values += [wallet, in_dts, in_bpts, wallet + in_dts + in_bpts]
        return [*values, len(self.state.pools), len(self.state.rugged_pools)]

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        """``rejected_transactions``: pool calls refused so far (TokenSPICE would have
        aborted at the first)."""
        return {"rejected_transactions": float(sum(a.rejected for a in self.agents.values()))}

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 4.5: "Agents OCEAN networth" (LINEAR, MULT1, COUNT), "Agents OCEAN wallet"
        (LINEAR, MULT1, DOLLAR), "n_pools" (LINEAR, MULT1, COUNT)."""
        return [
            YParam([f"{n}_OCEAN_networth" for n in AGENT_NAMES], list(AGENT_NAMES),
                   "Agents OCEAN networth", LINEAR, MULT1, COUNT),
            YParam([f"{n}_OCEAN" for n in AGENT_NAMES],
                   ["publisher", "consumer", "staker", "speculator", "maliciousPublisher"],
                   "Agents OCEAN wallet", LINEAR, MULT1, DOLLAR),
            YParam(["n_pools"], ["# pools"], "n_pools", LINEAR, MULT1, COUNT),
        ]
