"""What the compute marketplace's agents share in one run (spec 1, 3, 6, 7.2): the
global state Z_t stepped by a phase-0 agent, the reference costs of the job classes,
and a book of the marketplace KPIs the agents write as they act.

Nothing here acts on the chain: :class:`GlobalStateAgent` only advances
:class:`~.global_state.GlobalState`; agents read ``market.snapshot``.

Costs outside the ledger (a choice, spec 3 and 7.1): electricity and gas are booked
in USD in :class:`MarketBook` and in each agent's own ``cost_usd``, and subtracted from
its portfolio value W_t. In immediate execution gas is valued at the global state's
L2 base fee and ETH price and the ledger holds only the payment token; with the
chain's fee market agents pay gas in ETH on chain and book what their receipts say
(:meth:`Market.book_receipt`), and the global state's L2 base fee is the chain's.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from defisim.agents.base import Agent
from defisim.protocols.compute import types as ctypes
from defisim.protocols.compute.types import Job, JobClass, Machine

from .binding import provider_cost_floor
from .global_state import WEI_PER_ETH, GlobalSnapshot, GlobalState

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["CLIENT_GAS", "PROVIDER_GAS", "GlobalStateAgent", "MarketBook", "Market", "c_ref"]

CLIENT_GAS = ("escrow",)
"""The client's usual transactions of a deal (spec 4.7)."""
PROVIDER_GAS = ("commence", "post_result", "collect")
"""The provider's usual transactions of a deal (spec 4.7)."""
RESOURCES = ("cpu", "gpu", "ram_gib")
"""The resources of spec 3 a job reserves, in :class:`MarketBook`'s order."""


def c_ref(cls: JobClass, mean_electricity: float, gas_units: int, z: GlobalSnapshot) -> float:
    """The reference cost of a job of class ``cls`` (spec 3, "Demand"), USD: energy at
    ``mean_electricity`` (USD/kWh) on a speed-1 default machine, amortisation at the
    default rates, gas of the deal's usual transactions (``gas_units``) at Z's L2 base
    fee and ETH price."""
    job = Job("ref", "ref", cls.name, cls.cpu, cls.gpu, cls.ram_gib, cls.duration_s,
              cls.instruction_count, 0.0)
    m = Machine("ref", cls.cpu, cls.gpu, cls.ram_gib, "ref")
    return provider_cost_floor(job, m, electricity_usd_per_kwh=mean_electricity,
                               gas_units=gas_units, base_fee_wei=z.l2_base_fee,
                               eth_usd=z.prices["ETH"])


@dataclass
class MarketBook:
    """Counters and samples of spec 7.2, written by the agents (USD unless named).

    ``commenced``: deals a provider commenced (locked T). ``agreed``: one row per deal
    ``(topic, job_class, provider, price_usd, messages, seconds_to_agreement, c_ref, V,
    escrow_uid, price)`` (``messages``: price messages up to the accepted one, request
    included; ``V`` the client's reservation value x_max in USD; ``price`` the agreed
    price in payment-token base units); ``paths``: topic -> the price messages
    ``(seq, sender_role, price_usd)``; ``gas_usd`` by (role, action), ``gas_units``
    by action, ``gas_wei`` by (role, action) (what the chain charged, fee-market runs);
    ``reserved_s`` / ``capacity``: resource-seconds reserved up to ``accrued_to`` and the
    capacity by resource (cpu, gpu, ram); ``reserved_cpu_s`` / ``capacity_cpu``: the same
    for cpu by region; ``reserving`` / ``reserving_cpu``: what running jobs reserve now
    (written by :meth:`reserve`; :meth:`reserved_until` integrates them up to any time).
    ``quotes``: topic -> ``(x_min USD, region)``, the provider's cost floor when it
    answered the request and the region of the machine it quoted for (spec 5, 7.2).
    ``open_requests``: job id -> deadline (s) of each published request without a
    deal yet (spec 7.2 "unmet demand")."""

    requests: int = 0
    topics: int = 0
    cheat_attempts: int = 0
    commenced: int = 0
    false_challenges: int = 0
    challenges: int = 0
    agreed: list[tuple] = field(default_factory=list)
    paths: dict[str, list[tuple[int, str, float]]] = field(default_factory=dict)
    gas_units: Counter = field(default_factory=Counter)
    gas_wei: Counter = field(default_factory=Counter)
    gas_usd: defaultdict = field(default_factory=lambda: defaultdict(float))
    energy_usd: float = 0.0
    client_surplus: list[float] = field(default_factory=list)
    provider_surplus: list[float] = field(default_factory=list)
    reserved_s: defaultdict = field(default_factory=lambda: defaultdict(float))
    capacity: Counter = field(default_factory=Counter)
    sum_price_usd: float = 0.0
    reserved_cpu_s: defaultdict = field(default_factory=lambda: defaultdict(float))
    capacity_cpu: Counter = field(default_factory=Counter)
    quotes: dict[str, tuple[float, str]] = field(default_factory=dict)
    open_requests: dict[str, float] = field(default_factory=dict)
    reserving: defaultdict = field(default_factory=lambda: defaultdict(float))
    reserving_cpu: defaultdict = field(default_factory=lambda: defaultdict(float))
    accrued_to: float = 0.0

    def reserve(self, region: str, need: tuple[float, float, float], sign: int,
                now: float) -> None:
        """A job starts (``sign=+1``) or stops (``-1``) reserving ``need`` = (cpu, gpu,
        ram GiB) on a machine in ``region`` at ``now`` (s): the reservations so far are
        integrated up to ``now`` first, so ``reserved_s`` is exact, not step-sampled."""
        self._accrue(now)
        for r, n in zip(RESOURCES, need, strict=True):
            self.reserving[r] += sign * n
        self.reserving_cpu[region] += sign * need[0]

    def _accrue(self, now: float) -> None:
        dt = now - self.accrued_to
        if dt > 0:
            for r, x in self.reserving.items():
                self.reserved_s[r] += x * dt
            for g, x in self.reserving_cpu.items():
                self.reserved_cpu_s[g] += x * dt
            self.accrued_to = now

    def reserved_until(self, now: float) -> tuple[dict[str, float], dict[str, float]]:
        """``(by resource, cpu by region)``: resource-seconds reserved from 0 to ``now``
        (s, >= the last :meth:`reserve`), running jobs counted up to ``now`` (spec 7.2's
        integral of reserved_r dt). Reads only; the book is not advanced."""
        dt = max(now - self.accrued_to, 0.0)
        by_r = {r: self.reserved_s[r] + self.reserving[r] * dt for r in RESOURCES}
        regions = set(self.reserved_cpu_s) | set(self.reserving_cpu)
        by_g = {g: self.reserved_cpu_s[g] + self.reserving_cpu[g] * dt for g in regions}
        return by_r, by_g


class Market:
    """The shared context of one run: the global state, its latest snapshot, the
    reference costs by class and the :class:`MarketBook`.

    Args:
        state: the :class:`GlobalState` (stepped by :class:`GlobalStateAgent`).
        gas: action -> gas units (``sim.compute.gas``), for reference costs.
        ref_base_fee_wei: the L2 base fee (wei per gas) at which the reference costs
            count gas; ``None``: the state's initial L2 base fee (spec 3).

    Raises:
        ValueError: a negative ``ref_base_fee_wei``.
    """

    def __init__(self, state: GlobalState, gas: dict[str, int],
                 ref_base_fee_wei: int | None = None) -> None:
        if ref_base_fee_wei is not None and ref_base_fee_wei < 0:
            raise ValueError(f"ref_base_fee_wei must be >= 0, got {ref_base_fee_wei!r}")
        self.state = state
        self.snapshot = state.snapshot()
        self.book = MarketBook()
        self.gas = dict(gas)
        z = self.snapshot
        if ref_base_fee_wei is not None:  # values set in another fee regime than the chain's
            z = replace(z, l2_base_fee=int(ref_base_fee_wei))
        mean_e = sum(z.electricity.values()) / len(z.electricity)
        units = sum(gas[a] for a in CLIENT_GAS + PROVIDER_GAS)
        self.c_ref = {n: c_ref(c, mean_e, units, z) for n, c in ctypes.JOB_CLASSES.items()}
        self.regions = tuple(z.electricity)

    def gas_usd(self, action: str) -> float:
        """USD of one ``action`` at the current L2 base fee and ETH price."""
        return self.snapshot.gas_cost_usd(self.gas[action])

    def book_gas(self, role: str, action: str) -> float:
        """Record one ``action`` of ``role``; returns its USD."""
        usd = self.gas_usd(action)
        self.book.gas_units[action] += self.gas[action]
        self.book.gas_usd[(role, action)] += usd
        return usd

    def book_receipt(self, role: str, action: str, receipt: Any) -> float:
        """Record what the chain charged for one executed ``action`` of ``role`` (its
        receipt's ``gas_used``, ``fee_burned + tip + l1_fee`` wei, spec 4.6) into
        ``gas_units``, ``gas_wei`` and ``gas_usd`` (at Z's ETH price now); returns
        the USD."""
        wei = receipt.fee_burned + receipt.tip + receipt.l1_fee
        usd = wei * self.snapshot.prices["ETH"] / WEI_PER_ETH
        self.book.gas_units[action] += receipt.gas_used
        self.book.gas_wei[(role, action)] += wei
        self.book.gas_usd[(role, action)] += usd
        return usd

    def usd(self, amount: int, decimals: int = 6) -> float:
        """Payment-token base units in USD at Z's payment-token price."""
        z = self.snapshot
        return amount / 10**decimals * z.prices[z.payment_symbol]


class GlobalStateAgent(Agent):
    """Phase 0: advances the global state by the time since its last step and
    publishes the snapshot on the :class:`Market` (spec 6)."""

    phase = 0

    def __init__(self, market: Market, name: str = "global_state") -> None:
        super().__init__(name)
        self.market = market
        self._last = 0.0

    def step(self, sim: Simulation) -> None:
        dt = sim.now - self._last
        self._last = sim.now
        if self.market.state.l2_fee is None:  # the chain's fee market owns the L2 fee
            self.market.state.set_l2_base_fee(int(sim.base_fee(raw=True)))
        if dt > 0:
            self.market.snapshot = self.market.state.step(dt)


def ceil_div(a: int, b: float) -> int:
    """``ceil(a / b)`` (run time of spec 3)."""
    return math.ceil(a / b)
