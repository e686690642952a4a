"""The reference price from a :class:`~defisim.prices.feeds.PriceFeed` read at each step:
a file replayed in wall time or a live exchange (paper trading).

:class:`LiveReferencePriceFeed` is a :class:`ReferencePriceFeed` (phase 0; the other
agents read :attr:`~ReferencePriceFeed.price`, :attr:`~ReferencePriceFeed.history`,
its volatility) whose points are written as the run goes: at step ``k`` it asks the
source for ``price_at(sim.now)`` and writes the answer at point ``k`` and every
later point, so :meth:`~ReferencePriceFeed.price_ahead` shows no future (an informed
trader sees none).

When the source has no fresh price (none yet, a failing or stale exchange) the
previous price is kept for the step and the step is *flagged*: :attr:`stale` is
true, :attr:`stale_steps` counts such steps (the scenario reports it as a KPI).
A wall-clocked source makes the run depend on when each step runs: it is not
deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from defisim.prices import PricePath

from .reference import ReferencePriceFeed

if TYPE_CHECKING:
    from defisim.prices.feeds import PriceFeed
    from defisim.service import Simulation


class LiveReferencePriceFeed(ReferencePriceFeed):
    """A reference price read from ``source`` at each step (module docstring).

    Args:
        name: agent name.
        source: the :class:`~defisim.prices.feeds.PriceFeed`.
        first_price: the price before the first reading (quote units, > 0; the
            scenario sizes its market and orders at it).
        n: number of points (the run's steps plus any look-ahead, >= 2).
        step_seconds: seconds between points.

    Attributes:
        source: the price feed.
        stale: whether the last step had no fresh price (the previous one held).
        stale_steps: how many steps so far had none.

    Raises:
        ValueError: ``first_price`` not finite and > 0, ``n < 2``, ``step_seconds <= 0``.
    """

    def __init__(self, name: str, source: PriceFeed, first_price: float, n: int,
                 step_seconds: float) -> None:
        if not (np.isfinite(first_price) and first_price > 0):
            raise ValueError(f"first_price must be finite and > 0, got {first_price!r}")
        if n < 2 or not step_seconds > 0:
            raise ValueError(f"need n >= 2 points and step_seconds > 0, got {n}, {step_seconds}")
        times = np.arange(n, dtype=np.float64) * float(step_seconds)
        path = PricePath(times, np.full(n, float(first_price)), None,
                         f"live: {type(source).__name__}")
        super().__init__(name, path)
        self.source = source
        self._prices = self._prices.copy()  # written step by step (the path's are read-only)
        self.stale = False
        self.stale_steps = 0

    def step(self, sim: Simulation) -> None:
        """Move to the point of ``sim.now`` and write the source's price there (and
        ahead), or keep the previous one and flag the step stale."""
        self.seek(sim.now)
        self.steps += 1
        price = self.source.price_at(sim.now)
        if price is None or not (np.isfinite(price) and price > 0):
            self.stale = True
            self.stale_steps += 1
            price = float(self._prices[max(self.index - 1, 0)])
        else:
            self.stale = False
        self._prices[self.index:] = price

    def replace_future(self, prices: np.ndarray) -> None:
        """Refused: a live reference has no future to redraw.

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError("a live reference price has no future to replace")
