"""Tick state of Uniswap V3 (spec ``amm.md`` 2.7).

The oracle "outside" values (``tickCumulativeOutside``, ``secondsPerLiquidityOutsideX128``,
``secondsOutside``) are not kept: they serve only ``snapshotCumulativesInside`` (2.11).
"""

from __future__ import annotations

from ..errors import PoolError
from .liquidity_math import add_delta
from .tick_math import MAX_TICK, MIN_TICK

_MASK256 = (1 << 256) - 1
_INT128_MIN = -(1 << 127)
_INT128_MAX = (1 << 127) - 1


class TickInfo:
    """``Tick.Info``: ``liquidity_gross`` (uint128), ``liquidity_net`` (int128),
    ``fee_growth_outside0_x128`` / ``fee_growth_outside1_x128`` (Q128.128, uint256)."""

    __slots__ = (
        "liquidity_gross",
        "liquidity_net",
        "fee_growth_outside0_x128",
        "fee_growth_outside1_x128",
    )

    def __init__(
        self, liquidity_gross: int = 0, liquidity_net: int = 0, fgo0: int = 0, fgo1: int = 0
    ) -> None:
        self.liquidity_gross = liquidity_gross
        self.liquidity_net = liquidity_net
        self.fee_growth_outside0_x128 = fgo0
        self.fee_growth_outside1_x128 = fgo1

    def copy(self) -> TickInfo:
        return TickInfo(
            self.liquidity_gross,
            self.liquidity_net,
            self.fee_growth_outside0_x128,
            self.fee_growth_outside1_x128,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TickInfo):
            return NotImplemented
        return self.astuple() == other.astuple()

    __hash__ = None  # type: ignore[assignment]

    def astuple(self) -> tuple[int, int, int, int]:
        return (
            self.liquidity_gross,
            self.liquidity_net,
            self.fee_growth_outside0_x128,
            self.fee_growth_outside1_x128,
        )

    def __repr__(self) -> str:
        gross, net, o0, o1 = self.astuple()
        return f"TickInfo(gross={gross}, net={net}, outside=({o0}, {o1}))"


def tick_spacing_to_max_liquidity_per_tick(tick_spacing: int) -> int:
    """``⌊(2^128−1)/numTicks⌋`` with ticks truncated toward zero (spec 2.1)."""
    min_tick = int(MIN_TICK / tick_spacing) * tick_spacing
    max_tick = int(MAX_TICK / tick_spacing) * tick_spacing
    num_ticks = (max_tick - min_tick) // tick_spacing + 1
    return ((1 << 128) - 1) // num_ticks


def updated(
    info: TickInfo | None,
    tick: int,
    tick_current: int,
    liquidity_delta: int,
    fee_growth_global0_x128: int,
    fee_growth_global1_x128: int,
    upper: bool,
    max_liquidity: int,
) -> tuple[TickInfo, bool]:
    """``Tick.update`` on a copy: returns ``(new info, flipped)`` and changes nothing.

    Raises ``LS``/``LA`` (gross), ``LO`` (gross above ``max_liquidity``), ``V3_CAST``
    (net outside int128).
    """
    new = TickInfo() if info is None else info.copy()
    gross_before = new.liquidity_gross
    gross_after = add_delta(gross_before, liquidity_delta)
    if gross_after > max_liquidity:
        raise PoolError("LO", f"tick {tick} gross {gross_after} > {max_liquidity}")
    flipped = (gross_after == 0) != (gross_before == 0)
    if gross_before == 0 and tick <= tick_current:
        new.fee_growth_outside0_x128 = fee_growth_global0_x128
        new.fee_growth_outside1_x128 = fee_growth_global1_x128
    new.liquidity_gross = gross_after
    net = new.liquidity_net - liquidity_delta if upper else new.liquidity_net + liquidity_delta
    if not _INT128_MIN <= net <= _INT128_MAX:
        raise PoolError("V3_CAST", f"liquidityNet {net} of tick {tick} overflows int128")
    new.liquidity_net = net
    return new, flipped


def cross(info: TickInfo, fee_growth_global0_x128: int, fee_growth_global1_x128: int) -> int:
    """``Tick.cross``: flip the outside values (mod 2^256) in place; returns ``liquidityNet``."""
    info.fee_growth_outside0_x128 = (
        fee_growth_global0_x128 - info.fee_growth_outside0_x128
    ) & _MASK256
    info.fee_growth_outside1_x128 = (
        fee_growth_global1_x128 - info.fee_growth_outside1_x128
    ) & _MASK256
    return info.liquidity_net


def get_fee_growth_inside(
    lower: TickInfo | None,
    upper: TickInfo | None,
    tick_lower: int,
    tick_upper: int,
    tick_current: int,
    fee_growth_global0_x128: int,
    fee_growth_global1_x128: int,
) -> tuple[int, int]:
    """``Tick.getFeeGrowthInside`` (all mod 2^256; only differences mean anything)."""
    lo0 = lower.fee_growth_outside0_x128 if lower is not None else 0
    lo1 = lower.fee_growth_outside1_x128 if lower is not None else 0
    up0 = upper.fee_growth_outside0_x128 if upper is not None else 0
    up1 = upper.fee_growth_outside1_x128 if upper is not None else 0
    if tick_current >= tick_lower:
        below0, below1 = lo0, lo1
    else:
        below0, below1 = fee_growth_global0_x128 - lo0, fee_growth_global1_x128 - lo1
    if tick_current < tick_upper:
        above0, above1 = up0, up1
    else:
        above0, above1 = fee_growth_global0_x128 - up0, fee_growth_global1_x128 - up1
    return (
        (fee_growth_global0_x128 - below0 - above0) & _MASK256,
        (fee_growth_global1_x128 - below1 - above1) & _MASK256,
    )
