"""``scheduler``: TokenSPICE's vesting netlist (``netlists/scheduler``;
``../shared/specs/token-netlists.md`` 4.2).

A funder deploys an OpenZeppelin-style ``VestingWallet`` (linear from ``start`` over
``duration``, no cliff; :mod:`defisim.protocols.tokenomics.vesting`) on its first step
and moves all its OCEAN into it; the beneficiary calls ``release`` every step (anyone
may; the tokens go to the beneficiary). Monthly ticks (30 days) over 10 years
(``max_ticks`` = 122.67, ticks 0..123), a row every 3 months.

Clock: TokenSPICE's block timestamp is T₀ + t·S_MONTH + δ, where δ is the wall-clock
drift ganache adds during a run (not deterministic). Here δ = 0: the chain's time
(seconds since the start) plus ``t0_timestamp``, and the vesting starts one year after
T₀ (spec 4.2). The ``timestamp`` column is that int.

Columns: ``timestamp`` (int), ``OCEAN_vested`` (vestedAmount(OCEAN, timestamp)/1e18),
``OCEAN_released`` (released/1e18), ``beneficiary_OCEAN`` (= released); the three are
the **int 0** at tick 0, when the wallet does not exist yet. A row at tick t ≥ 1 shows
what the release of tick t−1 paid, so released lags vested by one month of vesting.
Ideal values: tick 15 → vested 0.23287671232876714, released 0.1506849315068493; tick 72
→ 4.917808219178082 and 4.835616438356165; ticks >= 75 → 5.0 and 5.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.base import Agent
from defisim.scenarios.base import register
from defisim.scenarios.netlist import (
    DOLLAR,
    LINEAR,
    MULT1,
    S_MONTH,
    S_YEAR,
    Netlist,
    NetlistParams,
    YParam,
)

if TYPE_CHECKING:
    from defisim.service import Simulation

WALLET = "vw1"
FUNDER = "funder1"
BENEFICIARY = "beneficiary1"


class SchedulerParams(NetlistParams):
    """scheduler's SimStrategy (spec 4.2)."""

    step_seconds: float = Field(S_MONTH, gt=0)
    """Δ: seconds per tick (one 30-day month)."""
    max_time: float = Field(10.0, gt=0)
    """Horizon in ``max_time_unit`` (10 years: max_ticks 122.67)."""
    max_time_unit: str = "years"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(3 * S_MONTH, gt=0)
    """Seconds between rows (3 months)."""
    ocean_funded: float = Field(5.0, ge=0)
    """OCEAN the funder puts into the vesting wallet."""
    t0_timestamp: int = Field(0, ge=0)
    """T₀: the block timestamp of tick 0 (TokenSPICE: ganache's clock when built), s."""
    start_after_s: int = Field(S_YEAR, ge=0)
    """The vesting starts this long after T₀, s (one year)."""
    duration_s: int = Field(5 * S_YEAR, gt=0)
    """Vesting duration, s (five years)."""


class VestingFunderAgent(Agent):
    """Acts once, on its first step: creates the vesting wallet and moves all its OCEAN
    into it (spec 2.2 ``VestingFunderAgent``)."""

    def __init__(self, name: str, wallet: str, beneficiary: str, start_s: int, duration_s: int) -> None:
        super().__init__(name)
        self.wallet, self.beneficiary = wallet, beneficiary
        self.start_s, self.duration_s = start_s, duration_s
        self.done = False

    def step(self, sim: Simulation) -> None:
        if self.done:
            return
        sim.tokenomics.create_vesting_wallet(self.wallet, self.beneficiary, self.start_s, self.duration_s)
        raw = sim.balance(self.name, "OCEAN", raw=True)
        if raw:
            sim.tokenomics.deposit(self.name, self.wallet, "OCEAN", sim.money("OCEAN", raw))
        self.done = True

    def next_wakeup(self, now: float) -> float | None:
        return float("inf")


class VestingBeneficiaryAgent(Agent):
    """Calls ``release(OCEAN)`` on the wallet every step, once its funder has created it
    (spec 2.2)."""

    def __init__(self, name: str, funder: VestingFunderAgent) -> None:
        super().__init__(name)
        self.funder = funder

    def step(self, sim: Simulation) -> None:
        if self.funder.done:
            sim.tokenomics.release(self.name, self.funder.wallet, "OCEAN")


@register
class Scheduler(Netlist):
    """TokenSPICE's vesting netlist (module docstring)."""

    name = "scheduler"
    description = ("TokenSPICE scheduler: 5 OCEAN vest linearly over 5 years from year 1 "
                   "(OpenZeppelin VestingWallet, no cliff); monthly ticks over 10 years.")
    Params = SchedulerParams
    x_label = "Year"
    protocols = ("governance", "tokenomics")

    def __init__(self, params: SchedulerParams | None = None) -> None:
        super().__init__(params)
        self.funder: VestingFunderAgent | None = None

    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        sim.create_asset("OCEAN", 18)
        sim.tokenomics.create_token("OCEAN")
        for party in (FUNDER, BENEFICIARY):
            sim.create_party(party)
        if p.ocean_funded:
            sim.tokenomics.add_minter("OCEAN", "netlist")
            sim.create_party("netlist")
            sim.tokenomics.mint("netlist", "OCEAN", FUNDER, p.ocean_funded)
        # chain seconds: T0 is chain time 0
        self.funder = VestingFunderAgent(FUNDER, WALLET, BENEFICIARY, p.start_after_s, p.duration_s)
        return [self.funder, VestingBeneficiaryAgent(BENEFICIARY, self.funder)]

    def columns(self) -> list[str]:
        return ["timestamp", "OCEAN_vested", "OCEAN_released", "beneficiary_OCEAN"]

    def row(self, sim: Simulation) -> list[Any]:
        timestamp = self.params.t0_timestamp + int(sim.now)
        if self.funder is None or not self.funder.done:
            return [timestamp, 0, 0, 0]  # ints, as TokenSPICE before vw1 exists
        released = sim.tokenomics.released(WALLET, "OCEAN")
        return [timestamp, sim.tokenomics.vested(WALLET, "OCEAN"), released, released]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 4.2: "Vesting over time", LINEAR, MULT1, DOLLAR."""
        return [YParam(["OCEAN_vested", "OCEAN_released", "beneficiary_OCEAN"],
                       ["OCEAN vested", "OCEAN released", "OCEAN to beneficiary"],
                       "Vesting over time", LINEAR, MULT1, DOLLAR)]


__all__ = ["Scheduler", "SchedulerParams", "VestingBeneficiaryAgent", "VestingFunderAgent"]
