"""The Gueant-Lehalle-Fernandez-Tapia (GLFT) market maker.

Sources:

- O. Gueant, C.-A. Lehalle, J. Fernandez-Tapia (2013), "Dealing with the inventory
  risk: a solution to the market making problem", Mathematics and Financial
  Economics 7(4), 477-507 (GLFT): Theorem 1 (exact solution with an inventory
  limit ``Q``) and the asymptotic closed form of section 4;
- O. Gueant (2017), "Optimal market making", Applied Mathematical Finance 24(2),
  112-154: the same closed form (eq. 4.6-4.7 with ``xi = gamma``, ``Delta = 1``).

Model: mid ``dS = sigma dW``, fills on each side at intensity ``A exp(-k delta)``
at a half-spread ``delta``, CARA utility of risk aversion ``gamma``, inventory
``q`` (lots) kept in ``[-Q, Q]``.

**Exact finite-horizon solution** (GLFT Theorem 1). With

- ``alpha = (k / 2) gamma sigma^2``,
- ``eta = A (1 + gamma / k)^(-(1 + k / gamma))``,
- ``M`` the ``(2Q+1) x (2Q+1)`` tridiagonal matrix with ``M[q, q] = alpha q^2`` and
  ``M[q, q-1] = M[q, q+1] = -eta`` (rows and columns indexed by ``q = -Q..Q``),

``v(t) = exp(-M (T - t)) 1`` solves the linear ODE system ``v' = M v``,
``v_q(T) = 1``, and the optimal half-spreads are

- bid: ``delta_b(t, q) = (1/k) ln(v_q(t) / v_{q+1}(t)) + (1/gamma) ln(1 + gamma/k)``
  for ``q < Q`` (no bid at ``q = Q``),
- ask: ``delta_a(t, q) = (1/k) ln(v_q(t) / v_{q-1}(t)) + (1/gamma) ln(1 + gamma/k)``
  for ``q > -Q`` (no ask at ``q = -Q``).

The matrix exponential is :func:`scipy.linalg.expm` of ``-(M - lambda_0 I) tau``,
with ``lambda_0`` the smallest eigenvalue of ``M`` (the shift multiplies ``v`` by a
constant, which leaves the ratios unchanged and keeps long horizons finite). As
``T - t -> infinity``, ``v`` tends to the ground-state eigenvector of ``M`` and the
quotes become stationary.

**Asymptotic closed form** (GLFT eq. (4.6)-(4.7); Gueant 2017, eq. (4.6)-(4.7)),
an approximation of the stationary quotes:

- ``delta_b(q) = (1/gamma) ln(1 + gamma/k)
  + (2q + 1)/2 * sqrt(sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma))``
- ``delta_a(q) = (1/gamma) ln(1 + gamma/k)
  - (2q - 1)/2 * sqrt(sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma))``

Quotes: bid ``s - delta_b``, ask ``s + delta_a``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.linalg import expm

from .avellaneda_stoikov import AvellanedaStoikovMarketMaker

if TYPE_CHECKING:
    from ..feeds.reference import ReferencePriceFeed


def _check(gamma: float, sigma: float, k: float, A: float) -> None:
    if not gamma > 0 or not k > 0 or not A > 0 or sigma < 0:
        raise ValueError(
            f"need gamma, k, A > 0 and sigma >= 0; got gamma={gamma!r}, k={k!r}, "
            f"A={A!r}, sigma={sigma!r}"
        )


def glft_asymptotic_half_spreads(
    q: float, gamma: float, sigma: float, k: float, A: float
) -> tuple[float, float]:
    """GLFT (2013) / Gueant (2017) closed-form half-spreads ``(delta_b, delta_a)``.

    Args:
        q: inventory in lots (> 0 long).
        gamma: risk aversion, 1/(quote unit x lot).
        sigma: mid volatility, quote units per sqrt(second).
        k: fill-intensity decay, 1/(quote unit).
        A: fill intensity at a zero half-spread, fills per second.

    Returns:
        ``(delta_b, delta_a)`` in quote units (see the module doc for the formula).
    """
    _check(gamma, sigma, k, A)
    base = math.log1p(gamma / k) / gamma
    root = math.sqrt(sigma * sigma * gamma / (2 * k * A) * (1 + gamma / k) ** (1 + k / gamma))
    return base + (2 * q + 1) / 2 * root, base - (2 * q - 1) / 2 * root


def glft_value_vector(
    gamma: float, sigma: float, k: float, A: float, tau: float, Q: int
) -> np.ndarray:
    """``v(T - tau) = exp(-M tau) 1`` of GLFT Theorem 1 (up to a positive constant),
    indexed ``q = -Q..Q`` (shape ``(2Q + 1,)``)."""
    _check(gamma, sigma, k, A)
    if tau < 0 or Q < 1:
        raise ValueError(f"need tau >= 0 and Q >= 1, got tau={tau!r}, Q={Q!r}")
    alpha = k * gamma * sigma * sigma / 2
    eta = A * (1 + gamma / k) ** (-(1 + k / gamma))
    qs = np.arange(-Q, Q + 1, dtype=float)
    n = 2 * Q + 1
    M = np.diag(alpha * qs * qs) - eta * (np.eye(n, k=1) + np.eye(n, k=-1))
    lam0 = float(np.linalg.eigvalsh(M)[0])
    return expm(-(M - lam0 * np.eye(n)) * tau) @ np.ones(n)


def glft_finite_half_spreads(
    q: int, gamma: float, sigma: float, k: float, A: float, tau: float, Q: int
) -> tuple[float | None, float | None]:
    """GLFT Theorem 1 half-spreads ``(delta_b, delta_a)`` at inventory ``q`` (lots,
    ``-Q <= q <= Q``) with ``tau = T - t`` seconds left; ``None`` for the side that
    would leave ``[-Q, Q]``. Units as :func:`glft_asymptotic_half_spreads`."""
    q = int(q)
    if abs(q) > Q:
        raise ValueError(f"inventory {q} outside [-{Q}, {Q}]")
    v = glft_value_vector(gamma, sigma, k, A, tau, Q)
    i = q + Q
    base = math.log1p(gamma / k) / gamma
    db = None if q == Q else math.log(v[i] / v[i + 1]) / k + base
    da = None if q == -Q else math.log(v[i] / v[i - 1]) / k + base
    return db, da


class GLFTMarketMaker(AvellanedaStoikovMarketMaker):
    """Quotes the GLFT optimal bid and ask (Gueant, Lehalle, Fernandez-Tapia 2013).

    Behaviour: as :class:`~defisim.agents.AvellanedaStoikovMarketMaker` (reference
    price ``s``, volatility estimate, tick rounding, inventory limit, keeping
    unchanged quotes, retries), with the prices ``s - delta_b(q)`` and
    ``s + delta_a(q)`` of the GLFT model:

    - ``mode="asymptotic"``: the closed form (module doc), ``q = position /
      order_size`` lots (fractional allowed);
    - ``mode="finite"``: the exact Theorem 1 quotes with ``Q = floor(max_inventory
      / order_size)`` lots, ``q`` the position rounded to whole lots and clipped to
      ``[-Q, Q]``, ``T - t`` = :meth:`tau` (rolling ``horizon_s`` or
      ``terminal_time_s - now``). At ``q = +-Q`` the side that would grow the
      inventory is not quoted.

    Args:
        name, market, feed, and the other keyword arguments: as
            :class:`~defisim.agents.AvellanedaStoikovMarketMaker` (``gamma`` per lot
            per quote unit, ``k`` per quote unit, ``sigma`` quote units per
            sqrt(second); or per fraction of the price with ``relative_units``).
        A: fill intensity at a zero half-spread, fills per second (``> 0``).
        mode: ``"asymptotic"`` or ``"finite"``.
    """

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        A: float = 1.0 / 60,
        mode: Literal["asymptotic", "finite"] = "asymptotic",
        **kwargs,
    ) -> None:
        kwargs.pop("symmetric", None)
        super().__init__(name, market, feed, **kwargs)
        if not A > 0:
            raise ValueError(f"{name}: A must be > 0")
        if mode not in ("asymptotic", "finite"):
            raise ValueError(f"{name}: mode must be 'asymptotic' or 'finite'")
        if mode == "finite" and self.max_inventory < self.order_size:
            raise ValueError(f"{name}: mode='finite' needs max_inventory >= order_size")
        self.A = A
        self.mode = mode

    @property
    def Q(self) -> int:
        """Inventory limit in lots."""
        return max(int(math.floor(self.max_inventory / self.order_size + 1e-9)), 1)

    def half_spreads(self, s: float, position: float, now: float) -> tuple[float, float]:
        """``(delta_b, delta_a)`` in quote units; ``inf`` for a side not quoted."""
        gamma, k = self.gamma, self.k
        if self.relative_units:
            gamma, k = gamma / s, k / s
        sigma = self.sigma_abs(s)
        q = position / self.order_size
        if self.mode == "asymptotic":
            return glft_asymptotic_half_spreads(q, gamma, sigma, k, self.A)
        Q = self.Q
        qi = min(max(round(q), -Q), Q)
        db, da = glft_finite_half_spreads(qi, gamma, sigma, k, self.A, self.tau(now), Q)
        return (math.inf if db is None else db), (math.inf if da is None else da)

    def quotes(self, s: float, position: float, now: float) -> tuple[float, float]:
        """Unrounded ``(bid, ask) = (s - delta_b, s + delta_a)``."""
        db, da = self.half_spreads(s, position, now)
        return s - db, s + da

    def ladder(self, sim, bid: float, ask: float, position: float):
        """As the parent's, without the side whose price is infinite (inventory at
        ``+-Q`` in ``mode="finite"``)."""
        drop = {"buy"} if not math.isfinite(bid) else set()
        if not math.isfinite(ask):
            drop.add("sell")
        if len(drop) == 2:
            return []
        tick = self._tick or 0.0
        if "buy" in drop:
            bid = ask - 2 * tick
        if "sell" in drop:
            ask = bid + 2 * tick
        return [w for w in super().ladder(sim, bid, ask, position) if w[0] not in drop]
