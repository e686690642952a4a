"""Periphery ``LiquidityAmounts`` (spec ``amm.md`` 2.12): liquidity from token amounts."""

from __future__ import annotations

from .full_math import mul_div

_Q96 = 1 << 96


def get_liquidity_for_amount0(sqrt_a: int, sqrt_b: int, amount0: int) -> int:
    """``⌊x0·⌊a·b/2^96⌋/(b − a)⌋`` (arguments sorted)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    intermediate = mul_div(sqrt_a, sqrt_b, _Q96)
    return mul_div(amount0, intermediate, sqrt_b - sqrt_a)


def get_liquidity_for_amount1(sqrt_a: int, sqrt_b: int, amount1: int) -> int:
    """``⌊x1·2^96/(b − a)⌋`` (arguments sorted)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    return mul_div(amount1, _Q96, sqrt_b - sqrt_a)


def get_liquidity_for_amounts(
    sqrt_price_x96: int, sqrt_a: int, sqrt_b: int, amount0: int, amount1: int
) -> int:
    """The largest liquidity the amounts allow at the current price (``≤`` at the lower
    bound, as most versions of the file; spec 2.12). Mint it, then pay the rounded-up
    amounts of 2.9 (may be 1 wei more than the inputs). The periphery casts the result to
    uint128; values above 2^128 − 1 are returned as computed."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_price_x96 <= sqrt_a:
        return get_liquidity_for_amount0(sqrt_a, sqrt_b, amount0)
    if sqrt_price_x96 < sqrt_b:
        return min(
            get_liquidity_for_amount0(sqrt_price_x96, sqrt_b, amount0),
            get_liquidity_for_amount1(sqrt_a, sqrt_price_x96, amount1),
        )
    return get_liquidity_for_amount1(sqrt_a, sqrt_b, amount1)
