"""TokenSPICE's pure-Python agent library (``../shared/specs/token-netlists.md`` 2.1):
routers, marketplaces, the OCEAN burner and the function minter, with the minting
functions, on defisim's ledger.

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

from .wallets import to_base18

if TYPE_CHECKING:
    from collections.abc import Callable

    from defisim.service import Simulation

BITCOIN_NUM_HALF_LIVES = 34
"""``keepMinting`` stops after this many half-lives (spec 0, 2.1)."""


class ModelState(Protocol):
    """What TokenSPICE agents read of their netlist's ``SimState``."""

    tick: int

    def ocean_price(self) -> float: ...


def _dec(raw: int) -> Decimal:
    return Decimal(raw).scaleb(-18)


def human18(raw: int) -> float:
    """Base units of an 18-decimal asset as a float (exact through a Decimal)."""
    return float(_dec(raw))


# ------------------------------------------------------------------ minting functions
def _f(x: float, half_life: float) -> float:
    """f(x) = 1 − 0.5^(x/H) (``math.pow``)."""
    return 1.0 - math.pow(0.5, x / half_life)


class ExpFunc:
    """``ExpFunc(H)``: G(t) = 1 − 0.5^(t/H), t in years (spec 2.1)."""

    def __init__(self, half_life: float) -> None:
        self.half_life = half_life

    def __call__(self, t: float) -> float:
        return _f(t, self.half_life)

    def keep_minting(self, t: float) -> bool:
        """TokenSPICE ``keepMinting``: t/H <= 34."""
        return t / self.half_life <= BITCOIN_NUM_HALF_LIVES


class RampedExpFunc(ExpFunc):
    """``RampedExpFunc(H, T0, T1, T2, T3, M1, M2, M3)`` **as the code computes it**
    (spec 2.1, the quirk: every piece evaluated at the current t, not frozen at its
    breakpoint): g1 = M1·f(t−T0); g2 = M2·f(t−T0) − M2·f(T1−T0) + g1; g3 = M3·f(t−T0) −
    M3·f(T2−T0) + g2; g4 = (1 − g3)·f(t−T3) + g3; G = 0 before T0, then g1, g2, g3, g4
    from T0, T1, T2, T3. Spec 6.2's table: G(1.2) = 0.019232379115341584, G(5) =
    0.552628958204967."""

    def __init__(self, half_life: float, t0: float, t1: float, t2: float, t3: float,
                 m1: float, m2: float, m3: float) -> None:
        super().__init__(half_life)
        self.t = (t0, t1, t2, t3)
        self.m = (m1, m2, m3)

    def __call__(self, t: float) -> float:
        h = self.half_life
        t0, t1, t2, t3 = self.t
        m1, m2, m3 = self.m
        g1 = m1 * _f(t - t0, h)
        g2 = m2 * _f(t - t0, h) - m2 * _f(t1 - t0, h) + g1
        g3 = m3 * _f(t - t0, h) - m3 * _f(t2 - t0, h) + g2
        g4 = (1 - g3) * _f(t - t3, h) + g3
        if t < t0:
            return 0.0
        if t < t1:
            return g1
        if t < t2:
            return g2
        if t < t3:
            return g3
        return g4


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
                        sim.transfer(self.name, party, asset, _dec(amount))
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


class OceanBurnerAgent(Agent):
    """``OCEANBurnerAgent`` (spec 2.1): with USD on hand it "buys and burns" OCEAN in 10
    slices, re-pricing before each (the price rises as the burned supply grows): slice
    OCEAN = (USD/10)/price, added to the model's ``total_burned`` and its USD to
    ``total_burned_usd``; then it spends (burns on the ledger) all its USD. No OCEAN token
    moves: the burn is the model's accounting, as in TokenSPICE."""

    def __init__(self, name: str, state: WsloopBurnBook) -> None:
        super().__init__(name)
        self.state = state

    def step(self, sim: Simulation) -> None:
        raw = int(sim.balance(self.name, "USD", raw=True))
        if raw <= 0:
            return
        usd = human18(raw)
        for _ in range(10):
            price = self.state.ocean_price()
            self.state.total_burned += (usd / 10) / price
            self.state.total_burned_usd += usd / 10
        sim.burn(self.name, "USD", _dec(raw))


class WsloopBurnBook(ModelState, Protocol):
    """The model totals the burner and the minter update."""

    total_burned: float
    total_burned_usd: float
    total_minted: float


class OceanFuncMinterAgent(Agent):
    """``OCEANFuncMinterAgent`` (spec 2.1): mints ``(G(t_y) − G(t_prev,y))·T`` OCEAN (t in
    years) to itself and forwards it to ``receiver``: never at tick 0, at tick 1, then
    whenever (t − t_prev)·Δ ≥ ``s_between_mints``; everything left once
    ``keep_minting`` fails; never more than what is left; nothing once exactly 0.0 is
    left. The model's ``total_minted`` grows by each mint (a float sum)."""

    def __init__(self, name: str, receiver: str, total: float, s_between_mints: float,
                 func: ExpFunc, state: WsloopBurnBook, step_seconds: float) -> None:
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
            sim.transfer(self.name, self.receiver, "OCEAN", _dec(raw))
        self.left -= mint
        self.t_prev = t
        self.mints.append((t, mint))


__all__ = [
    "BITCOIN_NUM_HALF_LIVES",
    "ExpFunc",
    "MarketplacesAgent",
    "ModelState",
    "OceanBurnerAgent",
    "OceanFuncMinterAgent",
    "RampedExpFunc",
    "RouterAgent",
    "WsloopBurnBook",
    "human18",
]
