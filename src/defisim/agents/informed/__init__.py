"""Informed traders: trade on a private view of the price.

- :mod:`.lookahead`: :class:`InformedTrader`, sees the reference price some steps ahead;
- :mod:`.noisy`: :class:`NoisyInformedTrader`, the same signal, right with a given
  accuracy;
- :mod:`.value`: :class:`ValueTrader`, a noisy, filtered view of the fundamental.
"""

from .lookahead import InformedTrader
from .noisy import NoisyInformedTrader
from .value import ValueTrader

__all__ = ["InformedTrader", "NoisyInformedTrader", "ValueTrader"]
