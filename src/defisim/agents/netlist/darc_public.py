"""DARC-SPICE's public/private funding agents (``opsci_pp_agents``), for the netlists
``opsci_public_funding_ps``, ``growth_public_funding_ps`` and
``community_growth_public_funding_ps`` (``../shared/specs/token-netlists.md`` 5.4-5.7;
source ``opscientia/darcspice`` 3f0602a, ``assets/agents/opsci_pp_agents/``).

The classes keep DARC-SPICE's names and logic: :class:`VersatileDAOTreasuryAgent` (and
:class:`VVersatileDAOTreasuryAgent`), :class:`VersatileResearcherAgent` (public or
private; :class:`VVersatileResearcherAgent`), :class:`PrivateKnowledgeMarketAgent`,
:class:`PublicKnowledgeMarketAgent`, :class:`ResearcherGeneratorAgent`,
:class:`CommunityAgent` and :class:`ResearchProject`; every quirk of the spec is kept
(listed on each class). They are plain objects stepped by one runner agent,
:class:`DarcPublicWorld`, in DARC-SPICE's order (``SimState.agents`` insertion order;
agents created during a tick are appended and first stepped on the next tick), so:

- generated researchers join the stepping order during the run (the runner's agent
  list is fixed when the run is built);
- the run is event-driven: most hours only the losing public researchers redraw a
  proposal (5 draws each, nothing else changes). The world detects such quiet hours
  (:meth:`DarcPublicWorld.quiet_next`), sleeps until the next hour where anything else
  can happen (a project ends, the generator's interval) and replays the skipped hours'
  draws in a tight loop, in DARC-SPICE's call order, before that hour's own draws.

Money: every agent is a ledger party holding ``OCEAN`` (18 decimals) as integer wei;
amounts move with :func:`~defisim.agents.netlist.wallets.evm_transfer` (``darc=True``:
``int(x·10**18)``, the 1e-12 whole-balance rule, refusals raise), balances read as
``float(wei/10**18)`` (:func:`~defisim.agents.netlist.wallets.darc_from_base18`)
(DARC-SPICE's ``AgentWallet``, spec 1.6). Initial holdings are minted (DARC's wallet
mints them from the token's owner). Randomness: one shared :class:`random.Random`
(the netlist's), consumed in DARC-SPICE's call order (``random.choice``/``randint``/
``random``/``uniform`` are reproduced draw for draw).

DARC-SPICE's assertions (public market reconciliation, the DAO's "at most K accepted"
check, the community member's project choice) stop its run when they fail. Here a
failure is recorded in :attr:`DarcState.anomalies` (tick and text) and the run goes
on with the values computed so far (``strict=True``: raise :class:`DarcAssertionError`
instead, as DARC-SPICE).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from defisim.agents.base import Agent

from .wallets import darc_from_base18, darc_to_base18, evm_transfer

if TYPE_CHECKING:
    from defisim.service import Simulation

OCEAN = "OCEAN"
PUBLIC_MARKET = "public_market"
PRIVATE_MARKET = "private_market"
TREASURY = "dao_treasury"
_MARKET_CHOICES = (PRIVATE_MARKET, PUBLIC_MARKET)
_ASSET_CHOICES = ("data", "compute")


class DarcAssertionError(AssertionError):
    """A DARC-SPICE assertion that failed (raised only in strict mode)."""


class DarcStrategy:
    """The SimStrategy constants the agents read (DARC-SPICE ``SimStrategy``, spec 5.5).

    Amounts in OCEAN (floats, as DARC-SPICE), ticks in hours.
    """

    def __init__(self, *, price_of_assets: float = 1000.0, ratio_funds_to_publish: float = 0.4,
                 proposals_funded_at_a_time: int = 3, funding_boundary: float = 10000.0,
                 private_publish_cost: dict[str, float] | None = None,
                 asset_costs: dict[str, dict[str, float]] | None = None,
                 market_fee: float = 0.1, grant_min: int = 10000, grant_max: int = 50000,
                 assets_min: int = 1, assets_max: int = 10, time_min: int = 5000,
                 time_max: int = 15000, no_researchers: int = 10,
                 salary_per_month: float = 2000.0, continuing_weight: float = 0.6,
                 market_generation_threshold: int = 30) -> None:
        self.PRICE_OF_ASSETS = price_of_assets
        self.RATIO_FUNDS_TO_PUBLISH = ratio_funds_to_publish
        self.PROPOSALS_FUNDED_AT_A_TIME = proposals_funded_at_a_time
        self.FUNDING_BOUNDARY = funding_boundary
        self.PRIVATE_PUBLISH_COST = private_publish_cost or {"data": 20000, "algo": 20000, "compute": 30000}
        self.ASSET_COSTS = asset_costs or {
            PRIVATE_MARKET: {"data": 20000, "algo": 20000, "compute": 30000},
            PUBLIC_MARKET: {"data": 1000, "algo": 1000, "compute": 2000}}
        self.market_fee = market_fee
        self.grant_min, self.grant_max = grant_min, grant_max
        self.assets_min, self.assets_max = assets_min, assets_max
        self.time_min, self.time_max = time_min, time_max
        self.no_researchers = no_researchers
        self.salary_per_month = salary_per_month
        self.continuing_weight = continuing_weight
        self.market_generation_threshold = market_generation_threshold
        g_n = grant_max - grant_min + 1
        a_n = assets_max - assets_min + 1
        t_n = time_max - time_min + 1
        self.draw_ranges = (g_n, g_n.bit_length(), a_n, a_n.bit_length(), t_n, t_n.bit_length())
        """(n, bits) of the grant, assets and time draws (``randint`` = min + _randbelow(n))."""


class DarcState:
    """DARC-SPICE's ``SimState`` for these netlists: the stepping order, the researcher
    registries (names, in DARC's dict order), projects, KPI lists and the wallet calls.

    Args:
        sim: the simulation (ledger parties, ``OCEAN`` in wei).
        rng: the netlist's shared random stream.
        ss: the strategy constants.
        strict: raise :class:`DarcAssertionError` where DARC-SPICE's assertions fail.
    """

    def __init__(self, sim: Simulation, rng: random.Random, ss: DarcStrategy,
                 strict: bool = False) -> None:
        self.sim = sim
        self.rng = rng
        self.ss = ss
        self.strict = strict
        self.tick = 0
        self.agents: dict[str, Any] = {}
        self.researchers: list[str] = []
        self.public_researchers: list[str] = []
        self.private_researchers: list[str] = []
        self.projects: dict[str, ResearchProject] = {}
        self.anomalies: list[tuple[int, str]] = []
        """(tick, text) of every DARC-SPICE assertion that failed (non-strict mode)."""
        self.kpis: DarcKPIs | None = None
        self.minted_wei = 0
        """OCEAN minted into the economy (initial wallets, generated researchers)."""

    # -- wallets (DARC AgentWallet, spec 1.6) ----------------------------------------
    def ocean(self, name: str) -> float:
        """``name``'s OCEAN as DARC's ``OCEAN()``: ``float(wei/10**18)``."""
        return darc_from_base18(self.sim.balance(name, OCEAN, raw=True))

    def transfer(self, src: str, dst: str, amount: float) -> int:
        """``_transferOCEAN``: EVM wallet rules; returns the wei moved."""
        return evm_transfer(self.sim, src, dst, OCEAN, amount, darc=True)

    def open_wallet(self, name: str, amount: float) -> None:
        """A new agent's wallet: a ledger party funded with ``int(amount·10**18)`` wei."""
        self.sim.create_party(name)
        wei = darc_to_base18(amount)
        if wei:
            self.sim.mint_raw(name, OCEAN, wei)
        self.minted_wei += wei

    # -- registry --------------------------------------------------------------------
    def getAgent(self, name: str) -> Any:  # noqa: N802  (DARC-SPICE's name)
        """The agent called ``name``."""
        return self.agents[name]

    def addAgent(self, agent: Any) -> None:  # noqa: N802
        """Append ``agent`` to the stepping order (first stepped on the next tick)."""
        if agent.name in self.agents:
            raise ValueError(f"have an agent with this name: {agent.name}")
        self.agents[agent.name] = agent

    def addResearcherAgent(self, agent: Any) -> None:  # noqa: N802
        """Register a generated (private) researcher (growth ``SimState``)."""
        if agent.name in self.researchers or agent.name in self.private_researchers:
            raise ValueError(f"have an agent with this name: {agent.name}")
        self.researchers.append(agent.name)
        self.private_researchers.append(agent.name)

    def fail(self, text: str) -> None:
        """A DARC-SPICE assertion failed: record it (or raise in strict mode)."""
        if self.strict:
            raise DarcAssertionError(f"tick {self.tick}: {text}")
        self.anomalies.append((self.tick, text))


# ---------------------------------------------------------------------------- DAO
class VersatileDAOTreasuryAgent:
    """The rolling-funding DAO over the public researchers (spec 5.4, 5.5).

    Each tick: can_fund = every public researcher has a proposal and OCEAN > FB;
    ``update`` = 0; OCEAN < FB clears the evaluation; finished projects leave it; it is
    topped up to K winners (lowest score first, grant paid at once as
    min(OCEAN, grant), stop below FB). Score = grant/no_researchers/assets/time/
    knowledge_access. ``integration``/``novelty`` = sums over the evaluation / K,
    ``in_index`` their product, ``impact`` the last winner's.
    """

    continuing = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.integration = 0.0
        self.novelty = 0.0
        self.in_index = 0.0
        self.impact = 0.0
        self.proposal_evaluation: dict[int, dict[str, Any]] = {}
        self.update = 0
        self.proposal_evaluation_update: dict[int, dict[str, Any]] = {}
        self.total_research_funds_disbursed = 0.0

    def score(self, agent: Any, ss: DarcStrategy) -> float:
        """The proposal's score (lowest wins)."""
        p = agent.proposal
        return p["grant_requested"] / p["no_researchers"] / p["assets_generated"] / p["time"] / \
            p["knowledge_access"]

    def evaluateProposal(self, st: DarcState) -> None:  # noqa: N802
        """Fund the best proposals not yet in the evaluation, up to K (class docstring)."""
        ss = st.ss
        k = ss.PROPOSALS_FUNDED_AT_A_TIME
        scores: dict[str, float] = {}
        self.proposal_evaluation_update = {}
        skipping = {e["winner"] for e in self.proposal_evaluation.values()}
        for name in st.public_researchers:
            if name in skipping:
                continue
            scores[name] = self.score(st.agents[name], ss)
        start = (list(self.proposal_evaluation)[-1] + 1) if self.proposal_evaluation else 0
        winner = ""
        for i in range(start, start + k):
            winner = min(scores, key=scores.__getitem__)
            p = st.agents[winner].proposal
            entry = {"winner": winner, "amount": p["grant_requested"], "integration": p["integration"],
                     "novelty": p["novelty"], "impact": p["impact"]}
            self.proposal_evaluation[i] = entry
            del scores[winner]
            st.transfer(self.name, winner, min(st.ocean(self.name), entry["amount"]))
            self.total_research_funds_disbursed += entry["amount"]
            self.proposal_evaluation_update[i] = dict(entry)
            self.update += 1
            if st.ocean(self.name) < ss.FUNDING_BOUNDARY:
                break
            if len(self.proposal_evaluation) == k:
                break
        self.integration = 0.0
        self.novelty = 0.0
        for e in self.proposal_evaluation.values():
            self.integration += e["integration"] / k
            self.novelty += e["novelty"] / k
        self.in_index = self.integration * self.novelty
        self.impact = st.agents[winner].proposal["impact"]

    def can_fund(self, st: DarcState, ocean: float) -> bool:
        """Every public proposal ready and OCEAN > FB."""
        agents = st.agents
        return all(agents[n].proposal for n in st.public_researchers) and ocean > st.ss.FUNDING_BOUNDARY

    def take_step(self, st: DarcState) -> None:
        """One tick (class docstring)."""
        ss = st.ss
        ocean = st.ocean(self.name)
        can_fund = self.can_fund(st, ocean)
        self.update = 0
        if ocean < ss.FUNDING_BOUNDARY:
            self.proposal_evaluation = {}
        if self.proposal_evaluation:
            for i, e in list(self.proposal_evaluation.items()):
                if st.agents[e["winner"]].research_finished:
                    del self.proposal_evaluation[i]
            if len(self.proposal_evaluation) < ss.PROPOSALS_FUNDED_AT_A_TIME and can_fund:
                self.evaluateProposal(st)
        if not self.proposal_evaluation and can_fund:
            self.evaluateProposal(st)
        accepted = sum(1 for n in st.public_researchers if st.agents[n].proposal_accepted)
        if accepted > ss.PROPOSALS_FUNDED_AT_A_TIME:
            st.fail(f"{self.name}: {accepted} accepted proposals > K = {ss.PROPOSALS_FUNDED_AT_A_TIME}")

    def quiet(self, st: DarcState) -> bool:
        """True when this DAO's next step changes nothing (no clearing, no finished
        project to drop, no evaluation)."""
        ocean = st.ocean(self.name)
        ev = self.proposal_evaluation
        if ev and ocean < st.ss.FUNDING_BOUNDARY:
            return False
        if any(st.agents[e["winner"]].research_finished for e in ev.values()):
            return False
        if len(ev) < st.ss.PROPOSALS_FUNDED_AT_A_TIME and self.can_fund(st, ocean):
            return False
        return True


class VVersatileDAOTreasuryAgent(VersatileDAOTreasuryAgent):
    """The community netlist's DAO (spec 5.7): as :class:`VersatileDAOTreasuryAgent`,
    the score multiplied by ``continuing_weight`` (0.6) for a continuing proposal."""

    def score(self, agent: Any, ss: DarcStrategy) -> float:
        p = agent.proposal
        w = ss.continuing_weight if p["continuing"] else 1.0
        return w * (p["grant_requested"] / p["no_researchers"] / p["assets_generated"] / p["time"] /
                    p["knowledge_access"])


# ---------------------------------------------------------------------- researchers
class VersatileResearcherAgent:
    """A public or private researcher (spec 5.5).

    ``asset_type`` is drawn at construction (``choice([data, algo])`` if public, of
    ``[data, algo, compute]`` if private). **Public**: the 5.4 rolling researcher —
    winners publish their grant to ``public_market``, losers redraw a proposal every
    tick while the evaluation is full and buy ``update`` assets (1000 OCEAN each) on
    evaluation ticks; each publish or buy first draws a market and an asset (only the
    asset is kept). **Private**: snapshots its OCEAN each tick and acts only on ticks
    with DAO updates, alternating buy (affordability tested against the drawn asset's
    price, a data provider buys 'algo') and publish (needs ROI: OCEAN > OCEAN at its
    last publish).
    """

    def __init__(self, name: str, research_type: str, rng: random.Random, evaluator: str = TREASURY) -> None:
        self.name = name
        self.research_type = research_type
        self.asset_type = rng.choice(["data", "algo"] if research_type == "public"
                                     else ["data", "algo", "compute"])
        self._evaluator = evaluator
        self.last_integration: float | None = None
        self.last_novelty: float | None = None
        self.proposal: dict[str, Any] = {}
        self.knowledge_access: float = 1.0
        self.ticks_since_proposal = 0
        self.proposal_accepted = False
        self.research_finished = False
        self.private_bought_last_tick = False
        self.my_OCEAN: float = 0.0
        self.no_proposals_submitted = 0
        self.no_proposals_funded = 0
        self.total_research_funds_received: float = 0.0
        self.total_assets_in_mrkt = 0
        self.ratio_funds_to_publish = 0.0
        self.last_tick_spent = 0
        self.total_OCEAN_spent_this_tick = 0.0
        self.last_OCEAN_spent: dict[str, Any] = {}
        self.OCEAN_last_action = 0.0
        self._quiet: tuple[int, int, int] = (0, 0, 0)

    # -- draws -----------------------------------------------------------------------
    def _integration(self, rng: random.Random) -> float:
        last = self.last_integration
        if last is None:
            v = rng.random()
        elif last < 0.5:
            v = rng.uniform(0.0, 0.5)
        else:
            v = rng.uniform(0.5, 1.0)
        self.last_integration = v
        return v

    def _novelty(self, rng: random.Random) -> float:
        last = self.last_novelty
        if last is None:
            v = rng.random()
        elif last < 0.5:
            v = rng.uniform(0.0, 0.5)
        else:
            v = rng.uniform(0.5, 1.0)
        self.last_novelty = v
        return v

    def _impact(self) -> float:
        i, n = self.last_integration, self.last_novelty
        return 10 * i if n < i else 10 * n  # type: ignore[operator]

    def createProposal(self, st: DarcState) -> dict[str, Any]:  # noqa: N802
        """Draws, in order: grant, assets, time, integration, novelty (spec 5.4)."""
        rng, ss = st.rng, st.ss
        self.research_finished = False
        return {"grant_requested": rng.randint(ss.grant_min, ss.grant_max),
                "assets_generated": rng.randint(ss.assets_min, ss.assets_max),
                "no_researchers": ss.no_researchers,
                "time": rng.randint(ss.time_min, ss.time_max),
                "knowledge_access": self.knowledge_access,
                "integration": self._integration(rng),
                "novelty": self._novelty(rng),
                "impact": self._impact()}

    def quiet_draw(self, rng: random.Random, ss: DarcStrategy) -> None:
        """One loser redraw of :meth:`createProposal` (the same draws: ``randint`` is
        ``a + _randbelow(b - a + 1)``, ``uniform(a, b)`` is ``a + (b - a)·random()``),
        keeping the raw values; :meth:`end_quiet` makes the proposal. Only for hours
        where nothing else happens (see the module)."""
        gb = rng.getrandbits
        g_n, g_k, a_n, a_k, t_n, t_k = ss.draw_ranges
        g = gb(g_k)
        while g >= g_n:
            g = gb(g_k)
        a = gb(a_k)
        while a >= a_n:
            a = gb(a_k)
        t = gb(t_k)
        while t >= t_n:
            t = gb(t_k)
        self._quiet = (g, a, t)
        self._integration(rng)
        self._novelty(rng)

    def end_quiet(self, ss: DarcStrategy) -> None:
        """The proposal of the last :meth:`quiet_draw`."""
        g, a, t = self._quiet
        self.proposal = {"grant_requested": ss.grant_min + g, "assets_generated": ss.assets_min + a,
                         "no_researchers": ss.no_researchers, "time": ss.time_min + t,
                         "knowledge_access": self.knowledge_access,
                         "integration": self.last_integration, "novelty": self.last_novelty,
                         "impact": self._impact()}
        self.research_finished = False

    def _market_and_asset(self, rng: random.Random) -> tuple[str, str]:
        return rng.choice(_MARKET_CHOICES), rng.choice(_ASSET_CHOICES)

    # -- public ----------------------------------------------------------------------
    def publish_amount(self) -> float:
        """What a winner sends to the public market: its grant."""
        return self.proposal["grant_requested"]

    def _BuyAndPublishAssets(self, st: DarcState) -> None:  # noqa: N802
        _, asset = self._market_and_asset(st.rng)
        ocean = st.ocean(self.name)
        self.last_tick_spent = st.tick
        self.ratio_funds_to_publish = st.ss.RATIO_FUNDS_TO_PUBLISH
        if ocean != 0 and self.proposal:
            amount = self.publish_amount()
            self.total_OCEAN_spent_this_tick += amount
            self.last_OCEAN_spent = {"tick": st.tick, "spent": self.total_OCEAN_spent_this_tick,
                                     "market": PUBLIC_MARKET, "asset_buy": asset, "publish": True,
                                     "ratio": self.ratio_funds_to_publish}
            st.transfer(self.name, PUBLIC_MARKET, amount)
            self.knowledge_access += 1

    def _BuyAssets(self, st: DarcState) -> None:  # noqa: N802
        _, asset = self._market_and_asset(st.rng)
        ocean = st.ocean(self.name)
        self.last_tick_spent = st.tick
        self.ratio_funds_to_publish = 0.0
        price = st.ss.PRICE_OF_ASSETS
        if ocean != 0 and ocean >= price and self.proposal:
            self.total_OCEAN_spent_this_tick += price
            self.last_OCEAN_spent = {"tick": st.tick, "spent": self.total_OCEAN_spent_this_tick,
                                     "market": PUBLIC_MARKET, "asset_buy": asset, "publish": False,
                                     "ratio": self.ratio_funds_to_publish}
            self.knowledge_access += 1
            self.proposal["knowledge_access"] = self.knowledge_access
            st.transfer(self.name, PUBLIC_MARKET, price)

    def on_accept(self, st: DarcState) -> None:
        """Hook at acceptance (VV: create the research project)."""

    def _checkIfFunded(self, st: DarcState) -> None:  # noqa: N802
        dao = st.agents[self._evaluator]
        ev = dao.proposal_evaluation
        if ev and not self.proposal_accepted and len(ev) == st.ss.PROPOSALS_FUNDED_AT_A_TIME:
            if any(e["winner"] == self.name for e in ev.values()):
                self.proposal_accepted = True
                self.on_accept(st)
                self.ticks_since_proposal = 0
                self.no_proposals_funded += 1
                self.total_assets_in_mrkt += self.proposal["assets_generated"]
                self.total_research_funds_received += self.proposal["grant_requested"]
                if st.ocean(self.name) >= self.proposal["grant_requested"]:
                    self._BuyAndPublishAssets(st)
            else:
                self.proposal_accepted = False
                self.proposal = self.createProposal(st)
                for _ in range(dao.update):
                    self._BuyAssets(st)

    def _public_step(self, st: DarcState) -> None:
        self.total_OCEAN_spent_this_tick = 0.0
        self._checkIfFunded(st)
        if not self.proposal:
            self.proposal = self.createProposal(st)
            self.no_proposals_submitted += 1
            self.ticks_since_proposal = 0
        if self.proposal:
            self.ticks_since_proposal += 1
            if self.proposal_accepted and self.ticks_since_proposal - self.proposal["time"] == 0:
                self.research_finished = True
                self.proposal = {}
                self.proposal_accepted = False
        self.my_OCEAN = st.ocean(self.name)

    # -- private ---------------------------------------------------------------------
    def _privatePublishAssets(self, st: DarcState) -> None:  # noqa: N802
        ocean = st.ocean(self.name)
        self.last_tick_spent = st.tick
        self.ratio_funds_to_publish = 1.0
        cost = st.ss.PRIVATE_PUBLISH_COST[self.asset_type]
        if ocean >= cost:
            assets = st.rng.randint(st.ss.assets_min, st.ss.assets_max)
            self.total_assets_in_mrkt += assets
            self.last_OCEAN_spent = {"tick": st.tick, "spent": cost, "market": PRIVATE_MARKET,
                                     "asset_buy": None, "publish": True,
                                     "ratio": self.ratio_funds_to_publish, "assets_generated": assets}
            st.transfer(self.name, PRIVATE_MARKET, cost)

    def _privateBuyAssets(self, st: DarcState) -> None:  # noqa: N802
        if st.ocean(self.name) > 0:
            market, asset = self._market_and_asset(st.rng)
            costs = st.ss.ASSET_COSTS[market]
            if st.ocean(self.name) > costs[asset]:
                if self.asset_type == "algo":
                    pass
                elif self.asset_type == "data":
                    asset = "algo"  # quirk: affordability was tested against the drawn asset
                else:
                    return  # a compute provider never buys
                self.last_OCEAN_spent = {"tick": st.tick, "spent": costs[asset], "market": market,
                                         "asset_buy": asset, "publish": False, "ratio": 0}
                st.transfer(self.name, market, costs[asset])

    def _private_step(self, st: DarcState) -> None:
        self.my_OCEAN = st.ocean(self.name)
        if st.agents[self._evaluator].update > 0:
            if not self.private_bought_last_tick:
                self.private_bought_last_tick = True
                self._privateBuyAssets(st)
            elif st.ocean(self.name) > self.OCEAN_last_action:
                self._privatePublishAssets(st)
                self.private_bought_last_tick = False
                self.OCEAN_last_action = st.ocean(self.name)

    def take_step(self, st: DarcState) -> None:
        """One tick (class docstring)."""
        self.last_OCEAN_spent = {}
        if self.research_type == "public":
            self._public_step(st)
        else:
            self._private_step(st)


class VVersatileResearcherAgent(VersatileResearcherAgent):
    """The community netlist's researcher (spec 5.7): proposal draws, in order, base grant,
    time, continuing, assets, integration, novelty; grant = base + salary with salary =
    (time/24/30)·2000; a winner publishes grant − salary and creates the
    :class:`ResearchProject` ``"{name}_{no_proposals_funded}"`` at acceptance."""

    def __init__(self, name: str, research_type: str, rng: random.Random, evaluator: str = TREASURY) -> None:
        super().__init__(name, research_type, rng, evaluator)
        self.proposal_params: dict[str, Any] = {}

    def createProposal(self, st: DarcState) -> dict[str, Any]:  # noqa: N802
        rng, ss = st.rng, st.ss
        self.research_finished = False
        pp = self.proposal_params
        pp["grant_requested"] = rng.randint(ss.grant_min, ss.grant_max)
        pp["time"] = rng.randint(ss.time_min, ss.time_max)
        pp["continuing"] = rng.choice([True, False])
        pp["salary"] = (pp["time"] / 24 / 30) * ss.salary_per_month
        return {"grant_requested": pp["grant_requested"] + pp["salary"],
                "assets_generated": rng.randint(ss.assets_min, ss.assets_max),
                "no_researchers": ss.no_researchers,
                "time": pp["time"],
                "knowledge_access": self.knowledge_access,
                "integration": self._integration(rng),
                "novelty": self._novelty(rng),
                "impact": self._impact(),
                "continuing": pp["continuing"]}

    def quiet_draw(self, rng: random.Random, ss: DarcStrategy) -> None:
        """One loser redraw (the draws of :meth:`createProposal`)."""
        self._quiet_p = self.createProposal(_RedrawState(rng, ss))  # type: ignore[arg-type]

    def end_quiet(self, ss: DarcStrategy) -> None:
        self.proposal = self._quiet_p
        self.research_finished = False

    def publish_amount(self) -> float:
        return self.proposal["grant_requested"] - self.proposal_params["salary"]

    def on_accept(self, st: DarcState) -> None:
        name = f"{self.name}_{self.no_proposals_funded}"
        p = self.proposal
        st.projects[name] = ResearchProject(name, self.name, p["grant_requested"], p["impact"],
                                            p["integration"], p["novelty"])


class _RedrawState:
    """The two attributes :meth:`VVersatileResearcherAgent.createProposal` reads."""

    def __init__(self, rng: random.Random, ss: DarcStrategy) -> None:
        self.rng = rng
        self.ss = ss


class ResearchProject:
    """A funded project (``ResearchProject.py``): value (grant, OCEAN), impact,
    integration, novelty and community engagement (count)."""

    def __init__(self, name: str, creator: str, value: float, impact: float, integration: float,
                 novelty: float, engagement: float = 0.0) -> None:
        self.name = name
        self.creator = creator
        self.value = value
        self.impact = impact
        self.integration = integration
        self.novelty = novelty
        self.engagement = engagement


# --------------------------------------------------------------------------- markets
class PublicKnowledgeMarketAgent:
    """The public market (spec 5.5). When it received OCEAN since its last step: over
    every researcher (list order) whose last spend went to the public market: S +=
    spent; a public publisher adds its proposal's assets; fee_r = fee·spent; fees +=
    fee_r; K += (spent − fee_r)·ratio; **quirk:** fees += spent − fee_r − K with K the
    running total. If S ≠ received (5 decimals): K += received − S; S += K; then
    DARC asserts S = received (recorded here when it fails). Fees > 0 go to the DAO;
    K stays."""

    def __init__(self, name: str, fee: float) -> None:
        self.name = name
        self.transaction_fees_percentage = fee
        self.OCEAN_last_tick = 0.0
        self.total_fees = 0.0
        self.knowledge_assets: dict[str, int] = {}
        self.total_knowledge_assets = 0

    def take_step(self, st: DarcState) -> None:
        """One tick (class docstring)."""
        ocean = st.ocean(self.name)
        received = ocean - self.OCEAN_last_tick
        fees: float = 0
        if received > 0:
            keep: float = 0
            s = 0.0
            pct = self.transaction_fees_percentage
            for name in st.researchers:
                r = st.agents[name]
                d = r.last_OCEAN_spent
                if not d or d["market"] != PUBLIC_MARKET:
                    continue
                spent = d["spent"]
                s += spent
                if d["publish"] and r.research_type == "public":
                    assets = r.proposal["assets_generated"]
                    self.total_knowledge_assets += assets
                    self.knowledge_assets[r.asset_type] = self.knowledge_assets.get(r.asset_type, 0) + assets
                r_fee = spent * pct
                fees += r_fee
                keep += (spent - r_fee) * d["ratio"]
                fees += spent - r_fee - keep
            if round(s, 5) != round(received, 5):
                keep += received - s
                s += keep
            if round(s, 5) != round(received, 5):
                st.fail(f"{self.name}: reconciled sum {s} != received {received}")
        if fees > 0:
            self.total_fees += fees
            st.transfer(self.name, TREASURY, 1.0 * fees)
        self.OCEAN_last_tick = st.ocean(self.name)

    def quiet(self, st: DarcState) -> bool:
        """Nothing received since its last step."""
        return st.ocean(self.name) == self.OCEAN_last_tick


class PrivateKnowledgeMarketAgent:
    """The private market (spec 5.5). Sums its researchers' spends (S, fee_r =
    fee·spent); a publish adds 1 to ``total_knowledge_assets`` and its assets to
    ``knowledge_assets[type]`` and the per-researcher registry; keep += (spent −
    fee_r)·ratio; payout[asset_buy] += (spent − fee_r) − (spent − fee_r)·ratio. Fees go
    to the DAO; each payout[type] is paid pro rata to that type's publishers (none: it
    stays). Nothing happens when its balance is unchanged."""

    def __init__(self, name: str, fee: float) -> None:
        self.name = name
        self.transaction_fees_percentage = fee
        self.OCEAN_last_tick = 0.0
        self.total_fees = 0.0
        self.knowledge_assets: dict[str, int] = {}
        self.knowledge_assets_per_researcher: dict[str, dict[str, int]] = {}
        self.total_knowledge_assets = 0

    def take_step(self, st: DarcState) -> None:
        """One tick (class docstring)."""
        ocean = st.ocean(self.name)
        if ocean == self.OCEAN_last_tick:
            return
        received = ocean - self.OCEAN_last_tick
        fees: float = 0
        payout: dict[Any, float] = {}
        if received > 0:
            s = 0.0
            pct = self.transaction_fees_percentage
            for name in st.researchers:
                r = st.agents[name]
                d = r.last_OCEAN_spent
                if not d or d["market"] != PRIVATE_MARKET:
                    continue
                spent = d["spent"]
                s += spent
                ratio = d["ratio"]
                if d["publish"]:
                    self.total_knowledge_assets += 1
                    t = r.asset_type
                    ag = d["assets_generated"]
                    self.knowledge_assets[t] = self.knowledge_assets.get(t, 0) + ag
                    reg = self.knowledge_assets_per_researcher.setdefault(t, {})
                    reg[r.name] = reg.get(r.name, 0) + ag
                r_fee = spent * pct
                fees += r_fee
                net = spent - r_fee
                buy = d["asset_buy"]
                payout[buy] = payout.get(buy, 0) + (net - net * ratio)
            if round(s, 5) != round(received, 5):
                st.fail(f"{self.name}: sum of spends {s} != received {received}")
            if round(fees, 5) != round(received * pct, 5):
                st.fail(f"{self.name}: fees {fees} != {pct} x received {received}")
        if fees > 0:
            self.total_fees += fees
            st.transfer(self.name, TREASURY, 1.0 * fees)
        for t, amount in payout.items():
            reg = self.knowledge_assets_per_researcher.get(t)
            if not reg:
                continue
            total = self.knowledge_assets[t]
            ratios = {n: c / total for n, c in reg.items()}
            if sum(ratios.values()) != 0:
                for n, ratio in ratios.items():
                    st.transfer(self.name, n, amount * ratio)
        self.OCEAN_last_tick = st.ocean(self.name)

    def quiet(self, st: DarcState) -> bool:
        """Nothing received since its last step."""
        return st.ocean(self.name) == self.OCEAN_last_tick


# ------------------------------------------------------------------- growth, community
class ResearcherGeneratorAgent:
    """Creates private researchers ``new_researcher_{k}`` (spec 5.6) when its condition
    holds — ``time``: t mod ``time_interval`` = 0; ``treasury``: the DAO's update > 0;
    ``market``: public assets − ``market_update`` (never updated) ≥ threshold — by
    ``linear`` (1), ``exp`` (last_generated + 1, then += 1) or ``dec`` (``start_gen``,
    then −1; nothing once ``start_gen`` ≤ 1). Each new researcher draws its asset type
    and is appended to the stepping order (first stepped next tick)."""

    def __init__(self, name: str, cond_type: str, gen_type: str, time_interval: int, start_gen: int,
                 new_OCEAN: float, researcher_cls: type = VersatileResearcherAgent) -> None:
        if cond_type not in ("treasury", "market", "time"):
            raise ValueError(f"generator_cond_type must be treasury, market or time, got {cond_type!r}")
        if gen_type not in ("linear", "exp", "dec"):
            raise ValueError(f"generator_type must be linear, exp or dec, got {gen_type!r}")
        self.name = name
        self.generator_cond_type = cond_type
        self.generator_type = gen_type
        self.time_interval = time_interval
        self.start_gen = start_gen
        self.new_OCEAN = new_OCEAN
        self.researcher_cls = researcher_cls
        self.generated_agents_idx = 0
        self.market_update = 0
        self.last_generated = 0
        self.agents_generated = 0
        self.generated_at: list[tuple[int, int]] = []
        """(tick, number created) of each generation."""

    def condition(self, st: DarcState, tick: int) -> bool:
        """Whether it generates at ``tick`` (read before the DAO's next step for
        ``treasury``: only meaningful inside a tick)."""
        if self.generator_cond_type == "treasury":
            return st.agents[TREASURY].update > 0
        if self.generator_cond_type == "market":
            return (st.agents[PUBLIC_MARKET].total_knowledge_assets - self.market_update
                    >= st.ss.market_generation_threshold)
        return tick % self.time_interval == 0

    def would_generate(self) -> bool:
        """Whether a generation creates anyone now."""
        return not (self.generator_type == "dec" and self.start_gen <= 1)

    def _create(self, st: DarcState) -> None:
        name = f"new_researcher_{self.generated_agents_idx}"
        self.generated_agents_idx += 1
        st.open_wallet(name, self.new_OCEAN)
        agent = self.researcher_cls(name, "private", st.rng)
        st.addAgent(agent)
        st.addResearcherAgent(agent)
        self.agents_generated += 1

    def take_step(self, st: DarcState) -> None:
        """One tick (class docstring)."""
        if not self.condition(st, st.tick):
            return
        before = self.agents_generated
        if self.generator_type == "linear":
            self._create(st)
        elif self.generator_type == "exp":
            for _ in range(self.last_generated + 1):
                self._create(st)
            self.last_generated += 1
        else:
            if self.start_gen <= 1:
                return
            for _ in range(self.start_gen):
                self._create(st)
            self.start_gen -= 1
        self.generated_at.append((st.tick, self.agents_generated - before))

    def next_tick(self, t: int) -> float:
        """The first tick after ``t`` at which the generator may act on its own
        (``time`` condition); ``inf`` when it never will."""
        if self.generator_cond_type != "time" or not self.would_generate():
            return math.inf
        return (t // self.time_interval + 1) * self.time_interval

    def quiet(self, st: DarcState) -> bool:
        """No generation due from the market condition (time: scheduled; treasury: only
        on DAO update ticks)."""
        if self.generator_cond_type != "market" or not self.would_generate():
            return True
        return not self.condition(st, st.tick + 1)


class CommunityAgent:
    """The community member (spec 5.7). On ticks with a DAO update: curiosity =
    impact/10 + uniform(−0.5, 0.5), clamped so that values > 1 become 1 and
    (**quirk**) values < 1 become 0; if curiosity > 0.5 and OCEAN ≥ 1000 it sends
    ``PRICE_OF_ASSETS`` to the public market, knowledge_access += 1, and a project drawn
    with ``choice`` gets +1 engagement and +1 impact."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.knowledge_access = 0
        self.curiosity: float = 1

    def take_step(self, st: DarcState) -> None:
        """One tick (class docstring)."""
        dao = st.agents[TREASURY]
        if dao.update > 0:
            c = dao.impact / 10 + st.rng.uniform(-0.5, 0.5)
            if c > 1:
                c = 1
            if c < 1:
                c = 0
            self.curiosity = c
            if self.curiosity > 0.5 and st.ocean(self.name) >= 1000:
                st.transfer(self.name, PUBLIC_MARKET, st.ss.PRICE_OF_ASSETS)
                self.knowledge_access += 1
                if not st.projects:
                    st.fail(f"{self.name}: no research project to choose from")
                    return
                p = st.projects[st.rng.choice(list(st.projects))]
                p.engagement += 1
                p.impact += 1


# ------------------------------------------------------------------------------ KPIs
class DarcKPIs:
    """The growth/community ``KPIs`` (spec 5.6, 5.7): after every tick, OCEAN in the
    treasury, all/public/private researchers and the markets, the system total and the
    relative shares; logged values are the last entries (initially 0).
    ``markets_quirk`` (growth): ``total_value_in_markets`` stays 0 (DARC appends m to the
    relative list instead). ``community``: member curiosity and knowledge access, and
    project totals."""

    def __init__(self, markets_quirk: bool, community: bool) -> None:
        self.markets_quirk = markets_quirk
        self.community = community
        self.treasury: float = 0
        self.researchers: float = 0
        self.public: float = 0
        self.private: float = 0
        self.markets: float = 0
        self.system: float = 0
        self.rel_markets: float = 0
        self.rel_researchers: float = 0
        self.rel_treasury: float = 0
        self.curiosity: float = 0
        self.community_knowledge_access: float = 0
        self.rp: dict[str, float] = {"total_rp": 0, "total_rp_engagement": 0, "total_rp_value": 0,
                                     "total_rp_integration": 0, "total_rp_novelty": 0,
                                     "total_rp_impact": 0}

    def take_step(self, st: DarcState) -> None:
        """Append this tick's values (class docstring)."""
        ocean = st.ocean
        t = ocean(TREASURY)
        r = 0.0
        for n in st.researchers:
            r += ocean(n)
        pub = 0.0
        for n in st.public_researchers:
            pub += ocean(n)
        priv = 0.0
        for n in st.private_researchers:
            priv += ocean(n)
        m = ocean(PRIVATE_MARKET) + ocean(PUBLIC_MARKET)
        system = t + r + m
        self.treasury, self.researchers, self.public, self.private = t, r, pub, priv
        if not self.markets_quirk:
            self.markets = m
        self.system = system
        self.rel_markets = m / system
        self.rel_researchers = r / system
        self.rel_treasury = t / system
        if self.community:
            member = st.agents["member"]
            self.curiosity = member.curiosity
            self.community_knowledge_access = member.knowledge_access
            tot = {"total_rp": 0, "total_rp_engagement": 0, "total_rp_value": 0,
                   "total_rp_integration": 0, "total_rp_novelty": 0, "total_rp_impact": 0}
            for p in st.projects.values():
                tot["total_rp"] += 1
                tot["total_rp_engagement"] += p.engagement
                tot["total_rp_value"] += p.value
                tot["total_rp_integration"] += p.integration
                tot["total_rp_novelty"] += p.novelty
                tot["total_rp_impact"] += p.impact
            self.rp = tot


# ----------------------------------------------------------------------------- world
class DarcPublicWorld(Agent):
    """Steps the DARC agents of :attr:`state` in their order, one tick per hour, and
    skips quiet hours (module docstring).

    Args:
        name: the runner agent's name.
        state: the DARC state (agents already registered in stepping order).
        step_ns: Δ in nanoseconds.
        last_tick: the last tick the run steps (quiet hours up to it are replayed at
            the end).
        event_driven: skip quiet hours (False: step every hour, for checks).
    """

    def __init__(self, name: str, state: DarcState, step_ns: int, last_tick: int,
                 event_driven: bool = True) -> None:
        super().__init__(name)
        self.state = state
        self.step_ns = step_ns
        self.last_tick = last_tick
        self.event_driven = event_driven
        self._next = 0
        self._wake_s: float | None = 0.0
        self.full_ticks = 0
        """Hours stepped agent by agent (the rest were quiet, replayed in bulk)."""

    # -- runner interface ------------------------------------------------------------
    def step(self, sim: Simulation) -> None:
        t = sim.now_ns // self.step_ns
        if t > self._next:
            self.replay_quiet(t - self._next)
        self.full_tick(t)
        self._next = t + 1
        if not self.event_driven:
            self._wake_s = None
            return
        nxt = self.next_active(t)
        self._wake_s = math.inf if nxt > self.last_tick else nxt * self.step_ns / 1e9

    def next_wakeup(self, now: float) -> float | None:
        return self._wake_s

    def finalise(self, sim: Simulation) -> None:
        if self._next <= self.last_tick:
            self.replay_quiet(self.last_tick + 1 - self._next)
            self._next = self.last_tick + 1

    # -- ticks -----------------------------------------------------------------------
    def full_tick(self, t: int) -> None:
        """Tick ``t``: every agent's step in order (a snapshot: agents added now are
        stepped from the next tick), then the KPIs."""
        st = self.state
        st.tick = t
        for agent in list(st.agents.values()):
            agent.take_step(st)
        if st.kpis is not None:
            st.kpis.take_step(st)
        self.full_ticks += 1

    def replay_quiet(self, n: int) -> None:
        """``n`` quiet hours: the DAO's ``update`` = 0, the losers' redraws in order (tick
        by tick, researcher by researcher), spends reset, ``ticks_since_proposal`` += n."""
        st = self.state
        dao = st.agents[TREASURY]
        dao.update = 0
        k = st.ss.PROPOSALS_FUNDED_AT_A_TIME
        ev = dao.proposal_evaluation
        losers = []
        if ev and len(ev) == k:
            losers = [st.agents[nm] for nm in st.public_researchers if not st.agents[nm].proposal_accepted]
        if losers:
            rng, ss = st.rng, st.ss
            draws = [r.quiet_draw for r in losers]
            if len(draws) == 2:
                d0, d1 = draws
                for _ in range(n):
                    d0(rng, ss)
                    d1(rng, ss)
            else:
                for _ in range(n):
                    for d in draws:
                        d(rng, ss)
            for r in losers:
                r.end_quiet(ss)
        for nm in st.researchers:
            r = st.agents[nm]
            r.last_OCEAN_spent = {}
            r.total_OCEAN_spent_this_tick = 0.0
            if r.research_type == "public" and r.proposal:
                r.ticks_since_proposal += n
        st.tick = self._next + n - 1

    def quiet_next(self) -> bool:
        """Whether the next hour changes nothing but the losers' redraws (and counters):
        the DAO is quiet, no public researcher lacks a proposal or waits to be
        accepted, every researcher's OCEAN equals its snapshot, the markets received
        nothing, the generator's market condition is off."""
        st = self.state
        dao = st.agents[TREASURY]
        if not dao.quiet(st):
            return False
        ev = dao.proposal_evaluation
        full = len(ev) == st.ss.PROPOSALS_FUNDED_AT_A_TIME
        winners = {e["winner"] for e in ev.values()} if full else set()
        agents = st.agents
        for nm in st.researchers:
            r = agents[nm]
            if r.research_type == "public":
                if not r.proposal or (nm in winners and not r.proposal_accepted):
                    return False
            if r.my_OCEAN != st.ocean(nm):
                return False
        for nm in (PRIVATE_MARKET, PUBLIC_MARKET):
            if not agents[nm].quiet(st):
                return False
        gen = agents.get("generator")
        return gen is None or gen.quiet(st)

    def next_active(self, t: int) -> int:
        """The next tick to step agent by agent after tick ``t``."""
        if not self.quiet_next():
            return t + 1
        st = self.state
        nxt: float = math.inf
        for nm in st.public_researchers:
            r = st.agents[nm]
            if r.proposal_accepted and r.proposal:
                nxt = min(nxt, t + r.proposal["time"] - r.ticks_since_proposal)
        gen = st.agents.get("generator")
        if gen is not None:
            nxt = min(nxt, gen.next_tick(t))
        if nxt == math.inf:
            return self.last_tick + 1
        return max(int(nxt), t + 1)


__all__ = [
    "CommunityAgent",
    "DarcAssertionError",
    "DarcKPIs",
    "DarcPublicWorld",
    "DarcState",
    "DarcStrategy",
    "PrivateKnowledgeMarketAgent",
    "PublicKnowledgeMarketAgent",
    "ResearchProject",
    "ResearcherGeneratorAgent",
    "VVersatileDAOTreasuryAgent",
    "VVersatileResearcherAgent",
    "VersatileDAOTreasuryAgent",
    "VersatileResearcherAgent",
]
