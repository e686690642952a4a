"""``growth_public_funding_ps``: :mod:`.opsci_public_funding_ps` plus a researcher
generator (``../shared/specs/token-netlists.md`` 5.6; ``assets/netlists/
growth_public_funding_ps``).

The ``generator`` (after the researchers, before the markets) creates private
researchers ``new_researcher_{k}`` (200 000 OCEAN each): with the defaults (condition
``time``, type ``dec``, interval 30 000 ticks, ``start_gen`` 5) 5, 4, 3 and 2 of them at
ticks 0, 30 000, 60 000 and 90 000 (14 in all); each is stepped from the next tick, after
the markets. Their private blocks are appended to the columns, so ``data.csv`` rows grow
longer than its header; ``datax.csv`` has the last header and zero-padded rows.

Columns: the DAO's 5, the markets' 6, the 9 system totals (``total_value_in_markets``
stays 0: DARC-SPICE's KPI appends to the wrong list), then the public and private
researcher blocks. 18 plots.
"""

from __future__ import annotations

from ..base import register
from ..netlist import YParam
from .darc_public_common import GrowthParams, PublicFundingNetlistBase, keep


@register
class GrowthPublicFundingPS(PublicFundingNetlistBase):
    """DARC-SPICE ``growth_public_funding_ps`` (module docstring)."""

    name = "growth_public_funding_ps"
    description = ("DARC-SPICE public funding with a researcher generator (5, 4, 3, 2 new private "
                   "researchers every 30 000 hours); hourly ticks over 30 years.")
    Params = GrowthParams
    layout = "growth"

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """Spec 5.6's 18 plots: the 4 system-value plots, then those of 5.5."""
        return keep([*self._value_plots(), *self._research_plots(header)])
