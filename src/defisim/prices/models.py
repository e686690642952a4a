"""Synthetic price paths: geometric Brownian motion and Ornstein-Uhlenbeck.

Rates are annualised over a 365-day year (crypto markets trade every day):
``SECONDS_PER_YEAR = 365 * 86400``. Every random draw comes from the
``numpy.random.Generator`` passed in, so the same generator state gives the same
path bit for bit.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .path import PricePath

__all__ = ["SECONDS_PER_YEAR", "gbm_path", "ou_path"]

#: Seconds in the 365-day year used to annualise mu, sigma and theta.
SECONDS_PER_YEAR = 365 * 86_400


def _check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise ValueError(f"n must be an int, got {n!r}")
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return int(n)


def _check_real(name: str, value: object, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v!r}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {v!r}")
    if nonneg and v < 0:
        raise ValueError(f"{name} must be >= 0, got {v!r}")
    return v


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def gbm_path(
    n: int, dt_s: float, s0: float, mu: float, sigma: float, rng: np.random.Generator
) -> PricePath:
    """Geometric Brownian motion sampled at ``n`` points ``dt_s`` seconds apart.

    Exact log-normal steps (no discretisation error)::

        S_{k+1} = S_k * exp((mu - sigma**2 / 2) * dt + sigma * sqrt(dt) * Z_k),
        Z_k ~ N(0, 1) i.i.d.,  dt = dt_s / SECONDS_PER_YEAR (365-day year)

    so log-returns are i.i.d. normal with mean ``(mu - sigma**2/2) dt`` and
    standard deviation ``sigma sqrt(dt)``, and ``E[S_t] = s0 exp(mu t)``.

    Args:
        n: number of points (>= 2); ``n - 1`` normals are drawn from ``rng``.
        dt_s: spacing in seconds (> 0).
        s0: first price (> 0).
        mu: annualised drift (finite; e.g. 0.05 = 5 %/year).
        sigma: annualised volatility (>= 0; e.g. 0.8 = 80 %/year).
        rng: the generator every draw comes from.

    Returns:
        A :class:`PricePath` with ``times_s = k * dt_s``, ``prices[0] == s0``,
        ``start=None``.

    Raises:
        ValueError: an argument out of range (the message names it), or parameters
            so extreme that a price overflows or underflows float64.
    """
    n = _check_n(n)
    dt_s = _check_real("dt_s", dt_s, positive=True)
    s0 = _check_real("s0", s0, positive=True)
    mu = _check_real("mu", mu)
    sigma = _check_real("sigma", sigma, nonneg=True)
    rng = _check_rng(rng)
    dt = dt_s / SECONDS_PER_YEAR
    z = rng.standard_normal(n - 1)
    log_steps = (mu - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * z
    log_path = np.concatenate(([0.0], np.cumsum(log_steps)))
    with np.errstate(over="ignore", under="ignore"):
        prices = s0 * np.exp(log_path)
    prices[0] = s0
    if not np.all(np.isfinite(prices) & (prices > 0)):
        raise ValueError(
            f"gbm_path: mu={mu!r}, sigma={sigma!r} over {n} steps of {dt_s!r} s give prices "
            "outside float64 range"
        )
    return PricePath(
        times_s=np.arange(n, dtype=np.float64) * dt_s,
        prices=prices,
        start=None,
        source=f"gbm(s0={s0!r}, mu={mu!r}, sigma={sigma!r}, dt_s={dt_s!r}, n={n}, seed-derived)",
    )


def ou_path(
    n: int,
    dt_s: float,
    s0: float,
    mean: float,
    theta: float,
    sigma: float,
    rng: np.random.Generator,
    *,
    floor: float | None = None,
) -> PricePath:
    """Ornstein-Uhlenbeck (mean-reverting) price sampled at ``n`` points ``dt_s`` apart.

    ``dX = theta (mean - X) dt + sigma dW`` with ``t`` in years (365-day year),
    simulated with the exact transition (no discretisation error)::

        X_{k+1} = mean + (X_k - mean) a + sigma sqrt((1 - a**2) / (2 theta)) Z_k,
        a = exp(-theta dt),  dt = dt_s / SECONDS_PER_YEAR

    (for ``theta == 0`` the noise term is ``sigma sqrt(dt) Z_k``, a Brownian
    motion). So ``E[X_t] = mean + (s0 - mean) exp(-theta t)`` and the stationary
    standard deviation is ``sigma / sqrt(2 theta)``. ``sigma`` is in price units
    per sqrt(year); ``theta`` is per year (half-life ``ln 2 / theta`` years).

    The process itself is Gaussian and can go negative; the returned prices are
    ``max(X_k, floor)``. The floor acts on the output only: the hidden OU state is
    not reset, so the path stays an exact OU sample wherever it is above the floor.

    Args:
        n: number of points (>= 2); ``n - 1`` normals are drawn from ``rng``.
        dt_s: spacing in seconds (> 0).
        s0: first price (> 0).
        mean: long-run mean price (> 0).
        theta: mean-reversion speed per year (>= 0).
        sigma: volatility in price units per sqrt(year) (>= 0).
        rng: the generator every draw comes from.
        floor: smallest price returned, ``0 < floor <= s0``; default
            ``1e-6 * min(s0, mean)``.

    Returns:
        A :class:`PricePath` with ``times_s = k * dt_s``, ``prices[0] == s0``,
        ``start=None``.

    Raises:
        ValueError: an argument out of range; the message names it.
    """
    n = _check_n(n)
    dt_s = _check_real("dt_s", dt_s, positive=True)
    s0 = _check_real("s0", s0, positive=True)
    mean = _check_real("mean", mean, positive=True)
    theta = _check_real("theta", theta, nonneg=True)
    sigma = _check_real("sigma", sigma, nonneg=True)
    rng = _check_rng(rng)
    if floor is None:
        floor = 1e-6 * min(s0, mean)
    else:
        floor = _check_real("floor", floor, positive=True)
        if floor > s0:
            raise ValueError(f"floor must be <= s0={s0!r}, got {floor!r}")
    dt = dt_s / SECONDS_PER_YEAR
    a = math.exp(-theta * dt)
    if theta > 0:
        noise_sd = sigma * math.sqrt(-math.expm1(-2.0 * theta * dt) / (2.0 * theta))
    else:
        noise_sd = sigma * math.sqrt(dt)
    z = rng.standard_normal(n - 1)
    # Deviations Y_k = X_k - mean follow Y_{k+1} = a Y_k + noise_sd Z_k: a first-order
    # linear recursion, run as an IIR filter with initial state a * Y_0.
    from scipy.signal import lfilter  # imported here: scipy.signal takes ~1 s to import

    y0 = s0 - mean
    dev, _ = lfilter([1.0], [1.0, -a], noise_sd * z, zi=[a * y0])
    prices = np.concatenate(([s0], mean + dev))
    np.maximum(prices, floor, out=prices)
    return PricePath(
        times_s=np.arange(n, dtype=np.float64) * dt_s,
        prices=prices,
        start=None,
        source=(
            f"ou(s0={s0!r}, mean={mean!r}, theta={theta!r}, sigma={sigma!r}, dt_s={dt_s!r}, "
            f"n={n}, floor={floor!r}, seed-derived)"
        ),
    )
