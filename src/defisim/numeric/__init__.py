"""Exact numbers shared by protocols: fixed-point factors and unit conversion.

Imports nothing else of defisim (DESIGN.md, "Layers").
"""

from .fixed import ONE, ceil_div, from_fixed, to_fixed
from .units import UnitConverter

__all__ = ["ONE", "UnitConverter", "ceil_div", "from_fixed", "to_fixed"]
