"""Differential Sharpe and downside-deviation ratios: incremental rewards for online learning.

Moody & Saffell (1998), "Reinforcement learning for trading", NIPS 11, and
Moody & Saffell (2001), "Learning to trade via direct reinforcement", IEEE
Trans. Neural Networks 12(4), 875-889 (eqs. 10-12 for the Sharpe ratio, 15-17
for the downside deviation ratio).

The ratios are tracked through exponential moving estimates with adaptation
rate ``eta`` of the first moment ``A`` and of the second moment ``B`` (or of the
squared downside ``DD^2``) of the returns ``R_t``::

    A_t    = A_{t-1}    + eta (R_t            - A_{t-1})
    B_t    = B_{t-1}    + eta (R_t^2          - B_{t-1})
    DD^2_t = DD^2_{t-1} + eta (min(R_t, 0)^2  - DD^2_{t-1})

The *differential* ratio ``D_t`` is the derivative of the moving ratio
(``S_t = A_t / sqrt(B_t - A_t^2)``, resp. ``DDR_t = A_t / DD_t``) with respect
to ``eta`` at ``eta = 0``, so that ``S_t ~= S_{t-1} + eta D_t``: the marginal
effect of the latest return on the ratio, a per-step reward whose sum tracks
the ratio. With ``dA = R_t - A_{t-1}``, ``dB = R_t^2 - B_{t-1}``::

    D_t = (B_{t-1} dA - A_{t-1} dB / 2) / (B_{t-1} - A_{t-1}^2)^{3/2}          (Sharpe)

    D_t = (R_t - A_{t-1} / 2) / DD_{t-1}                          if R_t > 0
    D_t = (DD^2_{t-1} (R_t - A_{t-1} / 2) - A_{t-1} R_t^2 / 2) / DD^3_{t-1}
                                                                  if R_t <= 0  (DDR)

Start and degenerate states: the estimates start at 0, so the denominators
are 0 on the first step. ``D_t`` is then defined as ``0.0`` (no information
yet): on the first step, while the variance estimate ``B - A^2`` is at most
``1e-12 * B`` (e.g. constant returns), and for the DDR while no return <= 0 has
been seen (``DD^2 = 0``: the downside ratio has no downside yet). Close to
these states the values can be large (a nearly constant positive return has a
nearly infinite Sharpe ratio); clip them in the learner if that matters.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import lfilter

from ._checks import ZERO_TOL, as_series


def _check_eta(eta: float) -> float:
    e = float(eta)
    if not (0.0 < e <= 1.0):
        raise ValueError(f"eta (the adaptation rate) must be in (0, 1], got {eta!r}")
    return e


def _check_min_variance(v: float | None) -> float | None:
    if v is None:
        return None
    x = float(v)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"min_variance must be None or a finite number >= 0, got {v!r}")
    return x


def _check_return(r: float) -> float:
    x = float(r)
    if not math.isfinite(x):
        raise ValueError(f"return must be finite, got {r!r}")
    return x


class DifferentialSharpe:
    """Online differential Sharpe ratio ``D_t`` (Moody & Saffell 2001, eq. 11-12).

    Cheap and stateful: :meth:`update` does a dozen float operations on plain
    Python floats, so it serves as a per-step reward. The moving estimates are
    the attributes ``A`` and ``B``; :attr:`sharpe` is the moving Sharpe ratio
    ``A / sqrt(B - A^2)`` they imply.

    Args:
        eta: adaptation rate in (0, 1]; the estimates have a memory of about
            ``1 / eta`` steps.
        min_variance: ``None`` (default): ``D_t = 0`` while ``B - A^2 <= 1e-12 * B``
            (relative to the scale of the returns). A number: ``D_t = 0`` while
            ``B - A^2 <= min_variance``, the absolute rule of compute-marketplace
            spec 7.1 with ``min_variance=1e-12``. The two differ only for returns
            of order 1e-6 or less.

    Raises:
        ValueError: ``eta`` outside (0, 1]; :meth:`update` with a NaN/inf.

    Example (eta 0.5; step 1: A = B = 0, so D = 0, then A = 0.05, B = 0.005;
    step 2 with R = 0.2: dA = 0.15, dB = 0.035, B - A^2 = 0.0025, so
    D = (0.005 x 0.15 - 0.5 x 0.05 x 0.035) / 0.0025^1.5 = -0.000125 / 0.000125 = -1:
    the higher return raises the variance estimate more than the mean):

    >>> ds = DifferentialSharpe(eta=0.5)
    >>> ds.update(0.1), round(ds.update(0.2), 12)
    (0.0, -1.0)
    """

    __slots__ = ("eta", "A", "B", "min_variance")

    def __init__(self, eta: float = 0.01, min_variance: float | None = None) -> None:
        self.eta = _check_eta(eta)
        self.min_variance = _check_min_variance(min_variance)
        self.A = 0.0
        self.B = 0.0

    def reset(self) -> None:
        """Forget the history: ``A = B = 0`` (the next :meth:`update` returns 0.0)."""
        self.A = 0.0
        self.B = 0.0

    def update(self, r: float) -> float:
        """Take the return ``R_t`` (a fraction per period); return ``D_t``, then update A, B."""
        r = _check_return(r)
        a, b = self.A, self.B
        da = r - a
        db = r * r - b
        var = b - a * a
        floor = ZERO_TOL * b if self.min_variance is None else self.min_variance
        d = 0.0 if var <= floor else (b * da - 0.5 * a * db) / (var * math.sqrt(var))
        eta = self.eta
        self.A = a + eta * da
        self.B = b + eta * db
        return d

    @property
    def sharpe(self) -> float:
        """The moving Sharpe ratio ``A / sqrt(B - A^2)`` (``nan`` while undefined)."""
        var = self.B - self.A * self.A
        return math.nan if var <= ZERO_TOL * self.B else self.A / math.sqrt(var)

    def __repr__(self) -> str:
        return f"DifferentialSharpe(eta={self.eta}, A={self.A!r}, B={self.B!r})"


class DifferentialDownsideDeviation:
    """Online differential downside deviation ratio ``D_t`` (Moody & Saffell 2001, eq. 15-17).

    Rewards returns above zero and penalises losses through the downside
    deviation only (upside volatility is not punished). The moving estimates
    are the attributes ``A`` (mean) and ``DD2`` (squared downside deviation);
    :attr:`ratio` is ``A / sqrt(DD2)``. ``D_t = 0.0`` until a return <= 0 has
    been seen (``DD2 = 0``).

    Args:
        eta: adaptation rate in (0, 1].

    Raises:
        ValueError: ``eta`` outside (0, 1]; :meth:`update` with a NaN/inf.

    Example (eta 0.5, returns -0.1, 0.2, -0.1. Step 1: DD2 = 0, so D = 0; then
    A = -0.05, DD2 = 0.005. Step 2, R > 0: D = (0.2 + 0.025) / sqrt(0.005) =
    3.181981; then A = 0.075, DD2 = 0.0025 (DD = 0.05). Step 3, R <= 0:
    D = (0.0025 x (-0.1 - 0.0375) - 0.5 x 0.075 x 0.01) / 0.05^3 = -5.75):

    >>> dd = DifferentialDownsideDeviation(eta=0.5)
    >>> [round(dd.update(r), 6) for r in (-0.1, 0.2, -0.1)]
    [0.0, 3.181981, -5.75]
    """

    __slots__ = ("eta", "A", "DD2")

    def __init__(self, eta: float = 0.01) -> None:
        self.eta = _check_eta(eta)
        self.A = 0.0
        self.DD2 = 0.0

    def reset(self) -> None:
        """Forget the history: ``A = DD2 = 0``."""
        self.A = 0.0
        self.DD2 = 0.0

    def update(self, r: float) -> float:
        """Take the return ``R_t``; return ``D_t``, then update A and DD2."""
        r = _check_return(r)
        a, dd2 = self.A, self.DD2
        if dd2 <= 0.0:
            d = 0.0
        elif r > 0.0:
            d = (r - 0.5 * a) / math.sqrt(dd2)
        else:
            d = (dd2 * (r - 0.5 * a) - 0.5 * a * r * r) / (dd2 * math.sqrt(dd2))
        eta = self.eta
        self.A = a + eta * (r - a)
        down = r if r < 0.0 else 0.0
        self.DD2 = dd2 + eta * (down * down - dd2)
        return d

    @property
    def ratio(self) -> float:
        """The moving downside deviation ratio ``A / DD`` (``nan`` while ``DD2 = 0``)."""
        return math.nan if self.DD2 <= 0.0 else self.A / math.sqrt(self.DD2)

    def __repr__(self) -> str:
        return f"DifferentialDownsideDeviation(eta={self.eta}, A={self.A!r}, DD2={self.DD2!r})"


def _ema_before(x: NDArray[np.float64], eta: float) -> NDArray[np.float64]:
    """``[M_{-1}, M_0, ..., M_{N-2}]`` of ``M_t = M_{t-1} + eta (x_t - M_{t-1})``, ``M_{-1} = 0``."""
    m = lfilter([eta], [1.0, eta - 1.0], x)
    out = np.empty_like(x)
    out[0] = 0.0
    out[1:] = m[:-1]
    return out


def differential_sharpe_series(
    returns: ArrayLike, eta: float = 0.01, min_variance: float | None = None
) -> NDArray[np.float64]:
    """``D_t`` of :class:`DifferentialSharpe` for a whole return series, vectorised.

    Same values (up to rounding) as feeding ``returns`` one by one to a fresh
    ``DifferentialSharpe(eta)``; the moving estimates are computed with a
    linear filter (:func:`scipy.signal.lfilter`) instead of a Python loop.

    Args:
        returns: shape ``(N,)``, ``N >= 1``.
        eta: adaptation rate in (0, 1].
        min_variance: as in :class:`DifferentialSharpe` (``1e-12`` for the
            absolute rule of compute-marketplace spec 7.1).

    Returns:
        shape ``(N,)``; ``D_0 = 0.0`` and 0.0 wherever the variance estimate is zero.

    Raises:
        ValueError: empty, a NaN/inf, ``eta`` outside (0, 1].

    >>> differential_sharpe_series([0.1, 0.2], eta=0.5).round(12).tolist()
    [0.0, -1.0]
    """
    r = as_series(returns, "returns", min_len=1)
    e = _check_eta(eta)
    mv = _check_min_variance(min_variance)
    a = _ema_before(r, e)
    b = _ema_before(r * r, e)
    var = b - a * a
    ok = var > (ZERO_TOL * b if mv is None else mv)
    out = np.zeros_like(r)
    v = var[ok]
    num = b[ok] * (r[ok] - a[ok]) - 0.5 * a[ok] * (r[ok] ** 2 - b[ok])
    out[ok] = num / (v * np.sqrt(v))
    return out


def differential_downside_deviation_series(
    returns: ArrayLike, eta: float = 0.01
) -> NDArray[np.float64]:
    """``D_t`` of :class:`DifferentialDownsideDeviation` for a whole series, vectorised.

    Args and errors as :func:`differential_sharpe_series`.

    Returns:
        shape ``(N,)``; 0.0 wherever no return <= 0 has been seen yet.

    >>> differential_downside_deviation_series([-0.1, 0.2, -0.1], eta=0.5).round(6).tolist()
    [0.0, 3.181981, -5.75]
    """
    r = as_series(returns, "returns", min_len=1)
    e = _check_eta(eta)
    a = _ema_before(r, e)
    down = np.minimum(r, 0.0)
    dd2 = _ema_before(down * down, e)
    out = np.zeros_like(r)
    ok = dd2 > 0.0
    up = ok & (r > 0.0)
    lo = ok & ~(r > 0.0)
    out[up] = (r[up] - 0.5 * a[up]) / np.sqrt(dd2[up])
    d2 = dd2[lo]
    out[lo] = (d2 * (r[lo] - 0.5 * a[lo]) - 0.5 * a[lo] * r[lo] ** 2) / (d2 * np.sqrt(d2))
    return out
