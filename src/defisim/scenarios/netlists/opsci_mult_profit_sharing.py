"""``opsci_mult_profit_sharing``: DARC-SPICE's profit sharing with K winners per round
(``assets/netlists/opsci_mult_profit_sharing``; ``../shared/specs/token-netlists.md`` 5.3).

As ``opsci_profit_sharing`` with 5 researchers, K = 3 funded per round (minimum score,
removed, repeated), fees split 10 % to the staker and 90 % to the treasury, and
proposals that also draw integration, novelty and impact.

Quirks kept (spec 5.3): the market **starts with 10 000 OCEAN** (it only acts on OCEAN
received after tick 0); from tick 21 the asset registry fires **every hour** while the
treasury can fund (its counter and the tick advance together), crediting all K
winners' current proposals each time; the treasury's integration and novelty are the
means over the *previous* evaluation, impact the last winner's; the KPI
``total_value_in_markets`` stays 0 (its value is appended to the relative list) and
every KPI list starts as [0].

Agent order: TokenSPICE/DARC-SPICE build this netlist from Python **sets**, so their
stepping order and even the CSV's researcher column order vary from run to run (spec
5.3). defisim uses the declared source order — dao_treasury, staker,
researcher0..4, market — and researcher columns in name order. With the treasury
first, the first funding is at tick 1 (the source funds at tick 0 in the runs where
the treasury happens to step after every researcher). Draws per proposal:
``randint(grant)``, ``randint(assets)``, integration (``random()`` first, then
``uniform(0, .5)`` or ``uniform(.5, 1)`` by the previous value), novelty (same rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from defisim.agents.netlist.darc_opsci import (
    MultDAOTreasuryAgent,
    MultKnowledgeMarketAgent,
    MultResearcherAgent,
    SimpleStakerspeculatorAgent,
)

from ..base import register
from ._opsci import MULT_TAIL, DarcOpsciNetlist, DarcOpsciParams

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

    from ..netlist import YParam


class OpsciMultProfitSharingParams(DarcOpsciParams):
    """``opsci_mult_profit_sharing``'s SimStrategy (spec 5.3) and initial wallets."""

    ticks_between_proposals: int = Field(6480, ge=1)
    """TBP: ticks between funding rounds (6480 h = 270 d)."""
    price_of_assets: float = Field(1000.0, ge=0)
    """OCEAN a losing researcher pays for one asset (``PRICE_OF_ASSETS``)."""
    ratio_funds_to_publish: float = Field(0.4, ge=0, le=1)
    """Share of a published grant the market keeps (``RATIO_FUNDS_TO_PUBLISH``)."""
    transaction_fees: float = Field(0.1, ge=0, le=1)
    """The market's fee (the source's literal 0.1 = ``TRANSACTION_FEES``)."""
    fees_to_stakers: float = Field(0.1, ge=0, le=1)
    """Share of the fees sent to the staker; the treasury gets 1 - this (``FEES_TO_STAKERS``)."""
    n_researchers: int = Field(5, ge=1)
    """``NUMBER_OF_RESEARCHERS``."""
    proposals_funded_at_a_time: int = Field(3, ge=1)
    """K: winners per funding round (``PROPOSALS_FUNDED_AT_A_TIME``)."""
    funding_boundary: float = Field(10_000.0, ge=0)
    """The treasury funds only while its OCEAN exceeds this (hard-coded 10 000 in the source)."""
    dao_init_OCEAN: float = Field(500_000.0, ge=0)
    """The treasury's OCEAN at the start."""
    staker_init_OCEAN: float = Field(90_000.0, ge=0)
    """The staker's OCEAN at the start."""
    market_init_OCEAN: float = Field(10_000.0, ge=0)
    """The market's OCEAN at the start (10 000, quirk)."""

    @model_validator(mode="after")
    def _k_le_n(self) -> OpsciMultProfitSharingParams:
        if self.proposals_funded_at_a_time > self.n_researchers:
            raise ValueError("proposals_funded_at_a_time (K) must not exceed n_researchers")
        return self


@register
class OpsciMultProfitSharing(DarcOpsciNetlist):
    """DARC-SPICE ``opsci_mult_profit_sharing`` (module docstring)."""

    name = "opsci_mult_profit_sharing"
    description = ("DARC-SPICE opsci_mult_profit_sharing: a DAO treasury funds 3 of 5 research "
                   "proposals every 270 days; knowledge market with fees and revenue sharing; "
                   "hourly ticks for 30 years.")
    Params = OpsciMultProfitSharingParams
    kind = "mult"

    def make_agents(self) -> list[tuple[Agent, float]]:
        p = self.params
        w = self.world
        dao = MultDAOTreasuryAgent("dao_treasury")
        staker = SimpleStakerspeculatorAgent("staker")
        researchers = [MultResearcherAgent(n, "dao_treasury", {"market": 1.0}) for n in self.researcher_names()]
        market = MultKnowledgeMarketAgent("market", p.transaction_fees,
                                          {"staker": p.fees_to_stakers, "dao_treasury": 1.0 - p.fees_to_stakers})
        w.dao, w.market, w.researchers = dao, market, researchers
        return [(dao, p.dao_init_OCEAN), (staker, p.staker_init_OCEAN),
                *[(r, p.researcher_init_OCEAN) for r in researchers], (market, p.market_init_OCEAN)]

    def make_columns(self) -> list[str]:
        return [*self.researcher_columns(), *MULT_TAIL]

    def values(self, sim: Simulation) -> list[Any]:
        return [*self.researcher_block(), *self.mult_tail(sim)]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.3: fourteen plots (MULT1, COUNT; the staker/market one LOG)."""
        return self.mult_plots(header)
