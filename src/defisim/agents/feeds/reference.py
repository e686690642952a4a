"""The reference price feed: an off-chain oracle that the other agents read.

The feed is an :class:`~defisim.agents.Agent` of phase 0 (it runs before every
other agent in a step) wrapping a :class:`~defisim.prices.PricePath`. It is *not*
on the chain: agents hold a reference to it and read :attr:`ReferencePriceFeed.price`
(the "true" or external price of the underlying, e.g. Binance BTCUSDT), as a
trader reads a price screen. Market makers quote around it, price-sensitive
takers and noise traders price their orders from it, the informed trader peeks
ahead with :meth:`ReferencePriceFeed.price_ahead`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from defisim.prices import PricePath, gbm_path, load_price_csv, ou_path

from ..base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation


class ReferencePriceFeed(Agent):
    """Replays a price path, one point per simulated time.

    At simulated time ``t`` (seconds since the start) the feed shows the last path
    point at or before ``t`` (``times_s[i] <= t``): with a path sampled every
    ``step_seconds`` (the scenarios resample it so), step ``k`` at time
    ``k * step_seconds`` shows point ``k``. Past the end of the path the last
    price holds.

    Args:
        name: agent name (the feed has no party and trades nothing).
        path: the reference price path (prices in quote units, e.g. USDT per BTC;
            ``times_s`` in seconds since the first point).

    Attributes:
        path: the wrapped :class:`~defisim.prices.PricePath`.
        index: index of the path point in force now (0 before the first step).
        steps: how many times :meth:`step` ran.
    """

    phase = 0

    def __init__(self, name: str, path: PricePath) -> None:
        super().__init__(name)
        self.path = path
        self._times = np.asarray(path.times_s, dtype=np.float64)
        self._prices = np.asarray(path.prices, dtype=np.float64)
        self._n = len(path)
        self.index = 0
        self.steps = 0

    # ------------------------------------------------------------ builders
    @classmethod
    def from_csv(
        cls,
        name: str,
        file: str | Path,
        time_column: str | None = None,
        price_column: str | None = None,
    ) -> ReferencePriceFeed:
        """A feed replaying a CSV price file (see :func:`defisim.prices.load_price_csv`).

        Raises:
            defisim.prices.PriceFileError: unreadable or malformed file.
        """
        return cls(name, load_price_csv(file, time_column=time_column, price_column=price_column))

    @classmethod
    def from_gbm(
        cls,
        name: str,
        n: int,
        dt_s: float,
        s0: float,
        mu: float,
        sigma: float,
        rng: np.random.Generator,
    ) -> ReferencePriceFeed:
        """A feed on a geometric Brownian motion path (``mu``, ``sigma`` annualised,
        365-day year; see :func:`defisim.prices.gbm_path`)."""
        return cls(name, gbm_path(n, dt_s, s0, mu, sigma, rng))

    @classmethod
    def from_ou(
        cls,
        name: str,
        n: int,
        dt_s: float,
        s0: float,
        mean: float,
        theta: float,
        sigma: float,
        rng: np.random.Generator,
    ) -> ReferencePriceFeed:
        """A feed on an Ornstein-Uhlenbeck path (see :func:`defisim.prices.ou_path`)."""
        return cls(name, ou_path(n, dt_s, s0, mean, theta, sigma, rng))

    # ------------------------------------------------------------- agent API
    def step(self, sim: Simulation) -> None:
        """Move to the path point in force at ``sim.now``."""
        self.seek(sim.now)
        self.steps += 1

    def seek(self, t_s: float) -> None:
        """Show the last point at or before time ``t_s`` (seconds; clamped to the path)."""
        i = int(np.searchsorted(self._times, t_s + 1e-9, side="right")) - 1
        self.index = min(max(i, 0), self._n - 1)

    def replace_future(self, prices: np.ndarray) -> None:
        """Replace the path points after the current one with ``prices`` (same count,
        same times; used to give a learning episode a new future).

        Raises:
            ValueError: wrong length, or a price that is not finite and positive.
        """
        prices = np.asarray(prices, dtype=np.float64)
        n_future = self._n - self.index - 1
        if prices.shape != (n_future,):
            raise ValueError(f"replace_future: expected {n_future} prices, got shape "
                             f"{prices.shape}")
        new = np.concatenate([self._prices[: self.index + 1], prices])
        self.path = PricePath(self._times, new, self.path.start,
                              f"{self.path.source} (future redrawn at point {self.index})")
        self._prices = np.asarray(self.path.prices, dtype=np.float64)

    # -------------------------------------------------------------- readings
    @property
    def price(self) -> float:
        """The reference price now (quote units)."""
        return float(self._prices[self.index])

    def price_ahead(self, k_steps: int) -> float:
        """The reference price ``k_steps`` path points ahead (clamped at the path's end).

        Only an informed trader should look here: it is the future.

        Raises:
            ValueError: negative ``k_steps``.
        """
        if k_steps < 0:
            raise ValueError(f"k_steps must be >= 0, got {k_steps}")
        return float(self._prices[min(self.index + int(k_steps), self._n - 1)])

    @property
    def history(self) -> np.ndarray:
        """Prices up to and including now, shape ``(index + 1,)`` (a read-only view)."""
        return self._prices[: self.index + 1]

    @property
    def history_times(self) -> np.ndarray:
        """Times (seconds since the path's start) of :attr:`history`, same shape."""
        return self._times[: self.index + 1]

    @property
    def time(self) -> float:
        """Path time of the point in force (seconds since the path's start)."""
        return float(self._times[self.index])

    def volatility(self, window: int) -> float | None:
        """Realised volatility of the last ``window`` price increments, in quote units
        per square-root second: ``sqrt(sum (dp_i)^2 / sum dt_i)``; ``None`` with fewer
        than 2 points of history."""
        lo = max(0, self.index - int(window))
        if self.index - lo < 1:
            return None
        p = self._prices[lo : self.index + 1]
        dt = self._times[self.index] - self._times[lo]
        dp = np.diff(p)
        return float(np.sqrt(np.dot(dp, dp) / dt))

    def __len__(self) -> int:
        return self._n
