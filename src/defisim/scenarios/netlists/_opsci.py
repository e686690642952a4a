"""What the four DARC-SPICE opsci netlists share (``../shared/specs/token-netlists.md``
sections 1.6, 1.8, 5.0): DARC's clock (Δ = 1 h, 30 years, a row every day, ``%g``
values and ``datax.csv``, x label "Month"), the proposal draw ranges, the OCEAN asset
and wallets, the researcher column block and the KPI columns of the mult netlists.

Agents live in :mod:`defisim.agents.netlist.darc_opsci`; they are event-driven, so a
30-year run (262 802 hourly ticks, 10 951 rows) steps only the ticks at which
something happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from defisim.agents.netlist.darc_opsci import DarcWorld
from defisim.agents.netlist.wallets import darc_from_base18, darc_to_base18, hex_name

from ..netlist import COUNT, LINEAR, LOG, MULT1, S_DAY, S_HOUR, Netlist, NetlistParams, YParam
from ..netlist.engine import TimeUnit

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

DECIMALS = 18
"""OCEAN's decimals (an ERC20 in DARC-SPICE)."""


class DarcOpsciParams(NetlistParams):
    """DARC-SPICE's opsci SimStrategy constants common to the four netlists."""

    step_seconds: float = Field(S_HOUR, gt=0)
    """Δ, seconds per tick (``setTimeStep(S_PER_HOUR)``)."""
    max_time: float = Field(30.0, gt=0)
    """Horizon (``setMaxTime(30, 'years')``: max_ticks 262801.0, ticks 0..262801)."""
    max_time_unit: TimeUnit = "years"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(S_DAY, gt=0)
    """Seconds between rows (DARC-SPICE hard-codes one day)."""
    event_driven: bool = True
    """Step only the ticks where something can happen (False: every agent every tick,
    the literal port; both write the same data.csv)."""
    grant_min: int = Field(10_000, ge=0)
    """Smallest grant a proposal requests (OCEAN; ``randint(10000, 50000)``)."""
    grant_max: int = Field(50_000, ge=0)
    """Largest grant a proposal requests (OCEAN)."""
    assets_min: int = Field(1, ge=1)
    """Fewest knowledge assets a proposal generates (``randint(1, 10)``)."""
    assets_max: int = Field(10, ge=1)
    """Most knowledge assets a proposal generates."""
    proposal_no_researchers: int = Field(10, ge=1)
    """``no_researchers`` written into every proposal (a divisor of its score)."""
    researcher_init_OCEAN: float = Field(10_000.0, ge=0)
    """OCEAN each researcher starts with."""


def ranges_ok(p: DarcOpsciParams) -> None:
    """Raise ``ValueError`` for an empty draw range (``randint`` would raise)."""
    if p.grant_min > p.grant_max or p.assets_min > p.assets_max:
        raise ValueError("grant_min <= grant_max and assets_min <= assets_max are required")


RESEARCHER_COLUMNS = ("knowledge_access", "no_proposals", "no_proposals_funded", "total_funding",
                      "total_assets_mrkt", "OCEAN")
"""The per-researcher block of profit sharing and the mult netlists (spec 5.2)."""

MULT_TAIL = ("dao_treasury_OCEAN", "dao_treasury_funded_proposals_integration",
             "dao_treasury_funded_proposals_novelty", "dao_treasury_funded_proposals_in_index",
             "funded_proposals_impact", "staker_OCEAN", "market_OCEAN", "market_fees_OCEAN",
             "market_assets", "total_value_in_treasury", "total_value_in_researchers",
             "total_value_in_markets", "total_value_of_system", "relative_value_in_markets",
             "relative_value_in_researchers", "relative_value_in_treasury")
"""The columns after the researcher blocks in mult and mult_time (spec 5.3)."""


class DarcOpsciNetlist(Netlist):
    """Base of the DARC-SPICE opsci netlists: subclasses set ``kind`` and implement
    :meth:`make_agents` (the DARC agents, in stepping order) and the columns."""

    csv_style = "darc"
    x_label = "Month"
    protocols = ("governance",)
    kind: ClassVar[str] = ""

    def __init__(self, params: DarcOpsciParams | None = None) -> None:
        super().__init__(params)
        self.world: DarcWorld | None = None
        self._columns: list[str] | None = None
        self._columns_for: Any = None
        self.minted_wei = 0
        """OCEAN created at the start (every agent's initial wallet), in wei."""

    # -- building --------------------------------------------------------------------
    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        ranges_ok(p)
        self.world = DarcWorld(self.kind, p, self.rng, self._step_ns, self.t_last, p.event_driven)
        self.world.sim = sim
        sim.create_asset("OCEAN", DECIMALS)
        self.minted_wei = 0
        agents = self.make_agents()
        for a, initial in agents:
            sim.create_party(a.name)
            wei = darc_to_base18(initial)
            if wei:
                sim.mint_raw(a.name, "OCEAN", wei)
                self.minted_wei += wei
            self.world.add(a)
        return [a for a, _ in agents]

    def make_agents(self) -> list[tuple[Agent, float]]:
        """The agents in stepping order, each with its initial OCEAN; sets the world's
        ``dao``, ``market`` and ``researchers``."""
        raise NotImplementedError

    def researcher_names(self) -> list[str]:
        """``researcher0``, ``researcher1``, ... (hexadecimal, spec 5.0)."""
        return [hex_name("researcher", i) for i in range(self.params.n_researchers)]

    def columns(self) -> list[str]:
        cols = self._columns
        if cols is None or self._columns_for is not self.params:
            cols = self._columns = self.make_columns()
            self._columns_for = self.params
        return cols

    def make_columns(self) -> list[str]:
        """The KPI column names (cached by :meth:`columns`)."""
        raise NotImplementedError

    def ocean(self, sim: Simulation, name: str) -> float:
        """A party's OCEAN as DARC reads it (``float(wei/10**18)``, ``fromBase18``)."""
        return darc_from_base18(sim.balance(name, "OCEAN", raw=True))

    def row(self, sim: Simulation) -> list[Any]:
        self.world.sync(sim, stepping=False)  # apply skipped ticks before reading
        return self.values(sim)

    def values(self, sim: Simulation) -> list[Any]:
        """The row's values after :meth:`row` synchronised the agents."""
        raise NotImplementedError

    def researcher_block(self) -> list[Any]:
        """The 6 per-researcher values (spec 5.2), researchers in order."""
        out: list[Any] = []
        for r in self.world.researchers:
            out += [r.knowledge_access, r.no_proposals_submitted, r.no_proposals_funded,
                    r.total_research_funds_received, r.total_assets_in_mrkt, r.my_OCEAN]
        return out

    def researcher_columns(self, fields: tuple[str, ...] = RESEARCHER_COLUMNS) -> list[str]:
        return [f"{r}_{c}" for r in self.researcher_names() for c in fields]

    def mult_tail(self, sim: Simulation) -> list[Any]:
        """The mult/mult_time columns after the researchers (spec 5.3), with the KPI
        quirks: every list starts as [0] (so tick 0 logs zeros) and
        ``total_value_in_markets`` stays 0. The KPIs step after every tick, so a row
        shows the state after the previous tick, i.e. the balances now."""
        w = self.world
        dao, market = w.dao, w.market
        if sim.now_ns // self._step_ns == 0:
            kpis: list[Any] = [0, 0, 0, 0, 0, 0, 0]
        else:
            t = self.ocean(sim, dao.name)
            r = 0.0
            for res in w.researchers:
                r += self.ocean(sim, res.name)
            m = self.ocean(sim, market.name)
            system = t + r + m
            kpis = [t, r, 0, system, m / system, r / system, t / system]
        return [self.ocean(sim, dao.name), dao.integration, dao.novelty, dao.in_index, dao.impact,
                self.ocean(sim, "staker"), self.ocean(sim, market.name), market.total_fees,
                market.total_knowledge_assets, *kpis]

    def rp_columns(self) -> list[str] | None:
        """DARC-SPICE writes ``rpdata.csv`` for every netlist (spec 1.8); these have no rp
        columns (``netlist_rp_createLogData`` returns none), so it holds the engine's 7."""
        return []

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        """``ticks_skipped``: hourly ticks applied in closed form so far."""
        return {"ticks_skipped": float(self.world.ticks_skipped)}

    # -- plots -----------------------------------------------------------------------
    def researcher_plots(self, header: list[str]) -> list[YParam]:
        """The researcher plots of spec 5.2 (labels in column order; DARC-SPICE lists
        them reversed, so its legends name the wrong lines)."""
        names = self.researcher_names()

        def cols(suffix: str) -> list[str]:
            return [f"{r}_{suffix}" for r in names]

        return [
            YParam(cols("no_proposals"), names, "#_proposals", LINEAR, MULT1, COUNT),
            YParam(cols("total_funding"), names, "OCEAN funding", LINEAR, MULT1, COUNT),
            YParam(cols("total_assets_mrkt"), names, "Assets in Knowledge Market", LINEAR, MULT1, COUNT),
            YParam(cols("knowledge_access"), names, "Knowledge access index", LINEAR, MULT1, COUNT),
            YParam(cols("OCEAN"), names, "Researcher OCEAN", LINEAR, MULT1, COUNT),
            YParam(["dao_treasury_OCEAN"], ["dao_treasury"], "DAO_Treasury_OCEAN", LINEAR, MULT1, COUNT),
            YParam(["staker_OCEAN", "market_OCEAN"], ["staker", "market"],
                   "Staker_X_KnowledgeMarket_OCEAN", LOG, MULT1, COUNT),
            YParam(["staker_OCEAN", "market_fees_OCEAN"], ["staker", "market"],
                   "Staker_OCEAN_vs_total_Fees", LINEAR, MULT1, COUNT),
        ]

    def funded_plot(self) -> YParam:
        names = self.researcher_names()
        return YParam([f"{r}_no_proposals_funded" for r in names], names, "#_proposals_FUNDED",
                      LINEAR, MULT1, COUNT)

    def mult_plots(self, header: list[str]) -> list[YParam]:
        """The 14 plots of spec 5.3, in DARC-SPICE's order."""
        return [
            YParam(["total_value_in_treasury", "total_value_in_researchers", "total_value_in_markets"],
                   ["treasury", "researchers", "markets"], "Value distribution in the system",
                   LINEAR, MULT1, COUNT),
            YParam(["total_value_of_system"], [""], "Total value in the system", LINEAR, MULT1, COUNT),
            YParam(["relative_value_in_markets", "relative_value_in_researchers", "relative_value_in_treasury"],
                   ["markets", "researchers", "treasury"], "Relative value distribution in the system",
                   LINEAR, MULT1, COUNT),
            self.funded_plot(),
            YParam(["dao_treasury_funded_proposals_integration", "dao_treasury_funded_proposals_novelty",
                    "dao_treasury_funded_proposals_in_index"], ["integration", "novelty", "in_index"],
                   "integration vs novelty in funded proposals", LINEAR, MULT1, COUNT),
            YParam(["funded_proposals_impact"], ["impact"], "impact of funded proposals", LINEAR, MULT1, COUNT),
            *self.researcher_plots(header),
        ]


__all__ = ["MULT_TAIL", "RESEARCHER_COLUMNS", "DarcOpsciNetlist", "DarcOpsciParams", "ranges_ok"]
