"""The largest prices, sizes and amounts the chain represents: one place, documented.

On the chain a price is an integer count of ticks (``10**-price_decimals`` quote
units), a size an integer count of ``10**-position_decimals`` contracts, money an
integer count of an asset's base units (``10**-decimals``) and a factor an integer
over ``ONE = 10**18`` (:mod:`defisim.numeric.fixed`). Python's integers never
overflow, but the planned compiled core (issue 16) holds prices and sizes in 64-bit
and money and products in 128-bit integers, and the human-unit boundary converts
through float64. The bounds below make both safe; input beyond them is refused when
it is loaded or a scenario is built, never deep in a run.

Reasoning:

- ``MAX_PRICE_TICKS = 10**15`` and ``MAX_SIZE = 10**15``: below ``2**53 ~ 9.007e15``,
  the largest range in which float64 holds every integer, so a price or size passed
  in human units (a float) converts to raw units and back without losing a tick or
  a lot. Both fit int64 (``2**63 ~ 9.22e18``) with a factor of 9,000 to spare for
  sums (volume, open interest, a TWAP's running sum of prices).
- Raw notional ``price * size <= 10**30`` fits int128 (``2**127 ~ 1.7e38``) with a
  factor of ``10**8`` to spare for sums of trades; products with a 1e18 factor
  (margin: ``price * size * risk factor``) go through a mul-div with a 256-bit
  intermediate (as Uniswap's ``FullMath.mulDiv``), whose result is an amount.
- ``MAX_AMOUNT = 10**30`` base units (10^12 units of an 18-decimal asset, 10^24 of a
  6-decimal one): money is int128 in the compiled core (an 18-decimal asset does not
  fit int64 beyond 9.2 units), and a total over up to ``10**8`` accounts still fits.

"Absurd for the market", beyond the integer range, means input that cannot be
written in the market's own units: a price whose tick count at the market's price
decimals exceeds :data:`MAX_PRICE_TICKS` (a price of 1e14 in a market with 2 price
decimals is 1e16 ticks), a size whose lot count exceeds :data:`MAX_SIZE`, the value
of such a size at such a price above :data:`MAX_AMOUNT`, or a collateral, mint or
commitment above :data:`MAX_AMOUNT` base units. A price of at most ``MAX_PRICE_TICKS``
(1e15) is the largest price any market can list (at 0 decimals); the CSV loader
refuses larger ones whatever the market.

Every ``check_*`` function raises ``ValueError`` with one line naming ``what`` (the
parameter, or a file and line) and the bound.
"""

from __future__ import annotations

import math
from decimal import Decimal

__all__ = [
    "MAX_AMOUNT",
    "MAX_PRICE",
    "MAX_PRICE_TICKS",
    "MAX_SIZE",
    "check_amount",
    "check_price",
    "check_size",
    "max_price",
]

#: Largest price in ticks (raw price units) of any market.
MAX_PRICE_TICKS = 10**15
#: Largest size in raw units (``10**-position_decimals`` contracts).
MAX_SIZE = 10**15
#: Largest amount of money in an asset's base units (a balance, collateral, a bond).
MAX_AMOUNT = 10**30
#: Largest human price any market can list: :data:`MAX_PRICE_TICKS` at 0 decimals.
MAX_PRICE = float(MAX_PRICE_TICKS)


def max_price(price_decimals: int, tick: int = 1) -> float:
    """The largest human price a market with ``price_decimals`` can list: the last
    whole tick at or below :data:`MAX_PRICE_TICKS` raw units."""
    return (MAX_PRICE_TICKS // tick) * tick / 10**price_decimals


def _finite(x: float, what: str) -> float:
    # Decimals are exact amounts (simplegrant mints them), as good as ints and floats
    if isinstance(x, bool) or not isinstance(x, int | float | Decimal):
        raise ValueError(f"{what} must be a number, got {x!r}")
    if not math.isfinite(x):
        raise ValueError(f"{what} must be finite, got {x!r}")
    return x


def _scaled(x: float, decimals: int) -> Decimal:
    """``|x| * 10**decimals`` exactly (a float read through its shortest repr, as
    :func:`~defisim.numeric.fixed.to_fixed` reads it), so a bound is met exactly."""
    d = Decimal(repr(float(x))) if isinstance(x, float) else Decimal(x)
    return abs(d).scaleb(decimals)


def _check_scaled(x: float, decimals: int, bound: int, what: str, units: str,
                  decimals_name: str, largest: str, largest_value: float) -> int:
    """``x`` scaled by ``10**decimals`` to raw units, refused above ``bound`` raw units
    (the shared body of the ``check_*`` functions; the message names ``what``)."""
    raw = _scaled(x, decimals)
    whole = int(round(raw))
    if whole > bound:
        raise ValueError(
            f"{what}: {x:.16g} is {float(raw):.16g} {units} at {decimals} {decimals_name}, above "
            f"the largest {largest} the chain represents, {largest_value:.16g} "
            f"({bound:.0e} {units}, defisim.numeric.bounds)"
        )
    return whole


def check_price(price: float, price_decimals: int, what: str) -> int:
    """``price`` (human units) in raw ticks, refused above :data:`MAX_PRICE_TICKS`.

    Raises:
        ValueError: ``price`` not finite, not positive, or more than
            ``MAX_PRICE_TICKS`` ticks at ``price_decimals`` (the message names
            ``what`` and the largest price allowed).
    """
    _finite(price, what)
    if price <= 0:
        raise ValueError(f"{what} must be > 0, got {price!r}")
    return _check_scaled(price, price_decimals, MAX_PRICE_TICKS, what, "ticks",
                         "price decimals", "price", max_price(price_decimals))


def check_size(size: float, position_decimals: int, what: str) -> int:
    """``size`` (contracts, sign ignored) in raw units, refused above :data:`MAX_SIZE`.

    Raises:
        ValueError: not finite, or more than ``MAX_SIZE`` lots.
    """
    _finite(size, what)
    return _check_scaled(size, position_decimals, MAX_SIZE, what, "lots",
                         "position decimals", "size", MAX_SIZE / 10**position_decimals)


def check_amount(amount: float, decimals: int, what: str) -> int:
    """``amount`` (asset units, sign ignored) in base units, refused above :data:`MAX_AMOUNT`.

    Raises:
        ValueError: not finite, or more than ``MAX_AMOUNT`` base units.
    """
    _finite(amount, what)
    return _check_scaled(amount, decimals, MAX_AMOUNT, what, "base units", "decimals",
                         "amount", MAX_AMOUNT / 10**decimals)
