"""One converter between human units and a protocol's raw integers.

A market or pool has a few integer scales: price ticks (``10**price_decimals``
per quote unit), size units (``10**size_decimals`` per contract or token) and the
settlement asset's base units (``10**asset_decimals`` per asset unit). The
:class:`UnitConverter` holds them once, so no ``10 ** decimals`` is scattered over
facades, agents and recorders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


def amount_to_raw(amount: Any, decimals: int) -> int | None:
    """``amount`` asset units (int, float or Decimal) in base units, to the nearest
    (half to even, through the decimal text, so ``0.1`` is exactly ``10**(decimals-1)``);
    ``None`` for a negative, non-finite or non-numeric amount (the caller names it in
    its rejection)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        return None
    try:
        d = Decimal(str(amount))
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0:
        return None
    return int(round(d.scaleb(decimals)))


@dataclass(frozen=True, slots=True)
class UnitConverter:
    """Human <-> raw conversion for one market or pool.

    Args:
        price_decimals: decimal places of prices (a raw price is an integer count of
            ``10**-price_decimals`` quote units).
        size_decimals: decimal places of sizes (raw sizes count ``10**-size_decimals``).
        asset_decimals: decimal places of the settlement asset (raw money counts
            base units).
        tick: the price tick in raw price units (1 when every raw price is valid).
    """

    price_decimals: int
    size_decimals: int
    asset_decimals: int
    tick: int = 1
    price_factor: int = field(init=False)
    size_factor: int = field(init=False)
    money_factor: int = field(init=False)

    def __post_init__(self) -> None:
        for name in ("price_decimals", "size_decimals", "asset_decimals"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        if not isinstance(self.tick, int) or self.tick <= 0:
            raise ValueError(f"tick must be a positive integer, got {self.tick!r}")
        object.__setattr__(self, "price_factor", 10**self.price_decimals)
        object.__setattr__(self, "size_factor", 10**self.size_decimals)
        object.__setattr__(self, "money_factor", 10**self.asset_decimals)

    # -- to human ------------------------------------------------------------
    def price(self, raw: int) -> float:
        """Raw price -> quote units."""
        return raw / self.price_factor

    def size(self, raw: int) -> float:
        """Raw size -> contracts (or tokens)."""
        return raw / self.size_factor

    def money(self, raw: int) -> float:
        """Base units -> asset units."""
        return raw / self.money_factor

    @property
    def tick_size(self) -> float:
        """The tick in quote units."""
        return self.tick / self.price_factor

    @property
    def lot(self) -> float:
        """The smallest size in contracts."""
        return 1 / self.size_factor

    # -- to raw (nearest integer; callers check exactness where it matters) --
    def price_raw(self, price: float) -> int:
        """Quote units -> raw price (nearest integer; may be off the tick grid)."""
        return round(price * self.price_factor)

    def size_raw(self, size: float) -> int:
        """Contracts -> raw size (nearest integer)."""
        return round(size * self.size_factor)

    def money_raw(self, amount: float) -> int:
        """Asset units -> base units (nearest integer)."""
        return round(amount * self.money_factor)

    # -- rounding onto the grids ------------------------------------------------
    def round_price(self, price: float, side: int = 0) -> float:
        """``price`` on the tick grid: down for buys (``side > 0``), up for sells
        (``side < 0``), nearest otherwise; at least one tick."""
        x = price * self.price_factor / self.tick
        n = math.floor(x + 1e-9) if side > 0 else math.ceil(x - 1e-9) if side < 0 else round(x)
        return max(n, 1) * self.tick / self.price_factor

    def round_size(self, size: float) -> float:
        """``size`` rounded down to the size decimals."""
        d = self.size_factor
        return math.floor(size * d + 1e-9) / d
