"""Where a fuzz generator's choices come from: a :class:`Draw` (one method, an integer
in ``[lo, hi]``), backed by an agent's seeded generator (:class:`RngDraw`) or by
Hypothesis (the stateful test draws the same transaction space from ``st.data()``),
and the choices built on it (:func:`chance`, :func:`pick`, :func:`weighted`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")


class Draw(Protocol):
    """Where a generator's choices come from: one method, an integer in ``[lo, hi]``."""

    def integer(self, lo: int, hi: int) -> int: ...


class RngDraw:
    """A :class:`Draw` over a numpy generator (an agent's seeded ``rng``)."""

    __slots__ = ("rng",)

    def __init__(self, rng) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        if -(2**63) <= lo and hi < 2**63:
            return int(self.rng.integers(lo, hi, endpoint=True))
        span = hi - lo + 1  # beyond int64 (sizes near 2^62 plus something): random bytes
        return lo + int.from_bytes(self.rng.bytes(span.bit_length() // 8 + 9), "little") % span


def chance(draw: Draw, p: float) -> bool:
    """True with probability ``p`` (a draw of 0, where Hypothesis shrinks to, is False)."""
    if p <= 0:
        return False
    if p >= 1:
        return True
    return draw.integer(0, 9999) >= 10000 - max(1, round(p * 10000))


def pick(draw: Draw, options: Sequence[T]) -> T:
    """One of ``options``, uniformly (shrinks towards the first)."""
    return options[draw.integer(0, len(options) - 1)]


def weighted(draw: Draw, table: Sequence[tuple[T, int]]) -> T:
    """One value of ``table`` (``(value, integer weight)`` pairs) by weight."""
    x = draw.integer(0, sum(w for _, w in table) - 1)
    for value, w in table:
        if x < w:
            return value
        x -= w
    return table[-1][0]
