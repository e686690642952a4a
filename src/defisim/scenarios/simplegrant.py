"""``simplegrant``: TokenSPICE's simplest netlist, on the null chain.

Source: TokenSPICE ``netlists/simplegrant/netlist.py`` with
``agents/GrantGivingAgent.py``, ``agents/GrantTakingAgent.py`` and
``engine/SimEngine.py`` (github.com/tokenspice/tokenspice).

The netlist: hourly ticks for 10 days; a granter (``granter1``) starts with 1.0
OCEAN and 0 USD and pays ``1/4`` of its initial holdings to a taker
(``taker1``) at its first tick and then whenever at least 3 days have passed
since its last grant (ticks 0, 72, 144, 216); the taker spends everything it
holds as soon as it has it. The OCEAN price is fixed at 1.0 USD
(``SimState.OCEANprice``). KPIs ``granter_OCEAN`` and ``granter_USD`` are
logged once a day.

How it maps onto defisim:

- Assets ``OCEAN`` and ``USD``, both with 18 decimals; parties ``granter1`` and
  ``taker1``. The granter's holdings are minted in :meth:`SimpleGrant.build`
  (TokenSPICE gives agents their initial wallets when the netlist is built).
- Grants are ``sim.transfer`` between general accounts. Amounts are exact
  integers in base units, passed as :class:`~decimal.Decimal` (the ``Simulation``
  converts Decimals exactly). Each of the first ``n_actions - 1`` grants is
  ``initial // n_actions`` base units; the last one pays whatever is left, so
  the granter ends at exactly 0 (TokenSPICE's float ``min(balance, per_grant)``
  has the same intent: give until the money runs out). No grant after that.
- Spending: TokenSPICE's taker calls ``_transferOCEAN(None, amount)``, a
  withdrawal: the money leaves the modelled economy and nobody receives it.
  That is a **burn** here (``sim.burn``): the OCEAN supply falls by each amount
  spent, and a ``Burned`` event records every spend.
- Order within a tick: TokenSPICE steps agents in insertion order (granter,
  then taker), so the taker spends a grant in the tick it arrives. Here the
  granter has ``phase = 1`` and the taker ``phase = 2``.
- Daily logging: TokenSPICE's ``SimEngine.takeStep`` logs *before* the agents
  act, when ``tick * time_step % log_interval == 0``. :meth:`SimpleGrant.kpis`
  (called by the runner after every step) keeps the state at the end of the
  previous step (= the start of this one; the state after ``build`` for step 0)
  and returns it only at steps whose time is a multiple of ``log_interval_s``;
  at other steps it returns ``{}``, so the ``kpis`` table holds exactly one row
  per KPI per day, at ``time_s = 86400 * day``, equal to TokenSPICE's CSV:
  ``granter_OCEAN`` = 1.0, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.0
  for days 0..10.
- Length: TokenSPICE's ``setMaxTime(10, "days")`` gives ``max_ticks = 10 * 24 + 1``;
  the natural length here is the same 241 steps (ticks 0..240, the last logged
  tick being day 10). TokenSPICE's loop also runs tick 241, which logs nothing
  and changes nothing.

KPIs (per logged day): ``granter_OCEAN``, ``granter_USD`` (the granter's USD
holdings, as in the netlist: 0.0 throughout), ``granter_value_USD`` (OCEAN x
``ocean_price`` + USD), ``taker_spent_OCEAN`` and ``taker_spent_USD``
(cumulative spending, valued at ``ocean_price`` like TokenSPICE's
``spentAtTick``).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents.base import Agent

from .base import Scenario, ScenarioParams, register

if TYPE_CHECKING:
    from defisim.service import Simulation

S_PER_HOUR = 3600
S_PER_DAY = 86400
DECIMALS = 18


def _human(raw: int, decimals: int = DECIMALS) -> Decimal:
    """Base units as an exact Decimal in asset units."""
    return Decimal(raw).scaleb(-decimals)


class GrantGivingAgent(Agent):
    """Pays ``n_actions`` equal grants of its initial holdings to ``receiver``.

    Grants at its first wake-up and then every ``s_between_grants`` seconds
    (scheduled with :meth:`next_wakeup`; idle in between). The last grant pays
    what is left. Amounts in base units (``initial // n_actions``).
    """

    phase = 1

    def __init__(
        self,
        name: str,
        receiver: str,
        s_between_grants: float,
        n_actions: int,
        assets: tuple[str, ...] = ("OCEAN", "USD"),
    ) -> None:
        super().__init__(name)
        if n_actions < 1:
            raise ValueError(f"{name}: n_actions must be >= 1, got {n_actions}")
        if not s_between_grants > 0:
            raise ValueError(f"{name}: s_between_grants must be > 0, got {s_between_grants}")
        self.receiver = receiver
        self.s_between_grants = float(s_between_grants)
        self.n_actions = int(n_actions)
        self.assets = assets
        self.per_grant: dict[str, int] = {}
        self.grants_made = 0
        self.grant_times: list[float] = []

    def initialise(self, sim: Simulation) -> None:
        for asset in self.assets:
            initial = sim.balance(self.name, asset, raw=True)
            self.per_grant[asset] = initial // self.n_actions

    def step(self, sim: Simulation) -> None:
        if self.grants_made >= self.n_actions:
            return
        last = self.grants_made == self.n_actions - 1
        for asset in self.assets:
            have = sim.balance(self.name, asset, raw=True)
            amount = have if last else min(have, self.per_grant[asset])
            if amount > 0:
                sim.transfer(self.name, self.receiver, asset, _human(amount))
        self.grants_made += 1
        self.grant_times.append(sim.now)

    def next_wakeup(self, now: float) -> float | None:
        if self.grants_made >= self.n_actions:
            return math.inf
        return now + self.s_between_grants


class GrantTakingAgent(Agent):
    """Spends (burns) everything it holds, every step, as soon as it has it.

    ``spent_at_tick`` is the USD value of the last step's spending (OCEAN at
    ``ocean_price``), as TokenSPICE's ``spentAtTick``; ``spent_raw`` the
    cumulative spending per asset in base units.
    """

    phase = 2

    def __init__(self, name: str, ocean_price: float, assets: tuple[str, ...] = ("OCEAN", "USD")):
        super().__init__(name)
        self.ocean_price = float(ocean_price)
        self.assets = assets
        self.spent_raw: dict[str, int] = dict.fromkeys(assets, 0)
        self.spent_at_tick = 0.0

    def step(self, sim: Simulation) -> None:
        held = {a: sim.balance(self.name, a, raw=True) for a in self.assets}
        self.spent_at_tick = (
            float(_human(held.get("USD", 0)))
            + float(_human(held.get("OCEAN", 0))) * self.ocean_price
        )
        for asset, amount in held.items():
            if amount > 0 and sim.burn(self.name, asset, _human(amount)):
                self.spent_raw[asset] += amount


class SimpleGrantParams(ScenarioParams):
    """Parameters of TokenSPICE's ``simplegrant`` netlist (its SimStrategy)."""

    steps: int | None = None
    """Number of steps (None: max_days * 86400 / step_seconds + 1, as TokenSPICE)."""
    step_seconds: float = Field(S_PER_HOUR, gt=0)
    """Seconds per tick (TokenSPICE: one hour)."""
    max_days: float = Field(10.0, gt=0)
    """Simulated days (TokenSPICE setMaxTime(10, 'days'))."""
    granter_init_OCEAN: float = Field(1.0, ge=0)
    """OCEAN the granter starts with."""
    granter_init_USD: float = Field(0.0, ge=0)
    """USD the granter starts with (granted in the same shares)."""
    granter_s_between_grants: float = Field(3 * S_PER_DAY, gt=0)
    """Seconds between grants."""
    granter_n_actions: int = Field(4, ge=1)
    """Number of grants."""
    ocean_price: float = Field(1.0, ge=0)
    """Fixed OCEAN price in USD (TokenSPICE SimState.OCEANprice)."""
    log_interval_s: float = Field(S_PER_DAY, gt=0)
    """KPIs are logged at steps whose time is a multiple of this (TokenSPICE: daily)."""


@register
class SimpleGrant(Scenario):
    """TokenSPICE's ``simplegrant`` netlist (see the module docstring)."""

    name = "simplegrant"
    description = (
        "TokenSPICE simplegrant: a granter pays 4 equal OCEAN grants, one every "
        "3 days, to a taker that spends them; hourly ticks over 10 days."
    )
    Params = SimpleGrantParams

    GRANTER = "granter1"
    TAKER = "taker1"

    def __init__(self, params: SimpleGrantParams | None = None) -> None:
        super().__init__(params)
        self._prev: dict[str, float] = {}
        self._log_ns = 0
        self.granter: GrantGivingAgent | None = None
        self.taker: GrantTakingAgent | None = None

    def total_steps(self) -> int:
        p = self.params
        if p.steps is not None:
            return p.steps
        return math.floor(p.max_days * S_PER_DAY / p.step_seconds + 1e-9) + 1

    def build(self, sim: Simulation) -> list[Agent]:
        p = self.params
        for asset in ("OCEAN", "USD"):
            sim.create_asset(asset, DECIMALS)
        for party in (self.GRANTER, self.TAKER):
            sim.create_party(party)
        sim.mint(self.GRANTER, "OCEAN", Decimal(repr(p.granter_init_OCEAN)))
        sim.mint(self.GRANTER, "USD", Decimal(repr(p.granter_init_USD)))
        self._log_ns = round(p.log_interval_s * 1_000_000_000)
        self.granter = GrantGivingAgent(
            self.GRANTER, self.TAKER, p.granter_s_between_grants, p.granter_n_actions
        )
        self.taker = GrantTakingAgent(self.TAKER, p.ocean_price)
        self._prev = self._state(sim)
        return [self.granter, self.taker]

    def _state(self, sim: Simulation) -> dict[str, float]:
        price = self.params.ocean_price
        ocean = sim.balance(self.GRANTER, "OCEAN")
        usd = sim.balance(self.GRANTER, "USD")
        spent = self.taker.spent_raw if self.taker is not None else {}
        spent_ocean = float(_human(spent.get("OCEAN", 0)))
        spent_usd = float(_human(spent.get("USD", 0)))
        return {
            "granter_OCEAN": ocean,
            "granter_USD": usd,
            "granter_value_USD": ocean * price + usd,
            "taker_spent_OCEAN": spent_ocean,
            "taker_spent_USD": spent_ocean * price + spent_usd,
        }

    def kpis(self, sim: Simulation) -> dict[str, float]:
        """The state at the start of this step, at logged (daily) steps only; else ``{}``.

        The runner calls this after each step (and once after ``finish``); the
        values returned at step ``k`` are those at the end of step ``k - 1``
        (after ``build`` for ``k = 0``): TokenSPICE logs before its agents act.
        """
        start_of_step = self._prev
        self._prev = self._state(sim)
        # the time of the step just run: the runner records after end_block, at t_k
        if sim.now_ns % self._log_ns == 0:
            return start_of_step
        return {}
