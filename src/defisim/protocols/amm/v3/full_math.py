"""FullMath / UnsafeMath of Uniswap V3 (spec ``amm.md`` 2.2): exact ``mulDiv`` with Python ints."""

from __future__ import annotations

from ..errors import PoolError

MAX_UINT256 = (1 << 256) - 1
MAX_UINT160 = (1 << 160) - 1
MAX_UINT128 = (1 << 128) - 1
Q96 = 1 << 96
Q128 = 1 << 128


def mul_div(a: int, b: int, denominator: int) -> int:
    """``⌊a·b/denominator⌋`` for uint256 ``a, b`` (512-bit product, exact).

    Raises ``PoolError("V3_MULDIV")`` if ``denominator == 0`` or the result needs more than
    256 bits (spec 2.2).
    """
    if denominator == 0:
        raise PoolError("V3_MULDIV", "division by zero")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise PoolError("V3_MULDIV", f"result {result} overflows uint256")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """``⌈a·b/denominator⌉``; the same reverts as :func:`mul_div`, and ``V3_MULDIV`` when
    the floor is ``2^256 − 1`` and must be rounded up (spec 2.2)."""
    if denominator == 0:
        raise PoolError("V3_MULDIV", "division by zero")
    product = a * b
    result = product // denominator
    if result > MAX_UINT256:
        raise PoolError("V3_MULDIV", f"result {result} overflows uint256")
    if product % denominator:
        if result == MAX_UINT256:
            raise PoolError("V3_MULDIV", "rounding up overflows uint256")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath ``divRoundingUp``: ``⌊x/y⌋ + (x mod y > 0)``; ``y == 0`` gives 0 as the
    EVM's ``div`` does (no revert)."""
    if y == 0:
        return 0
    q, r = divmod(x, y)
    return q + 1 if r else q
