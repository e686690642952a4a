"""LiquidityMath of Uniswap V3 (spec ``amm.md`` 2.2)."""

from __future__ import annotations

from ..errors import PoolError

_TWO_128 = 1 << 128


def add_delta(x: int, y: int) -> int:
    """``x + y`` for a uint128 liquidity ``x`` and an int128 delta ``y``.

    Raises ``PoolError("LS")`` if the result is below 0 and ``PoolError("LA")`` if it
    reaches 2^128.
    """
    z = x + y
    if y < 0:
        if z < 0:
            raise PoolError("LS", f"liquidity {x} + {y} < 0")
    elif z >= _TWO_128:
        raise PoolError("LA", f"liquidity {x} + {y} >= 2^128")
    return z
