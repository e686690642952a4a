"""``compute_marketplace``: clients, providers and mediators trading compute jobs over
the ``compute`` scheme and protocol (``compute-marketplace.md`` sections 1 to 7).

Execution (spec 4.6, 6): ``mempool`` (the default) makes every agent action a
transaction in the next block, one block per step of ``step_seconds`` (default 2 s),
paid in ETH through the chain's EIP-1559 fee market (:meth:`ComputeMarketplace.fee_market`:
``fee_preset`` rule, b0 ``l2_base_fee_wei``, floor ``min_base_fee_wei``, wallet tip
``wallet_tip_wei`` and fee cap 2 x base fee + tip, fee caps below the base fee and
senders short of gas funds refused before inclusion). Agents hold ``client_eth`` /
``provider_eth`` / ``mediator_eth`` ETH, follow their receipts (the client accepts once
its escrow is in; :mod:`defisim.agents.compute.base`) and book what the chain charged
(the gas KPIs), and W_t counts their ETH at Z's ETH price. A
:class:`~defisim.agents.compute.chain_load.ChainLoadAgent` (phase 0) fills each block
first with spec 6's background demand (``background_demand``, ``sigma_d``,
``demand_elasticity``), so the chain's base fee follows spec 6's process and is the L2
fee of Z_t; with ``l1_data_fee`` it posts the L1 base fee on chain and every compute
transaction pays the OP-stack L1 data fee. ``immediate`` (1-s steps by default) runs
calls when sent, with gas booked off the ledger at the global state's L2 fee process
and a refused call booked at its full gas (the learning environments use it).

Build: a :class:`~defisim.agents.compute.market.GlobalStateAgent` (phase 0) steps the
global state Z_t (section 6: token prices, L1 and L2 base fees -- the L2 fee the
chain's in ``mempool``, its own process in ``immediate`` -- and electricity in
the three regions); ``n_clients`` clients with Poisson arrivals over ``class_mix``,
``n_providers`` providers with one machine each (CPU or GPU, round-robin over the
regions), a share ``cheater_share`` of them cheating with probability ``cheat_q``;
``n_mediators`` mediators. Policies: ``mixed`` cycles through :data:`MIXED`, or one
name of spec 5 for everyone. Validation ``random(p)`` with a panel of one. Clients
value a job at V = c_ref(1 + u), c_ref counting gas at the first L2 base fee or at
``value_base_fee_wei`` (a fee regime the clients did not price in).

KPIs (spec 7.2) and the run folder's extra files (``negotiation_paths.csv`` and the
figures of :mod:`.compute_plots`): :mod:`.compute_kpis`. Parameters:
:class:`~.compute_params.ComputeMarketplaceParams`.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from defisim.agents.compute.base_fee import EIP1559, OP_STACK_CANYON
from defisim.agents.compute.chain_load import ChainLoadAgent
from defisim.agents.compute.client import ComputeClient
from defisim.agents.compute.coophive import CoophiveClient, CoophiveProvider
from defisim.agents.compute.global_state import GlobalState
from defisim.agents.compute.market import GlobalStateAgent, Market
from defisim.agents.compute.mediator import ComputeMediator
from defisim.agents.compute.provider import ComputeProvider
from defisim.chain.fee_market import FeeMarketParams
from defisim.protocols.compute import types as ctypes
from defisim.protocols.compute.types import Machine

from .base import Scenario, register
from .compute_kpis import MarketplaceKpis
from .compute_params import GAS_ACTIONS, MIXED, ComputeMarketplaceParams, policy_of

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

__all__ = ["MIXED", "ComputeMarketplace", "ComputeMarketplaceParams"]


@register
class ComputeMarketplace(MarketplaceKpis, Scenario):
    """The compute marketplace (module docstring)."""

    name = "compute_marketplace"
    description = ("Compute jobs negotiated over the compute scheme and settled by the compute "
                   "protocol: clients, providers (some cheating), mediators; spec 7.2 KPIs")
    Params = ComputeMarketplaceParams
    protocols = ("compute",)
    params: ComputeMarketplaceParams

    def fee_market(self) -> FeeMarketParams | None:
        """The chain's fee market in ``mempool`` mode (spec 4.6, 6): the preset's rule,
        b0, the floor, the wallet's tip, fee caps below the base fee and senders short
        of gas funds refused before inclusion, no ETH endowment (agents get theirs);
        ``None`` in ``immediate`` mode."""
        p = self.params
        if p.execution != "mempool":
            return None
        fields = {"initial_base_fee": p.l2_base_fee_wei, "min_base_fee": p.min_base_fee_wei,
                  "default_tip": p.wallet_tip_wei, "low_fee": "reject", "low_funds": "reject",
                  "endowment": 0.0, "gas_limit": 30_000_000}
        if p.fee_preset == "op-stack":
            return FeeMarketParams.op_stack(**fields)
        return FeeMarketParams(**fields)

    def make_simulation(self, seed: int, check_invariants: bool = True,
                        keep_events: bool = True) -> Simulation:
        """The compute protocol (with the L1 data fee when on) on a chain in the
        execution mode of the parameters, with :meth:`fee_market` in ``mempool``."""
        from defisim.service import Simulation, compute_protocol

        p = self.params
        return Simulation(seed=seed, check_invariants=check_invariants, keep_events=keep_events,
                          protocols=[compute_protocol(l1_data_fee=p.l1_data_fee)],
                          execution=p.execution, ordering=p.ordering,
                          fee_market=self.fee_market())

    def total_steps(self) -> int:
        p = self.params
        return p.steps if p.steps is not None else math.ceil(p.hours * 3600 / p.step_seconds)

    def machines(self) -> list[Machine]:
        """One machine per provider: GPU machines first in each block of providers."""
        p, out = self.params, []
        n_gpu = round(p.gpu_share * p.n_providers)
        regions = ("us-east", "eu-central", "asia-east")
        for i in range(p.n_providers):
            gpu = p.gpus_per_machine if i < n_gpu else 0
            out.append(Machine(f"m{i}", p.cpus_per_machine, gpu, p.ram_gib_per_machine,
                               regions[i % len(regions)]))
        return out

    def is_cheater(self, i: int) -> bool:
        """Provider ``i`` cheats: ``round(cheater_share * n)`` of them, spread evenly."""
        p = self.params
        n_cheat = round(p.cheater_share * p.n_providers)
        return (i * n_cheat) // p.n_providers != ((i + 1) * n_cheat) // p.n_providers

    def challenge_p(self) -> float:
        """The clients' challenge probability, assumed known to rational providers:
        1 (``always``), 0 (``never``) or ``p_c`` (``random``)."""
        p = self.params
        return {"always": 1.0, "never": 0.0}.get(p.challenge, p.p_c)

    def _check_hostable(self, machines: list[Machine]) -> None:
        for name, w in self.params.class_mix.items():
            c = ctypes.JOB_CLASSES[name]
            if w > 0 and not any(m.cpu >= c.cpu and m.gpu >= c.gpu and m.ram_gib >= c.ram_gib
                                 for m in machines):
                raise ValueError(
                    f"job class {name} (cpu {c.cpu}, gpu {c.gpu}, ram {c.ram_gib} GiB) fits no "
                    f"provider machine (largest: cpu {max(m.cpu for m in machines)}, gpu "
                    f"{max(m.gpu for m in machines)}, ram {max(m.ram_gib for m in machines)} "
                    "GiB); drop it from class_mix or enlarge the machines")

    def build(self, sim: Simulation) -> list[Agent]:
        p = self.params
        machines = self.machines()
        self._check_hostable(machines)
        sim.create_asset("USDC", 6)
        fm = sim.fee_market
        if fm is not None:  # ETH pays gas (no endowment: each role is given its own)
            sim.create_asset(fm.native_asset, fm.native_decimals)
        sim.compute.use_scheme(p.scheme)
        coop = p.scheme == "coophive"
        provider_cls = CoophiveProvider if coop else ComputeProvider
        client_cls = CoophiveClient if coop else ComputeClient
        if fm is None:
            state = GlobalState.default(sim.rng)
        else:  # the L2 base fee is the chain's (spec 6)
            rule = OP_STACK_CANYON if p.fee_preset == "op-stack" else EIP1559
            rule = replace(rule, b0=p.l2_base_fee_wei, min_base_fee=p.min_base_fee_wei)
            state = GlobalState.default(sim.rng, l2_rule=rule, l2_from_chain=True)
        market = Market(state, {a: sim.compute.gas(a) for a in GAS_ACTIONS},
                        ref_base_fee_wei=p.value_base_fee_wei)
        self.market = market
        mediators = [ComputeMediator(f"mediator{i}", market, p.mediator_capital,
                                     rerun_s=p.rerun_s, metric_interval_s=p.metric_interval_s)
                     for i in range(p.n_mediators)]
        names = tuple(m.name for m in mediators)
        providers = [provider_cls(f"provider{i}", market, p.provider_capital, machines=[m],
                                     policy=policy_of(p.provider_policy, i),
                                     q=p.cheat_q if self.is_cheater(i) else 0.0,
                                     fake_delay_s=p.fake_delay_s,
                                     cheat_policy=p.cheat_policy,
                                     challenge_p=self.challenge_p(),
                                     metric_interval_s=p.metric_interval_s)
                     for i, m in enumerate(machines)]
        clients = [client_cls(f"client{i}", market, p.client_capital,
                                 policy=policy_of(p.client_policy, i), rate_per_h=p.rate_per_h,
                                 class_mix=dict(p.class_mix), mediators=names,
                                 verification=p.verification,
                                 check_probability=p.check_probability, challenge=p.challenge,
                                 p_c=p.p_c, collateral_factor=p.collateral_factor,
                                 cheating_multiplier=p.cheating_multiplier,
                                 metric_interval_s=p.metric_interval_s)
                   for i in range(p.n_clients)]
        self.agents = {"client": clients, "provider": providers, "mediator": mediators}
        eth = {"client": p.client_eth, "provider": p.provider_eth, "mediator": p.mediator_eth}
        for role, group in self.agents.items():
            for a in group:
                a.eth_capital = eth[role]
        system: list[Agent] = []
        if fm is not None:
            self.chain_load = ChainLoadAgent(market, sigma_d=p.sigma_d, e=p.demand_elasticity,
                                             post_l1=p.l1_data_fee,
                                             background=p.background_demand)
            system.append(self.chain_load)
        self.start_kpis(sim)
        return [GlobalStateAgent(market), *system, *mediators, *providers, *clients]

    def finish(self, sim: Simulation) -> None:
        self._next_metrics = 0.0  # the final record refreshes the agents' metrics
