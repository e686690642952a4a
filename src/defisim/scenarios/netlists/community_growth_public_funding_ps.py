"""``community_growth_public_funding_ps``: public funding with salaries, research
projects and a community member (``../shared/specs/token-netlists.md`` 5.7;
``assets/netlists/community_growth_public_funding_ps``).

Agents, in order: ``dao_treasury`` (VV DAO, 1 000 000 OCEAN; continuing proposals score
×0.6), researcher0..4 (VV public researchers, 10 000 each; grant = base + salary, a
winner publishes grant − salary and creates the project ``{name}_{n}``),
``private_market``, ``public_market``, ``member`` (community agent, 10 000 OCEAN;
curiosity ∈ {0, 1} by DARC-SPICE's clamp, buys 1000 of knowledge and engages a random
project). No private researcher, no generator.

The member's 1000 OCEAN reaches the public market after the market's step, so the
market's reconciliation absorbs it on the next tick; DARC-SPICE's assertion there fails
if a public researcher publishes on that tick. Such a failure is recorded (the
``darc_assertion_failures`` KPI, :attr:`DarcState.anomalies`) and the run goes on
(``strict_asserts=True`` stops it, as DARC-SPICE).

Columns: as 5.6 (``total_value_in_markets`` correct here), plus ``community_curiosity``
and ``community_knowledge_access`` before the researcher blocks. ``rpdata.csv``:
``total_rp``, ``total_rp_engagement``, ``total_rp_integration``, ``total_rp_novelty``,
``total_rp_impact``, then ``{project}_impact`` and ``{project}_engagement`` per project.
18 plots, plus 7 rp plots (:meth:`CommunityGrowthPublicFundingPS.rp_plot_specs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base import register
from ..netlist import COUNT, LINEAR, MULT1, YParam
from .darc_public_common import CommunityParams, PublicFundingNetlistBase, _yp, keep

if TYPE_CHECKING:
    from defisim.service import Simulation

RP_TOTALS = ["total_rp", "total_rp_engagement", "total_rp_integration", "total_rp_novelty",
             "total_rp_impact"]


@register
class CommunityGrowthPublicFundingPS(PublicFundingNetlistBase):
    """DARC-SPICE ``community_growth_public_funding_ps`` (module docstring)."""

    name = "community_growth_public_funding_ps"
    description = ("DARC-SPICE public funding with salaries, research projects and a community "
                   "member engaging with funded projects; hourly ticks over 30 years.")
    Params = CommunityParams
    layout = "community"

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.7's 18 plots: community curiosity and knowledge access, the 4
        system-value plots, the 5.5 plots without the two private ones."""
        return keep([
            YParam(["community_curiosity"], ["community"], "Community curiosity", LINEAR, MULT1, COUNT),
            YParam(["community_knowledge_access"], ["community"], "Community knowledge access",
                   LINEAR, MULT1, COUNT),
            *self._value_plots(), *self._research_plots(header, private=False)])

    def rp_columns(self) -> list[str]:
        """``rpdata.csv``'s columns (module docstring)."""
        st = self.state
        cols = list(RP_TOTALS)
        if st is not None:
            for name in st.projects:
                cols += [f"{name}_impact", f"{name}_engagement"]
        return cols

    def rp_row(self, sim: Simulation) -> list[Any]:
        """The KPI totals (last entries) and each project's impact and engagement now."""
        st = self.state
        assert st is not None and st.kpis is not None
        rp = st.kpis.rp
        out: list[Any] = [rp[c] for c in RP_TOTALS]
        for p in st.projects.values():
            out += [p.impact, p.engagement]
        return out

    def rp_plot_specs(self, header: list[str]) -> list[YParam]:
        """DARC-SPICE's ``netlist_rp_plotInstructions``: the 5 totals and per-project
        impact and engagement (for ``rpdata.csv``)."""
        rp_list = [e for e in header if "researcher" in e]
        impact = [c for c in rp_list if "_impact" in c]
        engagement = [c for c in rp_list if "_engagement" in c]
        names = ["Total projects funded", "Total project engagement", "Total project integration",
                 "Total project novelty", "Total project impact"]
        return keep([*(YParam([c], ["total"], n, LINEAR, MULT1, COUNT) for c, n in zip(RP_TOTALS, names,
                                                                                     strict=True)),
                     _yp(impact, impact, "Research projects impact"),
                     _yp(engagement, engagement, "Research projects engagement")])
