"""The background market: an exponential book that follows its own price path with
Markov-switching regimes (Hamilton 1989, "A new approach to the economic analysis of
nonstationary time series"), so a scenario has a liquid market without a feed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .exponential_book import ExponentialBookMarketMaker

if TYPE_CHECKING:
    from defisim.service import Simulation


@dataclass(frozen=True)
class Regime:
    """One regime of :class:`BackgroundMarket`: log-price drift ``mu`` and volatility
    ``sigma`` per second (``d ln S = mu dt + sigma dW``), and ``scale_factor`` that
    multiplies the book's depth scale (a wider, thinner book in a stressed regime)."""

    mu: float = 0.0
    sigma: float = 1e-4
    scale_factor: float = 1.0


class BackgroundMarket(ExponentialBookMarketMaker):
    """An exponential book around its own regime-switching price path.

    The price ``S`` starts at ``s0``; at each wake-up, ``dt`` seconds after the
    previous one, the regime first switches per the Markov matrix
    ``transition[i][j]`` (probability of moving from regime ``i`` to ``j`` over one
    wake-up; rows sum to 1), then ``ln S += (mu - sigma^2/2) dt + sigma sqrt(dt) Z``,
    ``Z ~ N(0, 1)`` drawn from :attr:`rng` (GBM within a regime). The book is that
    of :class:`ExponentialBookMarketMaker` around ``S`` with depth scale
    ``scale_bps * scale_factor`` of the regime.

    Args:
        name, market, asset, collateral, total_size, levels, first_bps, spacing_bps,
            scale_bps, max_inventory: as :class:`ExponentialBookMarketMaker`.
        s0: initial price, quote units.
        regimes: the regimes (default: one calm regime).
        transition: the regime transition matrix (default: identity).

    Attributes:
        price: the current background price; ``regime``: index of the regime in
        force; ``path``: ``(time, price, regime)`` of every wake-up.
    """

    def __init__(
        self,
        name: str,
        market: str,
        *,
        s0: float,
        regimes: Sequence[Regime] = (Regime(),),
        transition: Sequence[Sequence[float]] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(name, market, None, **kwargs)
        n = len(regimes)
        if not s0 > 0 or n < 1:
            raise ValueError(f"{name}: need s0 > 0 and at least one regime")
        P = np.eye(n) if transition is None else np.asarray(transition, dtype=float)
        if P.shape != (n, n) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0):
            raise ValueError(f"{name}: transition must be a {n}x{n} stochastic matrix")
        self.regimes = list(regimes)
        self.transition = P
        self.price = float(s0)
        self.regime = 0
        self.path: list[tuple[float, float, int]] = []
        self._last: float | None = None

    def centre(self, sim: Simulation) -> float:
        return self.price

    def scale(self, sim: Simulation) -> float:
        return self.scale_bps * self.regimes[self.regime].scale_factor

    def advance(self, dt: float) -> None:
        """Switch regime, then move the price over ``dt`` seconds."""
        self.regime = int(self.rng.choice(len(self.regimes), p=self.transition[self.regime]))
        r = self.regimes[self.regime]
        if dt > 0:
            z = self.rng.standard_normal()
            self.price *= math.exp((r.mu - r.sigma**2 / 2) * dt + r.sigma * math.sqrt(dt) * z)

    def step(self, sim: Simulation) -> None:
        now = sim.now
        if self._last is not None:
            self.advance(now - self._last)
        self._last = now
        self.path.append((now, self.price, self.regime))
        super().step(sim)
