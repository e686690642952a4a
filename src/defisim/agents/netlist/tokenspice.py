"""TokenSPICE's pure-Python agent library (``../shared/specs/token-netlists.md`` 2.1):
routers, marketplaces and the function minter, on defisim's ledger (the minting
functions are :mod:`defisim.protocols.tokenomics.schedules`; the accounting-only OCEAN
burner is :class:`defisim.agents.tokenomics.OCEANBurnerAgent`).

The agents keep TokenSPICE's float model where its KPIs read it (sales rates, the
burner's accounting, the minter's schedule), and move the corresponding amounts on the
ledger in 18-decimal base units (``int(x·1e18)``; the difference from TokenSPICE's
float wallets is below 1e-16 relative). They read the netlist's model state (its OCEAN
price, its KPI lists) through a :class:`ModelState` the netlist passes in, never the
chain.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from functools import reduce
from operator import add
from typing import TYPE_CHECKING, Protocol

from defisim.agents.base import Agent
from defisim.chain.transactions import Transaction
from defisim.service.tokenomics import BITCOIN_NUM_HALF_LIVES, ExpFunc, RampedExpFunc

from .wallets import to_base18

if TYPE_CHECKING:
    from collections.abc import Callable

    from defisim.service import Simulation

class ModelState(Protocol):
    """What TokenSPICE agents read of their netlist's ``SimState``."""

    tick: int

    def ocean_price(self) -> float: ...


_WEI = 10**18


def _dec(raw: int) -> Decimal:
    return Decimal(raw).scaleb(-18)


def human18(raw: int) -> float:
    """Base units of an 18-decimal asset as a float, correctly rounded (Python's int/int
    true division; the same float as through an exact Decimal)."""
    return raw / _WEI


def send_raw(sim: Simulation, src: str, dst: str, asset: str, raw: int) -> bool:
    """The chain's ``transfer`` of ``raw`` base units between general accounts (no
    float or Decimal conversion); whether it executed."""
    return sim.send(Transaction(src, "", "transfer", (dst, asset, raw))).accepted


# ------------------------------------------------------------------------ agents
class RouterAgent(Agent):
    """``RouterAgent`` (spec 2.1): each step it records what it holds (= what it received
    since its last step) in ``usd_per_tick``/``ocean_per_tick`` and, if it holds USD
    (OCEAN), sends ``fraction()``·USD₀ to each receiver in order (USD₀ = the amount held
    before the first transfer; the exact product floored to base units, never more than
    is left; the dust stays).

    Args:
        receivers: ``(party, fraction function)`` in order; a function of no arguments
            (TokenSPICE's lambdas read strategy constants).
    """

    def __init__(self, name: str, receivers: list[tuple[str, Callable[[], float]]],
                 state: ModelState, step_seconds: float) -> None:
        super().__init__(name)
        self.receivers = receivers
        self.state = state
        self.step_seconds = step_seconds
        self.usd_per_tick: list[float] = []
        self.ocean_per_tick: list[float] = []

    def step(self, sim: Simulation) -> None:
        for asset, log in (("USD", self.usd_per_tick), ("OCEAN", self.ocean_per_tick)):
            raw = int(sim.balance(self.name, asset, raw=True))
            log.append(human18(raw))
            left = raw
            if raw > 0:
                for party, fraction in self.receivers:
                    # fraction·USD₀ in base units, exactly (the float's binary value), floored
                    num, den = Fraction(fraction()).as_integer_ratio()
                    amount = min(left, raw * num // den)
                    if amount > 0:
                        send_raw(sim, self.name, party, asset, amount)
                        left -= amount

    def _monthly(self, log: list[float]) -> float:
        """``monthly*received``: entries k1..t with k1 = 0 if t·Δ − S_MONTH < 0, else
        ⌊(t·Δ − S_MONTH)/Δ⌋ (spec 2.1); t = the model's tick."""
        t = self.state.tick
        dt = self.step_seconds
        back = t * dt - 30 * 86_400
        k1 = 0 if back < 0 else math.floor(back / dt)
        return reduce(add, log[k1:t + 1], 0.0)  # left to right from 0.0

    def monthly_usd_received(self) -> float:
        """USD received over the last month of ticks (``monthlyUSDreceived``)."""
        return self._monthly(self.usd_per_tick)

    def monthly_ocean_received(self) -> float:
        """OCEAN received over the last month of ticks (``monthlyOCEANreceived``)."""
        return self._monthly(self.ocean_per_tick)


class MarketplacesAgent(Agent):
    """``MarketplacesAgent`` (spec 2.1): ``n`` marketplaces each selling ``s`` USD per
    second. Each step: r = the netlist's R&D-to-sales ratio, g = its annual growth rate
    g(r), gₜ = (1+g)^(1/(S_YEAR/Δ)) − 1; n and s grow by (1+gₜ) (before the sales, tick 0
    included); consume sales c = (n·s)·Δ; the toll ``network_revenue(c)`` is paid in USD
    (minted: money from outside) to ``toll_agent``."""

    def __init__(self, name: str, toll_agent: str, n_marketplaces: float,
                 sales_per_marketplace_per_s: float, step_seconds: float,
                 ratio: Callable[[], float], growth_rate: Callable[[float], float],
                 network_revenue: Callable[[float], float]) -> None:
        super().__init__(name)
        self.toll_agent = toll_agent
        self.n = float(n_marketplaces)
        self.s = float(sales_per_marketplace_per_s)
        self.step_seconds = step_seconds
        self.ratio, self.growth_rate, self.network_revenue = ratio, growth_rate, network_revenue

    def step(self, sim: Simulation) -> None:
        g = self.growth_rate(self.ratio())
        g_t = math.pow(1 + g, 1 / (365 * 86_400 / self.step_seconds)) - 1
        self.n = self.n * (1 + g_t)
        self.s = self.s * (1 + g_t)
        consume = (self.n * self.s) * self.step_seconds
        toll = self.network_revenue(consume)
        raw = to_base18(toll)
        if raw > 0:
            sim.mint_raw(self.toll_agent, "USD", raw)


class MintBook(ModelState, Protocol):
    """The model total the minter updates (TokenSPICE ``state._total_OCEAN_minted``)."""

    total_minted: float


class OceanFuncMinterAgent(Agent):
    """``OCEANFuncMinterAgent`` (spec 2.1): mints ``(G(t_y) − G(t_prev,y))·T`` OCEAN (t in
    years) to itself and forwards it to ``receiver``: never at tick 0, at tick 1, then
    whenever (t − t_prev)·Δ ≥ ``s_between_mints``; everything left once
    ``keep_minting`` fails; never more than what is left; nothing once exactly 0.0 is
    left. The model's ``total_minted`` grows by each mint (a float sum)."""

    def __init__(self, name: str, receiver: str, total: float, s_between_mints: float,
                 func: ExpFunc | RampedExpFunc, state: MintBook, step_seconds: float) -> None:
        super().__init__(name)
        self.receiver = receiver
        self.left = float(total)
        self.total = float(total)
        self.s_between = s_between_mints
        self.func = func
        self.state = state
        self.step_seconds = step_seconds
        self.t_prev: int | None = None
        self.mints: list[tuple[int, float]] = []

    def step(self, sim: Simulation) -> None:
        t = self.state.tick
        if self.left == 0.0 or t == 0:
            return
        if self.t_prev is not None and (t - self.t_prev) * self.step_seconds < self.s_between:
            return
        t_y = t * self.step_seconds / (365 * 86_400)
        t_prev_y = 0.0 if self.t_prev is None else self.t_prev * self.step_seconds / (365 * 86_400)
        mint = (self.func(t_y) - self.func(t_prev_y)) * self.total
        if not self.func.keep_minting(t_y):
            mint = self.left
        mint = min(mint, self.left)
        self.state.total_minted += mint
        raw = to_base18(mint)
        if raw > 0:
            sim.mint_raw(self.name, "OCEAN", raw)
            send_raw(sim, self.name, self.receiver, "OCEAN", raw)
        self.left -= mint
        self.t_prev = t
        self.mints.append((t, mint))


__all__ = [
    "BITCOIN_NUM_HALF_LIVES",
    "ExpFunc",
    "MarketplacesAgent",
    "MintBook",
    "ModelState",
    "OceanFuncMinterAgent",
    "RampedExpFunc",
    "RouterAgent",
    "human18",
    "send_raw",
]
