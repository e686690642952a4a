"""``opsci_naive``: DARC-SPICE's baseline open-science netlist
(``assets/netlists/opsci_naive``; ``../shared/specs/token-netlists.md`` 5.1).

A university DAO (500 000 OCEAN) funds, every ``ticks_between_proposals`` (TBP = 6480
hourly ticks = 270 days), the cheapest of two researchers' proposals (score
grant/no_researchers/assets/knowledge_access), first at tick 1. The winner sends the
whole grant to ``sellers``, which only accumulates OCEAN. Hourly ticks for 30 years,
a ``%g`` row every day (10 951 rows), x axis in months.

Quirks kept (spec 5.1): each researcher makes *two* proposals at tick 0 (the empty
check and the ``ticks_since % TBP == 0`` check both fire); once the DAO cannot fund
(OCEAN ≤ ``funding_boundary``), the researchers' counter oscillates 1 → 0 and no
further proposals are made; ``total_funding`` counts the requested grant even when
only part of it was paid. Agents in the source's list order: university,
researcher0, researcher1, sellers. Random draws (seeded): per proposal
``randint(grant)``, then ``randint(assets)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.netlist.darc_opsci import (
    BaselineResearcherAgent,
    OpscientiaDAOAgent,
    SellerAgent,
)

from ..base import register
from ..netlist import COUNT, LINEAR, MULT1, YParam
from ._opsci import DarcOpsciNetlist, DarcOpsciParams

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation


class OpsciNaiveParams(DarcOpsciParams):
    """``opsci_naive``'s SimStrategy (spec 5.1) and initial wallets."""

    ticks_between_proposals: int = Field(6480, ge=1)
    """TBP: ticks between funding rounds and between a researcher's proposals (6480 h = 270 d)."""
    funding_boundary: float = Field(0.0, ge=0)
    """The DAO funds only while its OCEAN exceeds this (``FUNDING_BOUNDARY``)."""
    ratio_funds_to_publish: float = Field(0.0, ge=0, le=1)
    """``RATIO_FUNDS_TO_PUBLISH`` (recorded by a winner; nothing reads it here)."""
    init_n_sellers: float = Field(1.0, ge=0)
    """``init_n_sellers``: the seller's starting count (it grows by 1 a tick; revenue 0)."""
    n_researchers: int = Field(2, ge=1)
    """Researchers (the source hard-codes researcher0 and researcher1)."""
    university_init_OCEAN: float = Field(500_000.0, ge=0)
    """The university DAO's OCEAN at the start."""
    researcher_init_OCEAN: float = Field(0.0, ge=0)
    """Each researcher's OCEAN at the start."""
    sellers_init_OCEAN: float = Field(0.0, ge=0)
    """The seller's OCEAN at the start."""


@register
class OpsciNaive(DarcOpsciNetlist):
    """DARC-SPICE ``opsci_naive`` (module docstring)."""

    name = "opsci_naive"
    description = ("DARC-SPICE opsci_naive: a university DAO funds the cheapest of two research "
                   "proposals every 270 days; winners pay sellers; hourly ticks for 30 years.")
    Params = OpsciNaiveParams
    kind = "naive"

    def make_agents(self) -> list[tuple[Agent, float]]:
        p = self.params
        w = self.world
        dao = OpscientiaDAOAgent("university")
        researchers = [BaselineResearcherAgent(n, "university", {"sellers": 1.0})
                       for n in self.researcher_names()]
        sellers = SellerAgent("sellers", p.init_n_sellers)
        w.dao, w.market, w.researchers = dao, sellers, researchers
        return [(dao, p.university_init_OCEAN), *[(r, p.researcher_init_OCEAN) for r in researchers],
                (sellers, p.sellers_init_OCEAN)]

    def make_columns(self) -> list[str]:
        return [*self.researcher_columns(("knowledge_access", "no_proposals", "no_proposals_funded",
                                          "total_funding")), "university_OCEAN", "sellers_OCEAN"]

    def values(self, sim: Simulation) -> list[Any]:
        out: list[Any] = []
        for r in self.world.researchers:
            out += [r.knowledge_access, r.no_proposals_submitted, r.no_proposals_funded,
                    r.total_research_funds_received]
        return [*out, self.ocean(sim, "university"), self.ocean(sim, "sellers")]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.1: five LINEAR/MULT1/COUNT plots."""
        names = self.researcher_names()

        def cols(suffix: str) -> list[str]:
            return [f"{r}_{suffix}" for r in names]

        return [
            YParam(cols("no_proposals_funded"), names, "number of proposals funded", LINEAR, MULT1, COUNT),
            YParam(cols("no_proposals"), names, "number of proposals", LINEAR, MULT1, COUNT),
            YParam(cols("total_funding"), names, "OCEAN funding", LINEAR, MULT1, COUNT),
            YParam(cols("knowledge_access"), names, "Knowledge access index", LINEAR, MULT1, COUNT),
            YParam(["university_OCEAN"], ["university"], "University OCEAN", LINEAR, MULT1, COUNT),
        ]
