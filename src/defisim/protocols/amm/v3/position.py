"""Positions of Uniswap V3 (spec ``amm.md`` 2.8), keyed by ``(owner, tickLower, tickUpper)``."""

from __future__ import annotations

from ..errors import PoolError
from .liquidity_math import add_delta

_MASK128 = (1 << 128) - 1
_MASK256 = (1 << 256) - 1
_Q128 = 1 << 128


class PositionInfo:
    """``Position.Info``: ``liquidity`` (uint128), ``fee_growth_inside{0,1}_last_x128``
    (uint256), ``tokens_owed{0,1}`` (uint128, wrapping)."""

    __slots__ = (
        "liquidity",
        "fee_growth_inside0_last_x128",
        "fee_growth_inside1_last_x128",
        "tokens_owed0",
        "tokens_owed1",
    )

    def __init__(
        self,
        liquidity: int = 0,
        fgi0: int = 0,
        fgi1: int = 0,
        tokens_owed0: int = 0,
        tokens_owed1: int = 0,
    ) -> None:
        self.liquidity = liquidity
        self.fee_growth_inside0_last_x128 = fgi0
        self.fee_growth_inside1_last_x128 = fgi1
        self.tokens_owed0 = tokens_owed0
        self.tokens_owed1 = tokens_owed1

    def astuple(self) -> tuple[int, int, int, int, int]:
        return (
            self.liquidity,
            self.fee_growth_inside0_last_x128,
            self.fee_growth_inside1_last_x128,
            self.tokens_owed0,
            self.tokens_owed1,
        )

    def copy(self) -> PositionInfo:
        return PositionInfo(*self.astuple())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PositionInfo):
            return NotImplemented
        return self.astuple() == other.astuple()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        liq, f0, f1, o0, o1 = self.astuple()
        return f"PositionInfo(L={liq}, fgiLast=({f0}, {f1}), owed=({o0}, {o1}))"


def fees_since(info: PositionInfo, fgi0: int, fgi1: int) -> tuple[int, int]:
    """Fees earned since the last update: ``uint128(⌊((fgi − last) mod 2^256)·L/2^128⌋)``."""
    liq = info.liquidity
    owed0 = ((((fgi0 - info.fee_growth_inside0_last_x128) & _MASK256) * liq) >> 128) & _MASK128
    owed1 = ((((fgi1 - info.fee_growth_inside1_last_x128) & _MASK256) * liq) >> 128) & _MASK128
    return owed0, owed1


def updated(info: PositionInfo | None, liquidity_delta: int, fgi0: int, fgi1: int) -> PositionInfo:
    """``Position.update`` on a copy. Raises ``NP`` (poke of an empty position) or ``LS``/``LA``."""
    new = PositionInfo() if info is None else info.copy()
    if liquidity_delta == 0:
        if new.liquidity <= 0:
            raise PoolError("NP", "poke of a position without liquidity")
        liquidity_next = new.liquidity
    else:
        liquidity_next = add_delta(new.liquidity, liquidity_delta)
    owed0, owed1 = fees_since(new, fgi0, fgi1)
    if liquidity_delta != 0:
        new.liquidity = liquidity_next
    new.fee_growth_inside0_last_x128 = fgi0
    new.fee_growth_inside1_last_x128 = fgi1
    if owed0 > 0 or owed1 > 0:
        new.tokens_owed0 = (new.tokens_owed0 + owed0) & _MASK128
        new.tokens_owed1 = (new.tokens_owed1 + owed1) & _MASK128
    return new
