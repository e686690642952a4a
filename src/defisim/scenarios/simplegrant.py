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
- Logging and length: the netlist engine (:mod:`defisim.scenarios.netlist`): a row is
  logged before the agents of every tick whose time is a whole day, and the run steps
  ticks 0..241 (``setMaxTime(10, "days")`` gives ``max_ticks = 241.0``; spec 1.2: 242
  steps, 11 rows). The run folder holds TokenSPICE's ``data.csv``, byte for byte the
  golden file of spec 6.1: ``granter_OCEAN`` = 1.0, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5,
  0.25, 0.25, 0.25, 0.0 for days 0..10.

CSV columns: ``granter_OCEAN``, ``granter_USD`` (the granter's USD holdings, as in
the netlist: 0.0 throughout). Also recorded as KPIs of each logged day:
``granter_value_USD`` (OCEAN x
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

from .base import register
from .netlist import DOLLAR, LINEAR, MULT1, S_DAY, S_HOUR, Netlist, NetlistParams, YParam, human
from .netlist.engine import TimeUnit

if TYPE_CHECKING:
    from defisim.service import Simulation

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


class SimpleGrantParams(NetlistParams):
    """Parameters of TokenSPICE's ``simplegrant`` netlist (its SimStrategy, spec 4.1)."""

    step_seconds: float = Field(S_HOUR, gt=0)
    """Seconds per tick (TokenSPICE: one hour)."""
    max_time: float = Field(10.0, gt=0)
    """Horizon (TokenSPICE ``setMaxTime(10, "days")``)."""
    max_time_unit: TimeUnit = "days"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(S_DAY, gt=0)
    """A row is logged before ticks whose time is a multiple of this (daily)."""
    granter_init_OCEAN: float = Field(1.0, ge=0)
    """OCEAN the granter starts with."""
    granter_init_USD: float = Field(0.0, ge=0)
    """USD the granter starts with (granted in the same shares)."""
    granter_s_between_grants: float = Field(3 * S_DAY, gt=0)
    """Seconds between grants."""
    granter_n_actions: int = Field(4, ge=1)
    """Number of grants."""
    ocean_price: float = Field(1.0, ge=0)
    """Fixed OCEAN price in USD (TokenSPICE SimState.OCEANprice)."""


@register
class SimpleGrant(Netlist):
    """TokenSPICE's ``simplegrant`` netlist (see the module docstring)."""

    name = "simplegrant"
    description = (
        "TokenSPICE simplegrant: a granter pays 4 equal OCEAN grants, one every "
        "3 days, to a taker that spends them; hourly ticks over 10 days."
    )
    Params = SimpleGrantParams
    x_label = "Day"

    GRANTER = "granter1"
    TAKER = "taker1"

    def __init__(self, params: SimpleGrantParams | None = None) -> None:
        super().__init__(params)
        self.granter: GrantGivingAgent | None = None
        self.taker: GrantTakingAgent | None = None

    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        for asset in ("OCEAN", "USD"):
            sim.create_asset(asset, DECIMALS)
        for party in (self.GRANTER, self.TAKER):
            sim.create_party(party)
        sim.mint(self.GRANTER, "OCEAN", Decimal(repr(p.granter_init_OCEAN)))
        sim.mint(self.GRANTER, "USD", Decimal(repr(p.granter_init_USD)))
        self.granter = GrantGivingAgent(
            self.GRANTER, self.TAKER, p.granter_s_between_grants, p.granter_n_actions
        )
        self.taker = GrantTakingAgent(self.TAKER, p.ocean_price)
        return [self.granter, self.taker]

    def columns(self) -> list[str]:
        return ["granter_OCEAN", "granter_USD"]

    def row(self, sim: Simulation) -> list[float]:
        return [human(sim.balance(self.GRANTER, "OCEAN", raw=True)),
                human(sim.balance(self.GRANTER, "USD", raw=True))]

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        """``granter_value_USD`` (OCEAN at ``ocean_price`` + USD), ``taker_spent_OCEAN``
        and ``taker_spent_USD`` (cumulative spending, valued like ``spentAtTick``)."""
        price = self.params.ocean_price
        ocean = human(sim.balance(self.GRANTER, "OCEAN", raw=True))
        usd = human(sim.balance(self.GRANTER, "USD", raw=True))
        spent = self.taker.spent_raw if self.taker is not None else {}
        spent_ocean = human(spent.get("OCEAN", 0))
        return {"granter_value_USD": ocean * price + usd, "taker_spent_OCEAN": spent_ocean,
                "taker_spent_USD": spent_ocean * price + human(spent.get("USD", 0))}

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 4.1: ``granter_OCEAN`` ("OCEAN") and ``granter_USD`` ("USD"), LINEAR,
        MULT1, DOLLAR."""
        return [YParam(["granter_OCEAN"], ["OCEAN"], "granter_OCEAN", LINEAR, MULT1, DOLLAR),
                YParam(["granter_USD"], ["USD"], "granter_USD", LINEAR, MULT1, DOLLAR)]
