"""Fixed-point factors: exact decimal fractions as integers over ``ONE = 10**18``.

Protocol factors (fee factors, slippage factors, risk factors, margin scaling
factors) are given as decimals; floats are read through their shortest
``repr`` so that ``0.1`` means exactly one tenth. Money is then computed with
integer arithmetic only, with explicit rounding (see :func:`ceil_div`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

ONE = 10**18


def to_fixed(x: float | int | str | Decimal | Fraction) -> int:
    """``x`` as an integer number of 1e-18 (round half even past 18 decimals).

    Raises:
        ValueError: ``x`` is not a finite number.
    """
    if isinstance(x, Fraction):
        return round(x * ONE)
    try:
        d = Decimal(repr(x)) if isinstance(x, float) else Decimal(str(x))
    except Exception as exc:  # decimal.InvalidOperation and friends
        raise ValueError(f"not a number: {x!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {x!r}")
    return int((d * ONE).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_fixed(v: int) -> float:
    """A fixed-point integer back to a float (for display only)."""
    return v / ONE


def ceil_div(a: int, b: int) -> int:
    """Ceiling of ``a / b`` for integers, ``b > 0``."""
    return -((-a) // b)
