"""Exact numbers shared by protocols: fixed-point factors and unit conversion.

Imports nothing else of defisim (DESIGN.md, "Layers").
"""

from .bounds import MAX_AMOUNT, MAX_PRICE_TICKS, MAX_SIZE
from .fixed import ONE, ceil_div, from_fixed, to_fixed
from .units import UnitConverter, amount_to_raw

__all__ = [
    "MAX_AMOUNT",
    "MAX_PRICE_TICKS",
    "MAX_SIZE",
    "ONE",
    "UnitConverter",
    "amount_to_raw",
    "ceil_div",
    "from_fixed",
    "to_fixed",
]
