"""``opsci_public_funding_ps``: DARC-SPICE's public/private funding netlist
(``../shared/specs/token-netlists.md`` 5.5; ``assets/netlists/opsci_public_funding_ps``).

Agents, in order: ``dao_treasury`` (rolling funding of the public researchers, 500 000
OCEAN), researcher0..4 (public, 10 000 each), researcher5..e (private, 200 000 each),
``private_market`` and ``public_market`` (fee 0.1, all fees to the DAO). Hourly ticks
for 30 years (262 802 steps), a row a day (10 951 rows), ``%g`` values, ``x`` = Month.
See :mod:`.darc_public_common` and :mod:`defisim.agents.netlist.darc_public`.

Columns: per public researcher ``_knowledge_access``, ``_no_proposals``,
``_no_proposals_funded``, ``_total_funding``, ``_total_assets_mrkt``, ``_public_OCEAN``,
``_public_total_assets_{drawn type}_in_market``; per private researcher
``_total_assets_mrkt``, ``_private_OCEAN``, ``_private_total_assets_{type}_in_market``;
then the DAO's 5 and the markets' 6 columns. 14 plots.
"""

from __future__ import annotations

from ..base import register
from ..netlist import YParam
from .darc_public_common import PublicFundingNetlistBase, PublicFundingParams, keep


@register
class OpsciPublicFundingPS(PublicFundingNetlistBase):
    """DARC-SPICE ``opsci_public_funding_ps`` (module docstring)."""

    name = "opsci_public_funding_ps"
    description = ("DARC-SPICE public funding: a DAO funds 3 of 5 public researchers on a rolling "
                   "basis, 10 private researchers trade in a private and a public knowledge market; "
                   "hourly ticks over 30 years.")
    Params = PublicFundingParams
    layout = "public"

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.5's 14 plots (DARC-SPICE ``netlist_plotInstructions``)."""
        return keep(self._research_plots(header))
