"""Balancer V1 weighted pool core (``BPool`` of balancer-core, and the Ocean V3 /
TokenSPICE copy), with the contracts' exact ``BNum`` rounding (spec section 3)."""

from . import bmath, bnum

__all__ = ["bmath", "bnum"]
