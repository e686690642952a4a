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
name of spec 5 for everyone. Validation ``random(p)`` with a panel of one.

KPIs (spec 7.2; every step, cumulative since the start, USD unless named):
``requests``, ``topics``, ``deals``, ``completed``, ``acceptance_rate``,
``fill_rate``, ``rounds_to_agreement`` (mean ceil(messages/2)),
``time_to_agreement_s``, ``price_cv.<class>`` and ``price_range.<class>`` ((max -
min)/median), ``price_cv_regions.<class>`` (coefficient of variation of the regions'
median agreed prices, :meth:`ComputeMarketplace.price_cv_regions`),
``utilisation.<cpu|gpu|ram_gib>`` (∫ reserved dt / (capacity x elapsed), running jobs
counted exactly up to the step's time), ``cheat_attempts``,
``cheat_detected``, ``detection_rate``, ``commenced``, ``cheat_rate`` (cheat attempts
per commenced deal), ``false_challenges``, ``timeouts``,
``refunds``, ``collateral_slashed`` (C, token units), ``timeout_forfeited`` (T),
``gas_usd``, ``gas_usd.<role>``, ``gas_share``, ``energy_usd``,
``client_surplus``, ``provider_surplus`` (per collected deal ``V - P - g_c`` and ``P -
energy - amortisation - g_p``, an undetected fake result worth 0 to its client;
adjusted by fees and slashes: a client pays k*f on a correct verdict, gets ``to_client
- (P + D)`` on a slashed deal, whose provider loses C), ``mediation_fees`` (token
units paid to mediators), ``mediator_surplus`` (fees received in USD - the mediators'
gas), ``buyer_share`` (client / (client + provider) surplus; nan while that is <= 0),
``invalid_messages`` and
``invalid.<reason>``; unmet demand: ``unmet_requests`` (published requests whose job
deadline has passed without a deal; jobs timed out are ``timeouts``);
``price_position``: the mean over completed (collected) deals of
``(P - x_min)/(x_max - x_min)``, P the agreed price, x_min the provider's cost floor
when it answered the request, x_max the client's reservation value V (all USD; a deal
with ``x_max - x_min <= 0`` is skipped; nan while none counts); by the region of the
provider's machine: ``deals.<region>``, ``price_median.<region>`` (median agreed
price, token units) and ``utilisation.cpu.<region>``; per role (client, provider, mediator) the mean of the agents'
7.1 metrics ``<role>.cumulative_return``, ``.sharpe``, ``.sortino``, ``.dsr``
(refreshed every ``metric_interval_s``). The negotiation paths (offer prices by
message) are written to ``negotiation_paths.csv`` in the run folder
(:meth:`ComputeMarketplace.negotiation_paths`), with the figures of
:mod:`.compute_plots`: ``negotiation_paths.png``, ``utilisation.png``,
``agent_returns.png``; ``kpis.png`` (the runner's) draws the KPIs.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from defisim.agents.compute.base_fee import EIP1559, OP_STACK_CANYON
from defisim.agents.compute.chain_load import ChainLoadAgent
from defisim.agents.compute.client import CHALLENGE_MODES, ComputeClient
from defisim.agents.compute.coophive import CoophiveClient, CoophiveProvider
from defisim.agents.compute.global_state import GlobalState
from defisim.agents.compute.market import GlobalStateAgent, Market
from defisim.agents.compute.mediator import ComputeMediator
from defisim.agents.compute.policies import POLICIES
from defisim.agents.compute.provider import ComputeProvider
from defisim.chain.fee_market import FeeMarketParams
from defisim.protocols.compute import types as ctypes
from defisim.protocols.compute.events import DealClosed, MediationResolved
from defisim.protocols.compute.schemes.events import MessageRejected
from defisim.protocols.compute.types import Machine

from .base import Scenario, ScenarioParams, register

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

MIXED = ("time_exp", "time_poly", "tit_for_tat", "kalman")
"""The policies ``mixed`` cycles through (agent i takes ``MIXED[i % 4]``)."""

GAS_ACTIONS = ("escrow", "cancel_escrow", "commence", "post_result", "collect", "challenge",
               "mediate", "claim_timeout")


class ComputeMarketplaceParams(ScenarioParams):
    """Parameters of ``compute_marketplace`` (module docstring)."""

    execution: Literal["mempool", "immediate"] = "mempool"
    """``mempool``: each action is a transaction in the next block, paying gas in ETH
    through the chain's EIP-1559 fee market (spec 4.6); ``immediate``: calls execute when
    sent and gas is booked off the ledger at the global state's L2 fee process."""
    ordering: Literal["fifo", "random", "priority"] = "priority"
    step_seconds: float = 2.0
    """Seconds per step = per block (one block per step). Default: 2 in ``mempool``
    (spec 4.6's block time), 1 in ``immediate``."""
    client_eth: float = Field(0.01, ge=0)
    """ETH each client holds for gas (``mempool``)."""
    provider_eth: float = Field(0.01, ge=0)
    mediator_eth: float = Field(0.01, ge=0)
    fee_preset: Literal["eip1559", "op-stack"] = "eip1559"
    """The L2 fee rule (spec 6): EIP-1559 (elasticity 2, denominator 8) or the OP stack
    after Canyon (elasticity 6, denominator 250); gas limit 30M."""
    l2_base_fee_wei: int = Field(10_000_000, gt=0)
    """The L2's first base fee b0 and the background demand's b_ref (spec 6)."""
    min_base_fee_wei: int = Field(0, ge=0)
    wallet_tip_wei: int = Field(1_000_000, ge=0)
    """The default wallet's tip; its fee cap is 2 x base fee + tip (spec 4.6)."""
    background_demand: bool = True
    """Spec 6's background gas in every block before the marketplace's (``mempool``)."""
    sigma_d: float = Field(0.3, ge=0)
    demand_elasticity: float = Field(1.0, ge=0)
    l1_data_fee: bool = False
    """Charge the OP-stack L1 data fee on every compute transaction (spec 4.6;
    ``mempool`` only), at the L1 base fee the system party posts on chain."""
    hours: float = Field(3.0, gt=0)
    """Run length when ``steps`` is not given."""
    n_clients: int = Field(30, ge=1)
    n_providers: int = Field(20, ge=1)
    n_mediators: int = Field(3, ge=1)
    scheme: Literal["compute", "coophive"] = "compute"
    """The message scheme: ``compute`` (spec 2.3) or ``coophive`` (2.2, the agents
    mapped by 2.3's mapping table, :mod:`defisim.agents.compute.coophive`)."""
    client_policy: str = "mixed"
    """``mixed`` or a policy of spec 5 for every client."""
    provider_policy: str = "mixed"
    rate_per_h: float = Field(2.0, ge=0)
    """Job arrivals per client per hour."""
    class_mix: dict[str, float] = Field(default_factory=lambda: {
        "cpu-small": 0.5, "gpu-infer": 0.3, "cpu-large": 0.15, "gpu-train": 0.05})
    gpu_share: float = Field(0.5, ge=0, le=1)
    """Share of providers whose machine has GPUs."""
    gpus_per_machine: int = Field(4, ge=0)
    cpus_per_machine: int = Field(32, ge=1)
    ram_gib_per_machine: float = Field(256.0, gt=0)
    cheater_share: float = Field(0.2, ge=0, le=1)
    cheat_q: float = Field(0.5, ge=0, le=1)
    cheat_policy: Literal["bernoulli", "rational"] = "bernoulli"
    """How would-be cheaters decide (module docstring, spec 4.4)."""
    cheating_multiplier: float | None = Field(None, ge=0)
    """m, USDC per instruction (C = m*N); ``None``: C about ``collateral_factor * V``."""
    collateral_factor: float = Field(2.0, ge=0)
    fake_delay_s: float = Field(30.0, ge=0)
    verification: str = "random"
    check_probability: float = Field(0.3, ge=0, le=1)
    challenge: str = "never"
    p_c: float = Field(0.0, ge=0, le=1)
    client_capital: float = Field(1000.0, ge=0)
    provider_capital: float = Field(1000.0, ge=0)
    mediator_capital: float = Field(100.0, ge=0)
    rerun_s: float = Field(60.0, ge=0)
    metric_interval_s: float = Field(600.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _step_of_mode(cls, data: Any) -> Any:
        # one block per step: 2 s blocks in mempool mode, 1 s steps in immediate
        if isinstance(data, dict) and "step_seconds" not in data \
                and data.get("execution", "mempool") == "immediate":
            data = {**data, "step_seconds": 1.0}
        return data

    @model_validator(mode="after")
    def _l1_needs_mempool(self) -> ComputeMarketplaceParams:
        if self.l1_data_fee and self.execution != "mempool":
            raise ValueError("l1_data_fee needs execution='mempool' (gas paid on chain)")
        return self

    @field_validator("client_policy", "provider_policy")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        if v != "mixed" and v not in POLICIES:
            raise ValueError(f"unknown policy {v!r}; known: mixed, {', '.join(sorted(POLICIES))}")
        return v

    @field_validator("class_mix")
    @classmethod
    def _known_classes(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(ctypes.JOB_CLASSES))
        if bad:
            raise ValueError(f"unknown job class(es) {bad}; known: {sorted(ctypes.JOB_CLASSES)}")
        if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("class_mix needs weights >= 0 with a positive sum")
        return v

    @field_validator("verification")
    @classmethod
    def _known_verification(cls, v: str) -> str:
        if v not in ctypes.VERIFICATIONS:
            raise ValueError(f"unknown verification {v!r}; known: {', '.join(ctypes.VERIFICATIONS)}")
        return v

    @field_validator("challenge")
    @classmethod
    def _known_challenge(cls, v: str) -> str:
        if v not in CHALLENGE_MODES:
            raise ValueError(f"unknown challenge mode {v!r}; known: {', '.join(CHALLENGE_MODES)}")
        return v


def _policy(name: str, i: int) -> str:
    return MIXED[i % len(MIXED)] if name == "mixed" else name


@register
class ComputeMarketplace(Scenario):
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
        market = Market(state, {a: sim.compute.gas(a) for a in GAS_ACTIONS})
        self.market = market
        mediators = [ComputeMediator(f"mediator{i}", market, p.mediator_capital,
                                     rerun_s=p.rerun_s, metric_interval_s=p.metric_interval_s)
                     for i in range(p.n_mediators)]
        names = tuple(m.name for m in mediators)
        providers = [provider_cls(f"provider{i}", market, p.provider_capital, machines=[m],
                                     policy=_policy(p.provider_policy, i),
                                     q=p.cheat_q if self.is_cheater(i) else 0.0,
                                     fake_delay_s=p.fake_delay_s,
                                     cheat_policy=p.cheat_policy,
                                     challenge_p=self.challenge_p(),
                                     metric_interval_s=p.metric_interval_s)
                     for i, m in enumerate(machines)]
        clients = [client_cls(f"client{i}", market, p.client_capital,
                                 policy=_policy(p.client_policy, i), rate_per_h=p.rate_per_h,
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
        self._cursor = sim.event_cursor()
        self._closed: Counter = Counter()
        self._invalid: Counter = Counter()
        self._slashed_c = self._forfeited_t = 0
        self._fees_client: dict[str, float] = {}  # escrow uid -> fees paid out of D, USD
        self._adj = Counter()  # surplus adjustments, USD (kpis(): client/provider/mediator)
        self._fees_tokens = 0
        self._collected: set[str] = set()
        self._agent_kpis: dict[str, float] = {}
        self._next_metrics = 0.0
        return [GlobalStateAgent(market), *system, *mediators, *providers, *clients]

    # -- KPIs --------------------------------------------------------------------------
    def _read_events(self, sim: Simulation) -> None:
        for ev in self._cursor.read():
            if isinstance(ev, MessageRejected):
                self._invalid[ev.reason] += 1
            elif isinstance(ev, DealClosed):
                self._closed[ev.reason] += 1
                t = sim.compute.deal(ev.market).terms
                if ev.reason == "collected":
                    self._collected.add(ev.market)
                elif ev.reason == "slashed":
                    self._slashed_c += t.cheating_collateral
                    usd = self.market.usd
                    # the client's flow over the deal: P + D in, to_client out (its fees
                    # from D, the slash share and any reward included); the provider loses C
                    self._adj["client"] += usd(ev.to_client - t.price - t.client_deposit) \
                        + self._fees_client.pop(ev.market, 0.0)
                    self._adj["provider"] -= usd(t.cheating_collateral)
                elif ev.reason == "refunded":
                    self._forfeited_t += t.timeout_deposit
            elif isinstance(ev, MediationResolved):
                self._closed["mediation." + ev.outcome] += 1
                self._fees_tokens += ev.fees
                self._adj["mediator"] += self.market.usd(ev.fees)
                if ev.outcome == "correct":  # the client pays k*f out of D
                    fee = self.market.usd(ev.fees)
                    self._adj["client"] -= fee
                    self._fees_client[ev.market] = self._fees_client.get(ev.market, 0.0) + fee

    def kpis(self, sim: Simulation) -> dict[str, float]:
        self._read_events(sim)
        b, elapsed = self.market.book, max(sim.now, 1e-9)
        deals = len(b.agreed)
        out: dict[str, float] = {
            "requests": b.requests, "topics": b.topics, "deals": deals,
            "completed": self._closed["collected"],
            "acceptance_rate": deals / b.topics if b.topics else math.nan,
            "fill_rate": deals / b.requests if b.requests else math.nan,
            "rounds_to_agreement": float(np.mean([math.ceil(a[4] / 2) for a in b.agreed]))
            if deals else math.nan,
            "time_to_agreement_s": float(np.mean([a[5] for a in b.agreed])) if deals else math.nan,
            "cheat_attempts": b.cheat_attempts, "cheat_detected": self._closed["slashed"],
            "detection_rate": self._closed["slashed"] / b.cheat_attempts
            if b.cheat_attempts else math.nan,
            "commenced": b.commenced,
            "cheat_rate": b.cheat_attempts / b.commenced if b.commenced else math.nan,
            "false_challenges": b.false_challenges, "timeouts": self._closed["refunded"],
            "refunds": self._closed["refunded"] + self._closed["cancelled"],
            "collateral_slashed": self._slashed_c / 1e6,
            "timeout_forfeited": self._forfeited_t / 1e6,
            "energy_usd": b.energy_usd,
            "invalid_messages": sum(self._invalid.values()),
        }
        gas = sum(b.gas_usd.values())
        out["gas_usd"] = gas
        for role in ("client", "provider", "mediator"):
            out[f"gas_usd.{role}"] = sum(v for (r, _), v in b.gas_usd.items() if r == role)
        out["gas_share"] = gas / b.sum_price_usd if b.sum_price_usd else math.nan
        cs = sum(b.client_surplus) + self._adj["client"]
        ps = sum(b.provider_surplus) + self._adj["provider"]
        out["client_surplus"], out["provider_surplus"] = cs, ps
        out["mediation_fees"] = self._fees_tokens / 1e6
        out["mediator_surplus"] = self._adj["mediator"] - out["gas_usd.mediator"]
        out["buyer_share"] = cs / (cs + ps) if cs + ps > 0 else math.nan  # undefined at <= 0
        reserved, _ = b.reserved_until(sim.now)
        for r in ("cpu", "gpu", "ram_gib"):
            cap = b.capacity[r]
            out[f"utilisation.{r}"] = reserved[r] / (cap * elapsed) if cap else math.nan
        for cls in self.params.class_mix:
            prices = np.array([a[3] for a in b.agreed if a[1] == cls])
            if len(prices) >= 2:
                out[f"price_cv.{cls}"] = float(prices.std(ddof=1) / prices.mean())
                out[f"price_range.{cls}"] = float((prices.max() - prices.min()) / np.median(prices))
        out["unmet_requests"] = sum(d < sim.now for d in b.open_requests.values())
        out["price_position"] = self.price_position()
        out.update(self.region_kpis(sim.now))
        for reason, n in sorted(self._invalid.items()):
            out[f"invalid.{reason}"] = n
        if sim.now >= self._next_metrics:
            self._next_metrics = sim.now + self.params.metric_interval_s
            self._agent_kpis = self.agent_metrics()
        out.update(self._agent_kpis)
        return {k: float(v) for k, v in out.items()}

    def price_position(self) -> float:
        """Spec 7.2's price position: the mean over collected deals of ``(P - x_min) /
        (x_max - x_min)`` (P agreed price, x_min the provider's cost floor at its quote,
        x_max the client's V; USD). Deals with ``x_max - x_min <= 0`` (no bargaining
        range) or no quote are skipped; nan when none is left."""
        b, vals = self.market.book, []
        for a in b.agreed:
            q = b.quotes.get(a[0])
            if a[8] in self._collected and q is not None and a[7] - q[0] > 0:
                vals.append((a[3] - q[0]) / (a[7] - q[0]))
        return float(np.mean(vals)) if vals else math.nan

    def region_kpis(self, now: float) -> dict[str, float]:
        """By the region of the machine the provider quoted on (spec 7.2): ``deals.<r>``,
        ``price_median.<r>`` (median agreed price in token units, nan without deals) and
        ``utilisation.cpu.<r>`` (cpu-seconds reserved from 0 to ``now``, running jobs
        included, / (cpu capacity x ``now``))."""
        b, out = self.market.book, {}
        elapsed = max(now, 1e-9)
        _, reserved_cpu = b.reserved_until(now)
        for region in self.market.regions:
            prices = [a[9] / 1e6 for a in b.agreed
                      if b.quotes.get(a[0], (0.0, None))[1] == region]
            out[f"deals.{region}"] = len(prices)
            out[f"price_median.{region}"] = float(np.median(prices)) if prices else math.nan
            cap = b.capacity_cpu[region]
            out[f"utilisation.cpu.{region}"] = reserved_cpu.get(region, 0.0) / (cap * elapsed) \
                if cap else math.nan
        out.update(self.price_cv_regions())
        return out

    def price_cv_regions(self) -> dict[str, float]:
        """Price dispersion across regions (spec 7.2, "also reported across regions"):
        for each job class of ``class_mix``, ``price_cv_regions.<class>`` = s / mean of
        the regional median agreed prices m_g (token units; the region of the machine
        the provider quoted on; s the sample standard deviation, ddof = 1) over the
        regions with at least one deal of the class. Only classes with deals in >= 2
        regions are reported (like ``price_cv.<class>``)."""
        b = self.market.book
        cached = getattr(self, "_cv_regions", None)
        if cached is not None and cached[0] == len(b.agreed):
            return dict(cached[1])  # no new deal since the last step
        by: dict[str, dict[str, list[float]]] = {}
        for a in b.agreed:
            region = b.quotes.get(a[0], (0.0, None))[1]
            if region is not None:
                by.setdefault(a[1], {}).setdefault(region, []).append(a[9] / 1e6)
        out = {}
        for cls in self.params.class_mix:
            medians = np.array([np.median(p) for p in by.get(cls, {}).values()])
            if len(medians) >= 2:
                out[f"price_cv_regions.{cls}"] = float(medians.std(ddof=1) / medians.mean())
        self._cv_regions = (len(b.agreed), out)
        return dict(out)

    def agent_metrics(self) -> dict[str, float]:
        """Per role, the mean over its agents of their 7.1 metrics (nan-aware)."""
        out = {}
        for role, agents in self.agents.items():
            rows = [a.metrics() for a in agents]
            for key in ("cumulative_return", "sharpe", "sortino", "dsr"):
                vals = [r[key] for r in rows if not math.isnan(r[key])]
                out[f"{role}.{key}"] = float(np.mean(vals)) if vals else math.nan
        return out

    def finish(self, sim: Simulation) -> None:
        self._next_metrics = 0.0  # the final record refreshes the agents' metrics

    def negotiation_paths(self) -> list[tuple[str, int, str, float]]:
        """Every price message of every topic an agent saw: ``(topic, seq, sender role,
        price USD)``, by topic then seq."""
        return [(t, *row) for t, rows in sorted(self.market.book.paths.items())
                for row in sorted(rows)]

    def topic_classes(self) -> dict[str, str]:
        """Topic -> job class of every topic with a price message (topics are
        ``request_id/provider``, the request id the client's job id)."""
        jobs = {jid: req.job.job_class for c in self.agents["client"]
                for jid, req in c.requests.items()}
        return {t: jobs[t.rpartition("/")[0]] for t in self.market.book.paths
                if t.rpartition("/")[0] in jobs}

    def after_run(self, result) -> None:
        """Write ``negotiation_paths.csv`` and the figures of :mod:`.compute_plots`
        (``negotiation_paths.png``, ``utilisation.png`` from the run store's KPIs,
        ``agent_returns.png``) into the run folder; their names join ``result.plots``."""
        if result.out_dir is None:
            return
        import csv

        from defisim.store import open_store

        from . import compute_plots as cp

        out = result.out_dir
        with open(out / "negotiation_paths.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["topic", "seq", "sender", "price_usd"])
            w.writerows(self.negotiation_paths())
        series = cp.path_series(self.negotiation_paths(), self.topic_classes(), self.market.c_ref,
                                (a[0] for a in self.market.book.agreed))
        drawn = [cp.draw_negotiation_paths(out / "negotiation_paths.png", series)]
        db = out / "run.duckdb"
        if db.exists():
            with open_store(db) as store:
                rows = store.query("SELECT time_s, name, value FROM kpis WHERE market IS NULL "
                                   "AND name LIKE 'utilisation.%' ORDER BY step")
            drawn.append(cp.draw_utilisation(out / "utilisation.png",
                                             *cp.utilisation_series(rows)))
        drawn.append(cp.draw_agent_returns(out / "agent_returns.png",
                                           cp.return_series(self.agents)))
        result.plots = [*result.plots, *(p.name for p in drawn)]
