"""Correlated GBM and Ornstein-Uhlenbeck steps for the global state (spec section 6).

Pure functions of the state and a standard-normal draw ``z`` (so a test can pass a
fixed draw), and two small stateful processes that draw ``z`` from the numpy
Generator given to them. Correlation enters through ``L z`` with ``L`` the lower
Cholesky factor of the correlation matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SECONDS_PER_YEAR",
    "CorrelatedGBM",
    "CorrelatedOU",
    "cholesky_factor",
    "equicorrelation",
    "gbm_step",
    "ou_step",
]

SECONDS_PER_YEAR = 31_536_000
"""A 365-day year: ``tau = dt_s / SECONDS_PER_YEAR`` (spec section 6)."""


def equicorrelation(n: int, rho: float) -> NDArray[np.float64]:
    """The ``(n, n)`` correlation matrix with every off-diagonal entry ``rho``."""
    c = np.full((n, n), float(rho))
    np.fill_diagonal(c, 1.0)
    return c


def cholesky_factor(corr: ArrayLike) -> NDArray[np.float64]:
    """Lower Cholesky factor ``L`` (``L L^T = corr``) of a correlation matrix.

    Raises:
        ValueError: not square, not symmetric, a diagonal entry not 1, an entry
            outside [-1, 1], or not positive definite.
    """
    c = np.asarray(corr, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"correlation matrix: expected a non-empty square matrix, got {c.shape}")
    if not np.allclose(c, c.T, atol=1e-12) or not np.allclose(np.diag(c), 1.0, atol=1e-12):
        raise ValueError("correlation matrix: must be symmetric with ones on the diagonal")
    if np.any(np.abs(c) > 1.0 + 1e-12):
        raise ValueError("correlation matrix: entries must lie in [-1, 1]")
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError("correlation matrix: not positive definite") from None


def gbm_step(
    s: ArrayLike, mu: ArrayLike, sigma: ArrayLike, chol: ArrayLike, dt_s: float, z: ArrayLike
) -> NDArray[np.float64]:
    """One exact step of correlated GBM (spec section 6, "Token prices").

    ``S_{t+dt} = S_t exp((mu - sigma^2/2) tau + sigma sqrt(tau) (L z)_i)`` with
    ``tau = dt_s / 31,536,000``.

    Args:
        s: shape ``(n,)``, prices > 0 (USD).
        mu, sigma: shape ``(n,)``, annualised drift and volatility.
        chol: ``(n, n)`` lower Cholesky factor of the correlation matrix.
        dt_s: step in seconds, >= 0.
        z: shape ``(n,)``, independent standard normals.

    Returns:
        shape ``(n,)``, the new prices.
    """
    tau = float(dt_s) / SECONDS_PER_YEAR
    mu_a, sig = np.asarray(mu, float), np.asarray(sigma, float)
    shock = np.asarray(chol, float) @ np.asarray(z, float)
    return np.asarray(s, float) * np.exp((mu_a - 0.5 * sig * sig) * tau + sig * math.sqrt(tau) * shock)


def ou_step(
    x: ArrayLike, kappa: float, s: ArrayLike, chol: ArrayLike, dt_s: float, z: ArrayLike
) -> NDArray[np.float64]:
    """One exact step of correlated zero-mean Ornstein-Uhlenbeck processes (spec section 6).

    ``X_{t+dt} = X_t e^{-kappa dt} + s sqrt(1 - e^{-2 kappa dt}) (L z)`` with ``s`` the
    stationary standard deviations: the conditional mean and variance are exact for
    any ``dt``, not an Euler approximation.

    Args:
        x: shape ``(n,)``, the deviations now.
        kappa: mean-reversion rate per second (> 0; half-life ``ln 2 / kappa``).
        s: shape ``(n,)``, stationary standard deviations (>= 0).
        chol: ``(n, n)`` lower Cholesky factor of the correlation matrix.
        dt_s: step in seconds, >= 0.
        z: shape ``(n,)``, independent standard normals.
    """
    decay = math.exp(-float(kappa) * float(dt_s))
    scale = math.sqrt(max(0.0, 1.0 - decay * decay))
    shock = np.asarray(chol, float) @ np.asarray(z, float)
    return np.asarray(x, float) * decay + np.asarray(s, float) * scale * shock


def _vector(name: str, v: Sequence[float] | ArrayLike, n: int, *, positive: bool = False,
            nonneg: bool = False) -> NDArray[np.float64]:
    a = np.asarray(v, dtype=np.float64)
    if a.shape != (n,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected {n} finite numbers, got {v!r}")
    if positive and np.any(a <= 0):
        raise ValueError(f"{name}: every entry must be > 0, got {v!r}")
    if nonneg and np.any(a < 0):
        raise ValueError(f"{name}: every entry must be >= 0, got {v!r}")
    return a


def _check_dt(dt_s: float) -> float:
    d = float(dt_s)
    if not (math.isfinite(d) and d >= 0):
        raise ValueError(f"dt_s must be a finite number >= 0, got {dt_s!r}")
    return d


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


class CorrelatedGBM:
    """``n`` correlated GBM prices, stepped exactly with draws from ``rng`` (:func:`gbm_step`).

    Args:
        s0, mu, sigma: shape ``(n,)``: first prices (> 0, USD), annualised drifts,
            annualised volatilities (>= 0).
        corr: ``(n, n)`` correlation matrix of the shocks.
        rng: the named stream every draw comes from (``n`` normals per step).

    Raises:
        ValueError: shapes that disagree, a bad correlation matrix, a price <= 0,
            a negative volatility, ``rng`` not a Generator.
    """

    def __init__(self, s0, mu, sigma, corr, rng: np.random.Generator) -> None:
        n = len(s0)
        self.s = _vector("s0", s0, n, positive=True)
        self.mu = _vector("mu", mu, n)
        self.sigma = _vector("sigma", sigma, n, nonneg=True)
        self.chol = cholesky_factor(corr)
        if self.chol.shape != (n, n):
            raise ValueError(f"corr: expected a {n}x{n} matrix, got {self.chol.shape}")
        self.rng = _check_rng(rng)

    def step(self, dt_s: float) -> NDArray[np.float64]:
        """Advance by ``dt_s`` seconds; returns a copy of the new prices."""
        d = _check_dt(dt_s)
        z = self.rng.standard_normal(self.s.size)
        self.s = gbm_step(self.s, self.mu, self.sigma, self.chol, d, z)
        return self.s.copy()


class CorrelatedOU:
    """``n`` correlated zero-mean OU deviations, stepped exactly (:func:`ou_step`).

    Args:
        x0: shape ``(n,)``, starting deviations.
        kappa: mean-reversion rate per second, > 0.
        s: shape ``(n,)``, stationary standard deviations, >= 0 (0 = no noise:
            ``x`` decays deterministically, spec vector 9(e)).
        corr: ``(n, n)`` correlation matrix.
        rng: the named stream every draw comes from (``n`` normals per step, also
            when ``s`` is 0, so switching noise off does not shift later draws).

    Raises:
        ValueError: as :class:`CorrelatedGBM`, or ``kappa`` not > 0.
    """

    def __init__(self, x0, kappa: float, s, corr, rng: np.random.Generator) -> None:
        n = len(x0)
        self.x = _vector("x0", x0, n)
        k = float(kappa)
        if not (math.isfinite(k) and k > 0):
            raise ValueError(f"kappa must be a finite number > 0 (per second), got {kappa!r}")
        self.kappa = k
        self.s = _vector("s", s, n, nonneg=True)
        self.chol = cholesky_factor(corr)
        if self.chol.shape != (n, n):
            raise ValueError(f"corr: expected a {n}x{n} matrix, got {self.chol.shape}")
        self.rng = _check_rng(rng)

    def step(self, dt_s: float) -> NDArray[np.float64]:
        """Advance by ``dt_s`` seconds; returns a copy of the new deviations."""
        d = _check_dt(dt_s)
        z = self.rng.standard_normal(self.x.size)
        self.x = ou_step(self.x, self.kappa, self.s, self.chol, d, z)
        return self.x.copy()
