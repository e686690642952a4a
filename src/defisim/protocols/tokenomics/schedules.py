"""Minting schedules: the share of a minter's total minted by a given time.

A schedule maps ``t`` (years since the minter's start, an IEEE double) to ``G(t)``,
the cumulative fraction of the total minted by then (0 at the start, rising to 1).
A function minter (:class:`~defisim.protocols.tokenomics.minters.Minter`) mints
``(G(t) - G(t_prev)) * T`` at each mint. The functions are TokenSPICE's
(``agents/MinterAgents.py``, ``tokenspice/tokenspice`` HEAD ``3bd4622``; spec
``token-netlists.md`` section 2.1), evaluated in doubles in the source's order of
operations, so that their values agree with TokenSPICE's to the last bit.

- :class:`LinearSchedule`: ``n`` equal mints, one every interval (TokenSPICE's
  ``OCEANLinearMinterAgent``); it has no ``G``, the minter counts mints.
- :class:`ExpFunc`: ``G(t) = f(t) = 1 - 0.5**(t/H)`` (Bitcoin-like halving, half-life
  ``H`` years).
- :class:`RampedExpFunc`: TokenSPICE's four-piece ramp, **as the code computes it**
  (spec 2.1 "quirk": the pieces are evaluated at the current ``t``, not frozen at the
  break points as the docstring says).

Both functions stop after 34 half-lives (:data:`BITCOIN_NUM_HALF_LIVES`):
``keep_minting(t)`` is ``t / H <= 34``; after that the minter mints everything left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BITCOIN_NUM_HALF_LIVES = 34
"""Half-lives after which a function minter mints all that is left
(TokenSPICE ``util/constants.py``)."""

S_PER_YEAR = 31_536_000
"""Seconds in TokenSPICE's year (365 days)."""


@dataclass(frozen=True, slots=True)
class LinearSchedule:
    """``n_mints`` mints of ``total // n_mints`` base units each, the last one paying the
    remainder (so exactly ``total`` is minted). Source: TokenSPICE
    ``OCEANLinearMinterAgent`` (which mints ``total / n`` as a float).

    Raises:
        ValueError: ``n_mints`` not an integer >= 1.
    """

    n_mints: int

    def __post_init__(self) -> None:
        if type(self.n_mints) is not int or self.n_mints < 1:
            raise ValueError(f"n_mints must be an integer >= 1, got {self.n_mints!r}")

    kind = "linear"


@dataclass(frozen=True, slots=True)
class ExpFunc:
    """``G(t) = 1 - 0.5**(t/H)`` with ``t`` and ``H`` in years (``math.pow(0.5, t/H)``,
    then ``1.0 - `` it). Source: TokenSPICE ``ExpFunc``.

    Raises:
        ValueError: ``H`` not > 0.
    """

    H: float

    kind = "func"

    def __post_init__(self) -> None:
        if not (isinstance(self.H, int | float) and self.H > 0 and math.isfinite(self.H)):
            raise ValueError(f"half-life H must be a finite number > 0, got {self.H!r}")

    def __call__(self, t: float) -> float:
        return 1.0 - math.pow(0.5, t / self.H)

    def keep_minting(self, t: float) -> bool:
        """``t / H <= 34``: after 34 half-lives the minter mints all that is left."""
        return t / self.H <= BITCOIN_NUM_HALF_LIVES


@dataclass(frozen=True, slots=True)
class RampedExpFunc:
    """TokenSPICE's ramped exponential ``RampedExpFunc(H, T0, T1, T2, T3, M1, M2, M3)``,
    reproducing its code (spec 2.1, the quirk), with ``f(x) = 1 - 0.5**(x/H)``:

    - ``g1(t) = M1*f(t-T0)``
    - ``g2(t) = M2*f(t-T0) - M2*f(T1-T0) + g1(t)``
    - ``g3(t) = M3*f(t-T0) - M3*f(T2-T0) + g2(t)``
    - ``g4(t) = (1 - g3(t))*f(t-T3) + g3(t)``
    - ``G(t)`` = 0 for ``t < T0``, ``g1`` for ``t < T1``, ``g2`` for ``t < T2``,
      ``g3`` for ``t < T3``, ``g4`` otherwise.

    Each line is evaluated left to right in doubles, as the source. Times in years.
    Example: ``RampedExpFunc(4, .5, 1, 1.4, 3, .1, .25, .5)(1.2) ==
    0.019232379115341584`` (spec 6.2).

    Raises:
        ValueError: ``H <= 0``, or not ``T0 <= T1 <= T2 <= T3``, or not
            ``M1 <= M2 <= M3`` (the source's asserts).
    """

    H: float
    T0: float
    T1: float
    T2: float
    T3: float
    M1: float
    M2: float
    M3: float

    kind = "func"

    def __post_init__(self) -> None:
        vals = (self.H, self.T0, self.T1, self.T2, self.T3, self.M1, self.M2, self.M3)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in vals):
            raise ValueError(f"RampedExpFunc parameters must be finite numbers, got {vals!r}")
        if not self.H > 0:
            raise ValueError(f"half-life H must be > 0, got {self.H!r}")
        if not self.T0 <= self.T1 <= self.T2 <= self.T3:
            raise ValueError(f"need T0 <= T1 <= T2 <= T3, got {self.T0}, {self.T1}, {self.T2}, {self.T3}")
        if not self.M1 <= self.M2 <= self.M3:
            raise ValueError(f"need M1 <= M2 <= M3, got {self.M1}, {self.M2}, {self.M3}")

    def _f(self, t: float) -> float:
        return 1.0 - math.pow(0.5, t / self.H)

    def __call__(self, t: float) -> float:
        f, T0 = self._f, self.T0
        g1 = self.M1 * f(t - T0)
        g2 = self.M2 * f(t - T0) - self.M2 * f(self.T1 - T0) + g1
        g3 = self.M3 * f(t - T0) - self.M3 * f(self.T2 - T0) + g2
        if t < T0:
            return 0.0
        if t < self.T1:
            return g1
        if t < self.T2:
            return g2
        if t < self.T3:
            return g3
        m4 = 1.0 - g3
        return m4 * f(t - self.T3) + g3

    def keep_minting(self, t: float) -> bool:
        """``t / H <= 34``: after 34 half-lives the minter mints all that is left."""
        return t / self.H <= BITCOIN_NUM_HALF_LIVES


Schedule = LinearSchedule | ExpFunc | RampedExpFunc
"""What a minter follows."""


def to_base(x: float, decimals: int) -> int:
    """TokenSPICE's ``toBase18`` for ``decimals``: ``int(x * 10.0**decimals)`` (the float
    product, then truncation toward zero). ``toBase18(0.1) == 100000000000000000``."""
    return int(x * float(10**decimals))


def seconds_to_years(elapsed_ns: int) -> float:
    """Elapsed chain time (ns) in TokenSPICE's years: ``s / S_PER_YEAR`` in doubles, with
    ``s`` the elapsed seconds (exact when a whole number, as TokenSPICE's
    ``tick * time_step``)."""
    if elapsed_ns % 1_000_000_000 == 0:
        return (elapsed_ns // 1_000_000_000) / S_PER_YEAR
    return (elapsed_ns / 1e9) / S_PER_YEAR
