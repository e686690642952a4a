"""Price paths with regime changes: piecewise GBM, a scheduled crash, jump diffusion.

The paths that stress a market's mechanics (price-monitoring auctions, closeouts,
loss socialisation) need moves that a plain GBM almost never makes. Three
processes, all drawn from the ``numpy.random.Generator`` passed in (same generator
state, same path bit for bit), rates annualised over the 365-day year of
:mod:`defisim.prices.models`:

- :func:`regime_path`: geometric Brownian motion whose drift and volatility change
  at given steps (a calm regime, then a volatile bear regime, ...).
- :func:`crash_path`: GBM with a deterministic crash of ``crash_return`` (e.g.
  ``-0.30``) spread evenly in log price over ``crash_steps`` steps starting at
  ``crash_step`` (``crash_steps=1`` is a jump), optionally with a different
  volatility after the crash and a partial rebound.
- :func:`jump_diffusion_path`: Merton (1976) jump diffusion, "Option pricing when
  underlying stock returns are discontinuous", J. Financial Economics 3, 125-144:
  GBM plus compound-Poisson log-normal jumps, compensated so that
  ``E[S_t] = s0 exp(mu t)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .models import SECONDS_PER_YEAR, _check_n, _check_real, _check_rng
from .path import PricePath

__all__ = ["crash_path", "jump_diffusion_path", "regime_path"]


def _finish(log_steps: np.ndarray, dt_s: float, s0: float, source: str) -> PricePath:
    """Cumulate log increments into a path starting at ``s0``."""
    log_path = np.concatenate(([0.0], np.cumsum(log_steps)))
    with np.errstate(over="ignore", under="ignore"):
        prices = s0 * np.exp(log_path)
    prices[0] = s0
    if not np.all(np.isfinite(prices) & (prices > 0)):
        raise ValueError(f"{source}: prices outside float64 range")
    n = len(prices)
    return PricePath(np.arange(n, dtype=np.float64) * dt_s, prices, None, source)


def regime_path(
    dt_s: float,
    s0: float,
    regimes: Sequence[tuple[int, float, float]],
    rng: np.random.Generator,
) -> PricePath:
    """GBM whose drift and volatility change by regime.

    Each regime ``(steps, mu, sigma)`` lasts ``steps`` increments with annualised
    drift ``mu`` and volatility ``sigma`` (exact log-normal steps, as
    :func:`~defisim.prices.gbm_path`). The path has ``1 + sum(steps)`` points.

    Args:
        dt_s: spacing in seconds (> 0).
        s0: first price (> 0).
        regimes: at least one ``(steps >= 1, mu, sigma >= 0)``.
        rng: the generator every draw comes from (``sum(steps)`` normals, in order).

    Raises:
        ValueError: an argument out of range (the message names it).
    """
    dt_s = _check_real("dt_s", dt_s, positive=True)
    s0 = _check_real("s0", s0, positive=True)
    rng = _check_rng(rng)
    if not regimes:
        raise ValueError("regimes must hold at least one (steps, mu, sigma)")
    dt = dt_s / SECONDS_PER_YEAR
    parts = []
    for i, reg in enumerate(regimes):
        try:
            steps, mu, sigma = reg
        except (TypeError, ValueError):
            raise ValueError(f"regime {i} must be (steps, mu, sigma), got {reg!r}") from None
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
            raise ValueError(f"regime {i}: steps must be an int >= 1, got {steps!r}")
        mu = _check_real(f"regime {i} mu", mu)
        sigma = _check_real(f"regime {i} sigma", sigma, nonneg=True)
        z = rng.standard_normal(int(steps))
        parts.append((mu - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * z)
    desc = ", ".join(f"({s}, {m!r}, {v!r})" for s, m, v in regimes)
    return _finish(np.concatenate(parts), dt_s, s0, f"regimes(s0={s0!r}, dt_s={dt_s!r}, [{desc}])")


def crash_path(
    n: int,
    dt_s: float,
    s0: float,
    mu: float,
    sigma: float,
    rng: np.random.Generator,
    *,
    crash_step: int,
    crash_steps: int = 1,
    crash_return: float = -0.3,
    sigma_after: float | None = None,
    rebound: float = 0.0,
    rebound_steps: int = 0,
) -> PricePath:
    """GBM with a scheduled crash (or jump up) and an optional partial rebound.

    Increments ``k = 0 .. n-2`` (from point ``k`` to ``k + 1``) are GBM log steps
    with ``mu`` and ``sigma`` (``sigma_after`` from ``crash_step`` on, if given);
    increments ``crash_step .. crash_step + crash_steps - 1`` also carry
    ``log(1 + crash_return) / crash_steps`` each, so that, noise aside, the price
    at point ``crash_step + crash_steps`` is ``(1 + crash_return)`` times the price
    at ``crash_step``. Then ``rebound_steps`` increments carry
    ``log(1 + rebound) / rebound_steps`` each (a rebound of ``rebound``, e.g. 0.1
    for +10 % of the crashed level).

    Args:
        n: number of points (>= 2); ``n - 1`` normals are drawn from ``rng``.
        dt_s: spacing in seconds (> 0).
        s0: first price (> 0).
        mu, sigma: annualised GBM drift and volatility (365-day year).
        rng: the generator every draw comes from.
        crash_step: increment at which the crash starts, ``0 <= crash_step <= n - 2``.
        crash_steps: how many increments it lasts (>= 1; 1 is a jump); cut at the path's end.
        crash_return: total relative move, ``> -1`` (``-0.3`` = a 30 % fall).
        sigma_after: volatility from the crash on (``None``: ``sigma``).
        rebound: relative move after the crash (``> -1``), over ``rebound_steps``.
        rebound_steps: increments of the rebound (0: none).

    Returns:
        A :class:`PricePath` with ``times_s = k * dt_s`` and ``prices[0] == s0``.

    Raises:
        ValueError: an argument out of range (the message names it).
    """
    n = _check_n(n)
    dt_s = _check_real("dt_s", dt_s, positive=True)
    s0 = _check_real("s0", s0, positive=True)
    mu = _check_real("mu", mu)
    sigma = _check_real("sigma", sigma, nonneg=True)
    rng = _check_rng(rng)
    sig2 = sigma if sigma_after is None else _check_real("sigma_after", sigma_after, nonneg=True)
    crash_return = _check_real("crash_return", crash_return)
    rebound = _check_real("rebound", rebound)
    if crash_return <= -1 or rebound <= -1:
        raise ValueError(f"crash_return and rebound must be > -1, got {crash_return}, {rebound}")
    if not 0 <= int(crash_step) <= n - 2:
        raise ValueError(f"crash_step must be in [0, {n - 2}], got {crash_step!r}")
    if int(crash_steps) < 1 or int(rebound_steps) < 0:
        raise ValueError("crash_steps must be >= 1 and rebound_steps >= 0")
    dt = dt_s / SECONDS_PER_YEAR
    z = rng.standard_normal(n - 1)
    vol = np.full(n - 1, sigma)
    vol[crash_step:] = sig2
    steps = (mu - 0.5 * vol * vol) * dt + vol * math.sqrt(dt) * z
    c0, c1 = int(crash_step), min(int(crash_step) + int(crash_steps), n - 1)
    steps[c0:c1] += math.log1p(crash_return) / int(crash_steps)
    if rebound_steps and rebound:
        r1 = min(c1 + int(rebound_steps), n - 1)
        steps[c1:r1] += math.log1p(rebound) / int(rebound_steps)
    src = (
        f"crash(s0={s0!r}, mu={mu!r}, sigma={sigma!r}, dt_s={dt_s!r}, n={n}, "
        f"crash {crash_return:+.1%} over steps [{c0}, {c1}), seed-derived)"
    )
    return _finish(steps, dt_s, s0, src)


def jump_diffusion_path(
    n: int,
    dt_s: float,
    s0: float,
    mu: float,
    sigma: float,
    rng: np.random.Generator,
    *,
    jump_rate: float = 12.0,
    jump_mean: float = -0.05,
    jump_std: float = 0.05,
) -> PricePath:
    """Merton (1976) jump diffusion sampled at ``n`` points ``dt_s`` apart.

    ``log S_{k+1} - log S_k = (mu - sigma^2/2 - lambda kappa) dt + sigma sqrt(dt) Z_k
    + sum_{j=1}^{N_k} Y_j`` with ``N_k ~ Poisson(lambda dt)``, ``Y_j ~ N(jump_mean,
    jump_std^2)`` and ``kappa = exp(jump_mean + jump_std^2/2) - 1`` (the
    compensator, so ``E[S_t] = s0 exp(mu t)``); ``dt = dt_s / SECONDS_PER_YEAR``.

    Args:
        n, dt_s, s0, mu, sigma, rng: as :func:`~defisim.prices.gbm_path`.
        jump_rate: ``lambda``, expected jumps per year (>= 0).
        jump_mean: mean log jump (``-0.05``: about a 5 % fall).
        jump_std: standard deviation of the log jump (>= 0).

    Draws, in order: ``n - 1`` normals, ``n - 1`` Poisson counts, then one normal
    per jump.

    Raises:
        ValueError: an argument out of range (the message names it).
    """
    n = _check_n(n)
    dt_s = _check_real("dt_s", dt_s, positive=True)
    s0 = _check_real("s0", s0, positive=True)
    mu = _check_real("mu", mu)
    sigma = _check_real("sigma", sigma, nonneg=True)
    lam = _check_real("jump_rate", jump_rate, nonneg=True)
    jm = _check_real("jump_mean", jump_mean)
    js = _check_real("jump_std", jump_std, nonneg=True)
    rng = _check_rng(rng)
    dt = dt_s / SECONDS_PER_YEAR
    kappa = math.expm1(jm + 0.5 * js * js)
    z = rng.standard_normal(n - 1)
    counts = rng.poisson(lam * dt, n - 1)
    total = int(counts.sum())
    sizes = rng.normal(jm, js, total) if total else np.zeros(0)
    jumps = np.zeros(n - 1)
    if total:
        np.add.at(jumps, np.repeat(np.arange(n - 1), counts), sizes)
    steps = (mu - 0.5 * sigma * sigma - lam * kappa) * dt + sigma * math.sqrt(dt) * z + jumps
    src = (
        f"jump_diffusion(s0={s0!r}, mu={mu!r}, sigma={sigma!r}, lambda={lam!r}, "
        f"jump N({jm!r}, {js!r}^2), dt_s={dt_s!r}, n={n}, seed-derived)"
    )
    return _finish(steps, dt_s, s0, src)
