"""What DARC-SPICE's public-funding netlists share (``../shared/specs/token-netlists.md``
5.5-5.7): the SimStrategy parameters, the build (agents in DARC-SPICE's order, 3
asset-type draws per initial researcher), the CSV blocks and the plot instructions.

Source: ``opscientia/darcspice`` 3f0602a, ``assets/netlists/{opsci_public_funding_ps,
growth_public_funding_ps,community_growth_public_funding_ps}/{SimStrategy,SimState,
KPIs}.py``. The agents are in :mod:`defisim.agents.netlist.darc_public`; they run inside
one runner agent (:class:`~defisim.agents.netlist.darc_public.DarcPublicWorld`), which
steps them in DARC-SPICE's order, appends generated researchers and skips quiet hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from defisim.agents.netlist.darc_public import (
    PRIVATE_MARKET,
    PUBLIC_MARKET,
    TREASURY,
    CommunityAgent,
    DarcKPIs,
    DarcPublicWorld,
    DarcState,
    DarcStrategy,
    PrivateKnowledgeMarketAgent,
    PublicKnowledgeMarketAgent,
    ResearcherGeneratorAgent,
    VersatileDAOTreasuryAgent,
    VersatileResearcherAgent,
    VVersatileDAOTreasuryAgent,
    VVersatileResearcherAgent,
)
from defisim.agents.netlist.wallets import hex_name

from ..netlist import COUNT, LINEAR, LOG, MULT1, S_DAY, S_HOUR, Netlist, NetlistParams, YParam
from ..netlist.engine import TimeUnit

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

OCEAN_DECIMALS = 18


class PublicFundingParams(NetlistParams):
    """``opsci_public_funding_ps``'s SimStrategy (spec 5.5). OCEAN amounts in OCEAN,
    durations in ticks (hours)."""

    step_seconds: float = Field(S_HOUR, gt=0)
    """Δ: one hour."""
    max_time: float = Field(30.0, gt=0)
    """Horizon: 30 years (262 801 ticks, spec 1.2)."""
    max_time_unit: TimeUnit = "years"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(S_DAY, gt=0)
    """DARC-SPICE logs once a day (hard-coded in its engine)."""
    n_public_researchers: int = Field(5, ge=0)
    """``NO_PUBLIC_RESEARCHERS``: researcher0.. (public, funded by the DAO); at least K."""
    n_private_researchers: int = Field(10, ge=0)
    """``NO_PRIVATE_RESEARCHERS``: the next hex-named researchers (private)."""
    dao_init_OCEAN: float = Field(500_000.0, ge=0)
    """The DAO treasury's initial OCEAN."""
    public_researcher_init_OCEAN: float = Field(10_000.0, ge=0)
    """Each public researcher's initial OCEAN."""
    private_researcher_init_OCEAN: float = Field(200_000.0, ge=0)
    """Each private researcher's initial OCEAN."""
    price_of_assets: float = Field(1000.0, ge=0)
    """``PRICE_OF_ASSETS``: OCEAN a public researcher pays for one asset."""
    ratio_funds_to_publish: float = Field(0.4, ge=0, le=1)
    """``RATIO_FUNDS_TO_PUBLISH``: share of a published grant (net of fees) the market keeps."""
    transaction_fees: float = Field(0.1, ge=0, le=1)
    """``TRANSACTION_FEES``: the markets' fee (DARC builds both markets with 0.1), all to the DAO."""
    fees_to_stakers: float = Field(0.1, ge=0, le=1)
    """``FEES_TO_STAKERS`` (unused: these netlists have no staker)."""
    proposals_funded_at_a_time: int = Field(3, ge=1)
    """``PROPOSALS_FUNDED_AT_A_TIME`` (K): projects funded at once."""
    funding_boundary: float = Field(10_000.0, ge=0)
    """``FUNDING_BOUNDARY`` (FB, OCEAN): the DAO funds only above it."""
    random_buying: bool = True
    """``RANDOM_BUYING`` (unused: commented out in the agent)."""
    private_publish_cost: dict[str, float] = Field(
        default_factory=lambda: {"data": 20000.0, "algo": 20000.0, "compute": 30000.0})
    """``PRIVATE_PUBLISH_COST`` per asset type (OCEAN)."""
    asset_costs: dict[str, dict[str, float]] = Field(default_factory=lambda: {
        "private_market": {"data": 20000.0, "algo": 20000.0, "compute": 30000.0},
        "public_market": {"data": 1000.0, "algo": 1000.0, "compute": 2000.0}})
    """``ASSET_COSTS[market][asset]`` (OCEAN) of a private researcher's purchase."""
    grant_min: int = Field(10_000, ge=0)
    """Smallest grant drawn (``randint(10000, 50000)``, OCEAN)."""
    grant_max: int = Field(50_000, ge=0)
    """Largest grant drawn (OCEAN)."""
    assets_min: int = Field(1, ge=1)
    """Fewest assets a proposal generates (``randint(1, 10)``)."""
    assets_max: int = Field(10, ge=1)
    """Most assets a proposal generates."""
    time_min: int = Field(5000, ge=1)
    """Shortest project (``randint(5000, 15000)``, ticks)."""
    time_max: int = Field(15_000, ge=1)
    """Longest project (ticks)."""
    no_researchers: int = Field(10, ge=1)
    """A proposal's ``no_researchers`` (constant 10)."""
    strict_asserts: bool = False
    """Stop the run where DARC-SPICE's assertions fail (default: record them and go on)."""
    event_driven: bool = True
    """Skip quiet hours (same output; False steps every hour, for checks)."""

    @model_validator(mode="after")
    def _check(self) -> PublicFundingParams:
        if self.n_public_researchers < self.proposals_funded_at_a_time:
            raise ValueError("n_public_researchers must be >= proposals_funded_at_a_time (K): the "
                             "DAO picks K winners among them (DARC-SPICE fails otherwise)")
        for lo, hi, what in ((self.grant_min, self.grant_max, "grant"),
                             (self.assets_min, self.assets_max, "assets"),
                             (self.time_min, self.time_max, "time")):
            if lo > hi:
                raise ValueError(f"{what}_min must be <= {what}_max")
        return self


class GrowthParams(PublicFundingParams):
    """``growth_public_funding_ps``'s SimStrategy (spec 5.6): 5.5's plus the generator."""

    generator_cond_type: Literal["time", "treasury", "market"] = "time"
    """When the generator acts: every ``time_interval`` ticks, on DAO updates, or once the
    public market holds ``market_generation_threshold`` assets."""
    generator_type: Literal["linear", "exp", "dec"] = "dec"
    """How many it creates: 1; 1, 2, 3, ...; or ``start_gen``, ``start_gen``−1, ... down to 2."""
    time_interval: int = Field(30_000, ge=1)
    """Ticks between generations (``time`` condition)."""
    start_gen: int = Field(5, ge=0)
    """Researchers created at the first ``dec`` generation."""
    generated_researcher_init_OCEAN: float = Field(200_000.0, ge=0)
    """Each generated (private) researcher's initial OCEAN."""
    market_generation_threshold: int = Field(30, ge=0)
    """Public-market assets that trigger the ``market`` condition."""


class CommunityParams(GrowthParams):
    """``community_growth_public_funding_ps`` (spec 5.7): the SimStrategy of 5.6 (its
    private-researcher and generator settings are unused: no private researcher, no
    generator), a 1 000 000 OCEAN DAO, VV researchers and the community member."""

    dao_init_OCEAN: float = Field(1_000_000.0, ge=0)
    """The DAO treasury's initial OCEAN."""
    member_init_OCEAN: float = Field(10_000.0, ge=0)
    """The community member's initial OCEAN."""
    salary_per_month: float = Field(2000.0, ge=0)
    """A VV proposal's salary (OCEAN per 30-day month of project time)."""
    continuing_weight: float = Field(0.6, ge=0)
    """The VV DAO's score factor for a continuing proposal."""


def _yp(cols: list[str], labels: list[str], name: str, scale: int = LINEAR) -> YParam | None:
    """A DARC ``YParam`` drawn as DARC-SPICE does: ``zip(columns, labels)`` (so only the
    first min(len) columns are drawn) and a legend only for 2-5 labels."""
    n = min(len(cols), len(labels))
    if n == 0:
        return None  # DARC-SPICE's plot fails on an empty plot (max of nothing)
    lab = labels[:n] if 2 <= len(labels) <= 5 else [""] * n
    return YParam(cols[:n], lab, name, scale, MULT1, COUNT)


class PublicFundingNetlistBase(Netlist):
    """The three public-funding netlists (module docstring). Subclasses set ``layout``:
    ``"public"`` (5.5), ``"growth"`` (5.6) or ``"community"`` (5.7)."""

    Params: ClassVar[type[NetlistParams]] = PublicFundingParams
    csv_style = "darc"
    x_label = "Month"
    protocols: ClassVar[tuple[str, ...] | None] = ("governance",)
    layout: ClassVar[str] = "public"

    def __init__(self, params: NetlistParams | None = None) -> None:
        super().__init__(params)
        self.state: DarcState | None = None
        self.world: DarcPublicWorld | None = None
        self._cols: list[str] = []
        self._cols_key: tuple[int, ...] = (-1,)

    # -- build -----------------------------------------------------------------------
    def strategy(self) -> DarcStrategy:
        """The agents' constants from the parameters."""
        p = self.params
        return DarcStrategy(
            price_of_assets=p.price_of_assets, ratio_funds_to_publish=p.ratio_funds_to_publish,
            proposals_funded_at_a_time=p.proposals_funded_at_a_time, funding_boundary=p.funding_boundary,
            private_publish_cost=dict(p.private_publish_cost),
            asset_costs={m: dict(c) for m, c in p.asset_costs.items()}, market_fee=p.transaction_fees,
            grant_min=p.grant_min, grant_max=p.grant_max, assets_min=p.assets_min,
            assets_max=p.assets_max, time_min=p.time_min, time_max=p.time_max,
            no_researchers=p.no_researchers,
            salary_per_month=getattr(p, "salary_per_month", 2000.0),
            continuing_weight=getattr(p, "continuing_weight", 0.6),
            market_generation_threshold=getattr(p, "market_generation_threshold", 30))

    def build_agents(self, sim: Simulation) -> list[Agent]:
        """DARC-SPICE's ``SimState``: the DAO, public then private researchers (each
        built 3 times, so 3 asset-type draws), [the generator], the private and public
        markets, [the member]; one runner agent steps them."""
        p = self.params
        community = self.layout == "community"
        sim.create_asset("OCEAN", OCEAN_DECIMALS)
        st = DarcState(sim, self.rng, self.strategy(), strict=p.strict_asserts)
        self.state = st
        dao_cls = VVersatileDAOTreasuryAgent if community else VersatileDAOTreasuryAgent
        r_cls = VVersatileResearcherAgent if community else VersatileResearcherAgent
        st.open_wallet(TREASURY, p.dao_init_OCEAN)
        st.addAgent(dao_cls(TREASURY))
        n_pub, n_priv = p.n_public_researchers, (0 if community else p.n_private_researchers)
        for i in range(n_pub + n_priv):
            kind = "public" if i < n_pub else "private"
            name = hex_name("researcher", i)
            st.open_wallet(name, p.public_researcher_init_OCEAN if kind == "public"
                           else p.private_researcher_init_OCEAN)
            st.addAgent(r_cls(name, kind, self.rng))
            # DARC builds each researcher 3 times (agents, researchers, public/private
            # dicts); the copies' asset-type draws are consumed and discarded
            for _ in range(2):
                self.rng.choice(["data", "algo"] if kind == "public" else ["data", "algo", "compute"])
            st.researchers.append(name)
            (st.public_researchers if kind == "public" else st.private_researchers).append(name)
        if self.layout == "growth":
            st.open_wallet("generator", 0.0)
            st.addAgent(ResearcherGeneratorAgent(
                "generator", p.generator_cond_type, p.generator_type, p.time_interval, p.start_gen,
                p.generated_researcher_init_OCEAN))
        for market_cls, name in ((PrivateKnowledgeMarketAgent, PRIVATE_MARKET),
                                 (PublicKnowledgeMarketAgent, PUBLIC_MARKET)):
            st.open_wallet(name, 0.0)
            st.addAgent(market_cls(name, p.transaction_fees))
        if community:
            st.open_wallet("member", p.member_init_OCEAN)
            st.addAgent(CommunityAgent("member"))
        if self.layout != "public":
            st.kpis = DarcKPIs(markets_quirk=self.layout == "growth", community=community)
        self.world = DarcPublicWorld("darc_world", st, round(p.step_seconds * 1e9),
                                     self.total_steps() - 1, event_driven=p.event_driven)
        return [self.world]

    # -- columns ---------------------------------------------------------------------
    def _public_block(self, name: str) -> list[str]:
        r = self.state.agents[name]  # type: ignore[union-attr]
        return [f"{name}_knowledge_access", f"{name}_no_proposals", f"{name}_no_proposals_funded",
                f"{name}_total_funding", f"{name}_total_assets_mrkt", f"{name}_public_OCEAN",
                f"{name}_{r.research_type}_total_assets_{r.asset_type}_in_market"]

    def _private_block(self, name: str) -> list[str]:
        r = self.state.agents[name]  # type: ignore[union-attr]
        return [f"{name}_total_assets_mrkt", f"{name}_private_OCEAN",
                f"{name}_{r.research_type}_total_assets_{r.asset_type}_in_market"]

    _DAO = ["dao_treasury_OCEAN", "dao_treasury_funded_proposals_integration",
            "dao_treasury_funded_proposals_novelty", "dao_treasury_funded_proposals_in_index",
            "funded_proposals_impact"]
    _MARKETS = ["private_market_OCEAN", "private_market_fees_OCEAN", "private_market_assets",
                "public_market_OCEAN", "public_market_fees_OCEAN", "public_market_assets"]
    _TOTALS = ["total_value_in_treasury", "total_value_in_researchers",
               "total_value_in_public_researchers", "total_value_in_private_researchers",
               "total_value_in_markets", "total_value_of_system", "relative_value_in_markets",
               "relative_value_in_researchers", "relative_value_in_treasury"]

    def columns(self) -> list[str]:
        """The netlist's KPI columns now (they grow with generated researchers)."""
        st = self.state
        if st is None:
            return []
        key = (len(st.public_researchers), len(st.private_researchers))
        if key != self._cols_key:
            researchers: list[str] = []
            for n in st.public_researchers:
                researchers += self._public_block(n)
            for n in st.private_researchers:
                researchers += self._private_block(n)
            if self.layout == "public":
                cols = researchers + self._DAO + self._MARKETS
            else:
                cols = self._DAO + self._MARKETS + self._TOTALS
                if self.layout == "community":
                    cols += ["community_curiosity", "community_knowledge_access"]
                cols += researchers
            self._cols, self._cols_key = cols, key
        return self._cols

    def row(self, sim: Simulation) -> list[Any]:
        """The values of :meth:`columns` (spec 5.5-5.7: ``my_OCEAN`` snapshots, the DAO's
        evaluation averages, market totals, the KPI lists' last entries)."""
        st = self.state
        assert st is not None
        ag = st.agents
        researchers: list[Any] = []
        for n in st.public_researchers:
            r = ag[n]
            researchers += [r.knowledge_access, r.no_proposals_submitted, r.no_proposals_funded,
                            r.total_research_funds_received, r.total_assets_in_mrkt, r.my_OCEAN,
                            r.total_assets_in_mrkt]
        for n in st.private_researchers:
            r = ag[n]
            researchers += [r.total_assets_in_mrkt, r.my_OCEAN, r.total_assets_in_mrkt]
        dao, pm, pub = ag[TREASURY], ag[PRIVATE_MARKET], ag[PUBLIC_MARKET]
        head = [st.ocean(TREASURY), dao.integration, dao.novelty, dao.in_index, dao.impact,
                st.ocean(PRIVATE_MARKET), pm.total_fees, pm.total_knowledge_assets,
                st.ocean(PUBLIC_MARKET), pub.total_fees, pub.total_knowledge_assets]
        if self.layout == "public":
            return researchers + head
        k = st.kpis
        assert k is not None
        head += [k.treasury, k.researchers, k.public, k.private, k.markets, k.system,
                 k.rel_markets, k.rel_researchers, k.rel_treasury]
        if self.layout == "community":
            head += [k.curiosity, k.community_knowledge_access]
        return head + researchers

    def rp_columns(self) -> list[str] | None:
        """DARC-SPICE writes ``rpdata.csv`` for every netlist; these have no rp columns
        (``netlist_rp_createLogData`` returns none), so it holds the engine's 7."""
        return []

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        """``darc_assertion_failures`` (DARC-SPICE assertions that failed so far) and
        ``n_researchers``."""
        st = self.state
        if st is None:
            return {}
        return {"darc_assertion_failures": float(len(st.anomalies)),
                "n_researchers": float(len(st.researchers))}

    # -- plots -----------------------------------------------------------------------
    @staticmethod
    def _plot_lists(header: list[str]) -> dict[str, list[str]]:
        """DARC-SPICE's column selections of its plot functions (by substring)."""
        r_list = [e for e in header if "researcher" in e]
        researchers: list[str] = []
        for idx in range(200):
            tag = hex_name("researcher", idx)
            for c in r_list:
                if tag in c and tag not in researchers:
                    researchers.append(tag)
        researchers.reverse()
        return {
            "researchers": researchers,
            "proposals": [c for c in r_list if "proposals" in c[-9:]],
            "funded": [c for c in r_list if "_no_proposals_funded" in c],
            "access": [c for c in r_list if "knowledge_access" in c],
            "funding": [c for c in r_list if "_total_funding" in c],
            "pub_ocean": [c for c in r_list if "_public_OCEAN" in c],
            "priv_ocean": [c for c in r_list if "_private_OCEAN" in c],
            "assets": [c for c in r_list if "total_assets_mrkt" in c],
            "pub_assets": [c for c in r_list if "public_total_assets_" in c],
            "priv_assets": [c for c in r_list if "private_total_assets_" in c],
        }

    def _research_plots(self, header: list[str], private: bool = True) -> list[YParam | None]:
        """The 5.5 plots, in DARC-SPICE's order (``private``: with the two private ones)."""
        L = self._plot_lists(header)  # noqa: N806
        rs = L["researchers"]
        out = [
            _yp(L["funded"], rs, "#_proposals_FUNDED"),
            _yp(["dao_treasury_funded_proposals_integration", "dao_treasury_funded_proposals_novelty",
                 "dao_treasury_funded_proposals_in_index"], ["integration", "novelty", "in_index"],
                "integration vs novelty in funded proposals"),
            _yp(["funded_proposals_impact"], ["impact"], "impact of funded proposals"),
            _yp(L["proposals"], rs, "#_proposals"),
            _yp(L["funding"], rs, "OCEAN funding"),
            _yp(L["assets"], rs, "Assets in Knowledge Market"),
            _yp(L["pub_assets"], L["pub_assets"], "Public Researchers Assets in Knowledge Market"),
        ]
        if private:
            out.append(_yp(L["priv_assets"], L["priv_assets"],
                           "Private Researchers Assets in Knowledge Market"))
        out += [_yp(L["access"], rs, "Knowledge access index"),
                _yp(L["pub_ocean"], L["pub_ocean"], "Public Researcher OCEAN")]
        if private:
            out.append(_yp(L["priv_ocean"], L["priv_ocean"], "Private Researcher OCEAN"))
        out += [
            _yp(["dao_treasury_OCEAN"], ["dao_treasury"], "DAO_Treasury_OCEAN"),
            _yp(["private_market_OCEAN", "public_market_OCEAN"], ["private_market", "public_market"],
                "Private vs Public Market OCEAN", LOG),
            _yp(["private_market_fees_OCEAN", "public_market_fees_OCEAN"],
                ["private_market", "public_market"],
                "Total fees collected through private vs public market"),
        ]
        return out

    @staticmethod
    def _value_plots() -> list[YParam | None]:
        """The four system-value plots of 5.6."""
        return [
            _yp(["total_value_in_treasury", "total_value_in_researchers", "total_value_in_markets"],
                ["treasury", "researchers", "markets"], "Value distribution in the system"),
            _yp(["total_value_in_researchers", "total_value_in_public_researchers",
                 "total_value_in_private_researchers"],
                ["researchers", "public_researchers", "private_researchers"],
                "Value distribution across researcher types"),
            _yp(["total_value_of_system"], [""], "Total value in the system"),
            _yp(["relative_value_in_markets", "relative_value_in_researchers",
                 "relative_value_in_treasury"], ["markets", "researchers", "treasury"],
                "Relative value distribution in the system"),
        ]


def keep(specs: list[YParam | None]) -> list[YParam]:
    """The specs that draw something."""
    return [s for s in specs if s is not None]


__all__ = ["CommunityParams", "GrowthParams", "PublicFundingNetlistBase", "PublicFundingParams", "keep"]
