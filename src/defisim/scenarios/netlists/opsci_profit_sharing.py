"""``opsci_profit_sharing``: DARC-SPICE's profit-sharing open-science netlist
(``assets/netlists/opsci_profit_sharing``; ``../shared/specs/token-netlists.md`` 5.2).

A DAO treasury (500 000 OCEAN) funds, every TBP = 6480 hourly ticks while it holds
more than ``funding_boundary`` (10 000), the cheapest of N researchers' proposals
(each researcher starts with 10 000 OCEAN). The winner publishes: it sends its grant
to the knowledge ``market``; every loser buys one asset (1000 OCEAN) there. The market
takes a 10 % fee (20 % to the passive ``staker``, 80 % back to the treasury), keeps
``ratio_funds_to_publish`` of the rest and pays the remainder pro rata to the
researchers' registered knowledge assets.

Quirks kept (spec 5.2): two proposals per researcher at tick 0; the market applies the
ratio of the *first* researcher (list order) that spent this or last tick to everyone's
money (so it keeps 40 % of the net only when researcher0 is the publishing winner);
assets are registered at tick 20 (assignment) and at multiples of TBP from the winner's
*current* proposal, which is a fresh draw; undistributed OCEAN stays in the market.
Where DARC-SPICE raises KeyError (an empty evaluation at tick 20, only possible with a
treasury at or below the boundary) nothing is registered. Agents in the source's list
order: dao_treasury, staker, researcher0..N-1, market. Draws: ``randint(grant)``,
``randint(assets)`` per proposal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.netlist.darc_opsci import (
    KnowledgeMarketAgent,
    OpscientiaDAOAgent,
    ResearcherAgent,
    SimpleStakerspeculatorAgent,
)

from ..base import register
from ._opsci import DarcOpsciNetlist, DarcOpsciParams

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

    from ..netlist import YParam


class OpsciProfitSharingParams(DarcOpsciParams):
    """``opsci_profit_sharing``'s SimStrategy (spec 5.2) and initial wallets."""

    ticks_between_proposals: int = Field(6480, ge=1)
    """TBP: ticks between funding rounds (6480 h = 270 d)."""
    price_of_assets: float = Field(1000.0, ge=0)
    """OCEAN a losing researcher pays for one knowledge asset (``PRICE_OF_ASSETS``)."""
    ratio_funds_to_publish: float = Field(0.4, ge=0, le=1)
    """Share of a published grant the market keeps (``RATIO_FUNDS_TO_PUBLISH``)."""
    transaction_fees: float = Field(0.1, ge=0, le=1)
    """The market's fee on what it receives (DARC builds the market with a literal 0.1,
    equal to ``TRANSACTION_FEES``)."""
    fees_to_stakers: float = Field(0.2, ge=0, le=1)
    """Share of the fees sent to the staker; the treasury gets 1 - this (``FEES_TO_STAKERS``)."""
    n_researchers: int = Field(2, ge=1)
    """``NUMBER_OF_RESEARCHERS`` (``SimStrategy(no_researchers=2)``)."""
    funding_boundary: float = Field(10_000.0, ge=0)
    """The treasury funds only while its OCEAN exceeds this (``FUNDING_BOUNDARY``)."""
    dao_init_OCEAN: float = Field(500_000.0, ge=0)
    """The treasury's OCEAN at the start."""
    staker_init_OCEAN: float = Field(90_000.0, ge=0)
    """The staker's OCEAN at the start."""
    market_init_OCEAN: float = Field(0.0, ge=0)
    """The market's OCEAN at the start."""


@register
class OpsciProfitSharing(DarcOpsciNetlist):
    """DARC-SPICE ``opsci_profit_sharing`` (module docstring)."""

    name = "opsci_profit_sharing"
    description = ("DARC-SPICE opsci_profit_sharing: a DAO treasury funds research every 270 days; "
                   "a knowledge market takes fees for the treasury and a staker and shares "
                   "revenue by assets; hourly ticks for 30 years.")
    Params = OpsciProfitSharingParams
    kind = "profit_sharing"

    def make_agents(self) -> list[tuple[Agent, float]]:
        p = self.params
        w = self.world
        dao = OpscientiaDAOAgent("dao_treasury")
        staker = SimpleStakerspeculatorAgent("staker")
        researchers = [ResearcherAgent(n, "dao_treasury", {"market": 1.0}) for n in self.researcher_names()]
        market = KnowledgeMarketAgent("market", p.transaction_fees,
                                      {"staker": p.fees_to_stakers, "dao_treasury": 1.0 - p.fees_to_stakers})
        w.dao, w.market, w.researchers = dao, market, researchers
        return [(dao, p.dao_init_OCEAN), (staker, p.staker_init_OCEAN),
                *[(r, p.researcher_init_OCEAN) for r in researchers], (market, p.market_init_OCEAN)]

    def make_columns(self) -> list[str]:
        return [*self.researcher_columns(), "dao_treasury_OCEAN", "staker_OCEAN", "market_OCEAN",
                "market_fees_OCEAN", "market_assets"]

    def values(self, sim: Simulation) -> list[Any]:
        m = self.world.market
        return [*self.researcher_block(), self.ocean(sim, "dao_treasury"), self.ocean(sim, "staker"),
                self.ocean(sim, "market"), m.total_fees, m.total_knowledge_assets]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.2: nine plots (MULT1, COUNT; the staker/market one LOG)."""
        return [self.funded_plot(), *self.researcher_plots(header)]
