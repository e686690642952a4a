"""Electricity price per region: a daily cycle in local time plus correlated OU noise (spec 6).

``E_r(t) = max(floor_r, mu_r (1 + a_r cos(2 pi (h_r(t) - h_peak) / 24)) + X_r(t))``,
``h_r(t) = (t / 3600 + tz_r) mod 24`` the local hour (``t`` in simulated seconds,
``t = 0`` is UTC midnight; hours are fractional, so the cycle is smooth between
whole hours), and the ``X_r`` correlated Ornstein-Uhlenbeck deviations stepped
exactly (:func:`~.stochastic.ou_step`). Defaults: :data:`DEFAULT_REGIONS`,
``h_peak = 19``, ``kappa = ln 2 / 3600`` (1 h half-life), pairwise rho 0.3, floor 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .replay import ReplaySeries
from .stochastic import CorrelatedOU, equicorrelation

__all__ = ["DEFAULT_REGIONS", "Electricity", "Region", "seasonal_price"]


@dataclass(frozen=True)
class Region:
    """One region's electricity parameters (spec section 6 table).

    Attributes:
        name: region id (``eu-central``).
        mu: mean price, USD/kWh (>= 0).
        tz: hours from UTC (local hour = UTC hour + tz).
        a: amplitude of the daily cycle, a fraction of ``mu``.
        s: stationary standard deviation of the OU deviation, USD/kWh (>= 0).
        floor: lowest price, USD/kWh.
    """

    name: str
    mu: float
    tz: float
    a: float
    s: float
    floor: float = 0.0


DEFAULT_REGIONS = (
    Region("us-east", 0.12, -5, 0.25, 0.02),
    Region("eu-central", 0.20, 1, 0.25, 0.04),
    Region("asia-east", 0.10, 8, 0.25, 0.02),
)


def seasonal_price(region: Region, t_s: float, h_peak: float = 19.0) -> float:
    """``mu_r (1 + a_r cos(2 pi (h_r(t) - h_peak) / 24))`` in USD/kWh at simulated ``t_s``.

    Vector 9(e): eu-central at t = 3600 s (local hour 2) gives 0.187059.
    """
    hour = (t_s / 3600.0 + region.tz) % 24.0
    return region.mu * (1.0 + region.a * math.cos(2.0 * math.pi * (hour - h_peak) / 24.0))


class Electricity:
    """Electricity prices by region, advanced per runner step.

    Args:
        rng: the named stream of the OU shocks (one normal per region per step).
        regions: the regions (default :data:`DEFAULT_REGIONS`); names distinct.
        x0: starting deviations by region name (default 0 for each).
        h_peak: local hour of the daily peak.
        kappa: OU mean-reversion rate per second (> 0).
        rho: pairwise correlation of the regions' shocks.
        replay: region name -> :class:`ReplaySeries` of the price (USD/kWh),
            used instead of the formula (the OU draws still happen).

    Raises:
        ValueError: duplicate or unknown region names, bad OU parameters.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        regions: tuple[Region, ...] = DEFAULT_REGIONS,
        x0: Mapping[str, float] | None = None,
        h_peak: float = 19.0,
        kappa: float = math.log(2) / 3600,
        rho: float = 0.3,
        replay: Mapping[str, ReplaySeries] | None = None,
    ) -> None:
        names = [r.name for r in regions]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"regions: need distinct names, got {names}")
        for label, given in (("x0", x0 or {}), ("replay", replay or {})):
            unknown = set(given) - set(names)
            if unknown:
                raise ValueError(f"{label}: unknown region(s) {sorted(unknown)}; known: {names}")
        self.regions = tuple(regions)
        self.h_peak = float(h_peak)
        n = len(regions)
        corr = equicorrelation(n, rho)
        start = [float((x0 or {}).get(name, 0.0)) for name in names]
        self.ou = CorrelatedOU(start, kappa, [r.s for r in regions], corr, rng)
        self.replay = dict(replay or {})
        self.t_s = 0.0

    def step(self, dt_s: float) -> dict[str, float]:
        """Advance by ``dt_s`` seconds; return :meth:`prices`."""
        self.ou.step(dt_s)
        self.t_s += float(dt_s)
        return self.prices()

    def deviations(self) -> dict[str, float]:
        """Region -> the OU deviation ``X_r`` now, USD/kWh."""
        return {r.name: float(x) for r, x in zip(self.regions, self.ou.x, strict=True)}

    def prices(self) -> dict[str, float]:
        """Region -> ``E_r(t)`` now, USD/kWh (replayed regions from their file)."""
        out = {}
        for r, x in zip(self.regions, self.ou.x, strict=True):
            if r.name in self.replay:
                out[r.name] = self.replay[r.name].at(self.t_s)
            else:
                out[r.name] = max(r.floor, seasonal_price(r, self.t_s, self.h_peak) + float(x))
        return out
