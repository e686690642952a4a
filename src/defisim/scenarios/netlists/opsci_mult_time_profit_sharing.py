"""``opsci_mult_time_profit_sharing``: DARC-SPICE's rolling-funding netlist
(``assets/netlists/opsci_mult_time_profit_sharing``; ``../shared/specs/token-netlists.md`` 5.4).

A DAO treasury (500 000 OCEAN) keeps up to K = 3 of 10 researchers funded at a time:
whenever a project ends (``time`` ticks, drawn in 5000..15000 hours) it tops the
evaluation up again, paying each new winner at once, while its OCEAN exceeds
``funding_boundary`` (10 000). Winners publish their grant to the knowledge market;
while the evaluation is full, every waiting researcher redraws its proposal every
hour and buys ``update`` assets at the ticks where the treasury picked new winners.
The market takes a 10 % fee per researcher (10 % to the staker, 90 % to the treasury),
keeps each publisher's 40 % and pays the rest pro rata to registered assets.

Quirks kept (spec 5.4): losers redraw every tick while waiting (uncounted draws; the
event-driven agents replay these draws for skipped ticks in the same order); the
research ends ``time − 1`` ticks after acceptance; a winner paid while the evaluation
never became full is never accepted; the KPI ``total_value_in_markets`` stays 0.
Agents in the source's list order: dao_treasury, staker, researcher0..9, market.
Draws per proposal: ``randint(grant)``, ``randint(assets)``, ``randint(time)``,
integration, novelty (as mult); with ``random_buying`` a ``random()`` per waiting
researcher per tick (then every tick is stepped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from defisim.agents.netlist.darc_opsci import (
    MultTimeDAOTreasuryAgent,
    MultTimeKnowledgeMarketAgent,
    MultTimeResearcherAgent,
    SimpleStakerspeculatorAgent,
)

from ..base import register
from ._opsci import MULT_TAIL, DarcOpsciNetlist, DarcOpsciParams

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

    from ..netlist import YParam


class OpsciMultTimeProfitSharingParams(DarcOpsciParams):
    """``opsci_mult_time_profit_sharing``'s SimStrategy (spec 5.4) and initial wallets."""

    price_of_assets: float = Field(1000.0, ge=0)
    """OCEAN a waiting researcher pays for one asset (``PRICE_OF_ASSETS``)."""
    ratio_funds_to_publish: float = Field(0.4, ge=0, le=1)
    """Share of a published grant the market keeps (``RATIO_FUNDS_TO_PUBLISH``)."""
    transaction_fees: float = Field(0.1, ge=0, le=1)
    """The market's fee (the source's literal 0.1 = ``TRANSACTION_FEES``)."""
    fees_to_stakers: float = Field(0.1, ge=0, le=1)
    """Share of the fees sent to the staker; the treasury gets 1 - this (``FEES_TO_STAKERS``)."""
    n_researchers: int = Field(10, ge=1)
    """``NUMBER_OF_RESEARCHERS``."""
    proposals_funded_at_a_time: int = Field(3, ge=1)
    """K: projects funded at a time (``PROPOSALS_FUNDED_AT_A_TIME``)."""
    funding_boundary: float = Field(10_000.0, ge=0)
    """The treasury funds only while its OCEAN exceeds this (``FUNDING_BOUNDARY``)."""
    random_buying: bool = False
    """``RANDOM_BUYING``: waiting researchers also buy an asset when ``random() >= 0.6``."""
    time_min: int = Field(5000, ge=1)
    """Shortest research project, in ticks (``randint(5000, 15000)``)."""
    time_max: int = Field(15000, ge=1)
    """Longest research project, in ticks."""
    dao_init_OCEAN: float = Field(500_000.0, ge=0)
    """The treasury's OCEAN at the start."""
    staker_init_OCEAN: float = Field(90_000.0, ge=0)
    """The staker's OCEAN at the start."""
    market_init_OCEAN: float = Field(0.0, ge=0)
    """The market's OCEAN at the start."""

    @model_validator(mode="after")
    def _check(self) -> OpsciMultTimeProfitSharingParams:
        if self.proposals_funded_at_a_time > self.n_researchers:
            raise ValueError("proposals_funded_at_a_time (K) must not exceed n_researchers")
        if self.time_min > self.time_max:
            raise ValueError("time_min <= time_max is required")
        return self


@register
class OpsciMultTimeProfitSharing(DarcOpsciNetlist):
    """DARC-SPICE ``opsci_mult_time_profit_sharing`` (module docstring)."""

    name = "opsci_mult_time_profit_sharing"
    description = ("DARC-SPICE opsci_mult_time_profit_sharing: rolling research funding, 3 of 10 "
                   "researchers at a time, projects of 5000-15000 hours; knowledge market with "
                   "fees and revenue sharing; hourly ticks for 30 years.")
    Params = OpsciMultTimeProfitSharingParams
    kind = "mult_time"

    def make_agents(self) -> list[tuple[Agent, float]]:
        p = self.params
        w = self.world
        dao = MultTimeDAOTreasuryAgent("dao_treasury")
        staker = SimpleStakerspeculatorAgent("staker")
        researchers = [MultTimeResearcherAgent(n, "dao_treasury", {"market": 1.0})
                       for n in self.researcher_names()]
        market = MultTimeKnowledgeMarketAgent("market", p.transaction_fees,
                                              {"staker": p.fees_to_stakers,
                                               "dao_treasury": 1.0 - p.fees_to_stakers})
        w.dao, w.market, w.researchers = dao, market, researchers
        return [(dao, p.dao_init_OCEAN), (staker, p.staker_init_OCEAN),
                *[(r, p.researcher_init_OCEAN) for r in researchers], (market, p.market_init_OCEAN)]

    def make_columns(self) -> list[str]:
        return [*self.researcher_columns(), *MULT_TAIL]

    def values(self, sim: Simulation) -> list[Any]:
        return [*self.researcher_block(), *self.mult_tail(sim)]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.4: the fourteen plots of 5.3."""
        return self.mult_plots(header)
