"""SqrtPriceMath of Uniswap V3 (spec ``amm.md`` 2.4). Prices are Q64.96 ``√P``, liquidity uint128,
amounts raw base units."""

from __future__ import annotations

from ..errors import PoolError
from .full_math import MAX_UINT160, MAX_UINT256, div_rounding_up, mul_div, mul_div_rounding_up

_Q96 = 1 << 96
_INT256_LIMIT = 1 << 255


def get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Price after adding (``add``) or removing ``amount`` of token0, rounded up (spec 2.4).

    Raises ``V3_MATH`` / ``V3_CAST`` at the contract's overflow checks."""
    if amount == 0:
        return sqrt_px96
    numerator1 = liquidity << 96
    product = amount * sqrt_px96
    if add:
        if product <= MAX_UINT256:
            denominator = numerator1 + product
            if denominator <= MAX_UINT256:
                return mul_div_rounding_up(numerator1, sqrt_px96, denominator)
        total = numerator1 // sqrt_px96 + amount
        if total > MAX_UINT256:
            raise PoolError("V3_MATH", "numerator1 / sqrtP + amount overflows")
        return div_rounding_up(numerator1, total)
    if product > MAX_UINT256 or numerator1 <= product:
        raise PoolError("V3_MATH", f"cannot remove {amount} token0 at liquidity {liquidity}")
    result = mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product)
    if result > MAX_UINT160:
        raise PoolError("V3_CAST", "sqrt price overflows uint160")
    return result


def get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Price after adding (``add``) or removing ``amount`` of token1, rounded down (spec 2.4)."""
    if add:
        if amount <= MAX_UINT160:
            quotient = (amount << 96) // liquidity
        else:
            quotient = mul_div(amount, _Q96, liquidity)
        result = sqrt_px96 + quotient
        if result > MAX_UINT256:
            raise PoolError("V3_MATH", "sqrt price addition overflows")
        if result > MAX_UINT160:
            raise PoolError("V3_CAST", "sqrt price overflows uint160")
        return result
    if amount <= MAX_UINT160:
        quotient = div_rounding_up(amount << 96, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, _Q96, liquidity)
    if sqrt_px96 <= quotient:
        raise PoolError("V3_MATH", f"cannot remove {amount} token1 at liquidity {liquidity}")
    return sqrt_px96 - quotient


def get_next_sqrt_price_from_input(
    sqrt_px96: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    """Price after ``amount_in`` of the input token (never past the exact price; spec 2.4)."""
    if sqrt_px96 <= 0 or liquidity <= 0:
        raise PoolError("V3_MATH", "zero price or liquidity")
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_px96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """Price after ``amount_out`` of the output token (at least as far as exact; spec 2.4)."""
    if sqrt_px96 <= 0 or liquidity <= 0:
        raise PoolError("V3_MATH", "zero price or liquidity")
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(
            sqrt_px96, liquidity, amount_out, False
        )
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token0 between two prices for liquidity ``L`` (uint), rounded up or down (spec 2.4).

    Raises ``V3_MATH`` if the lower price is 0."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_a == 0:
        raise PoolError("V3_MATH", "zero sqrt price")
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def get_amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token1 between two prices: ``L·(b−a)/2^96`` rounded up or down (spec 2.4)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, _Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, _Q96)


def _to_int256(x: int) -> int:
    if x >= _INT256_LIMIT:
        raise PoolError("V3_CAST", f"{x} does not fit int256")
    return x


def get_amount0_delta_signed(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """Signed token0 delta for an int128 liquidity change: up if ``liquidity >= 0``, else
    minus the value rounded down (spec 2.4)."""
    if liquidity < 0:
        return -_to_int256(get_amount0_delta(sqrt_a, sqrt_b, -liquidity, False))
    return _to_int256(get_amount0_delta(sqrt_a, sqrt_b, liquidity, True))


def get_amount1_delta_signed(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """Signed token1 delta for an int128 liquidity change (spec 2.4)."""
    if liquidity < 0:
        return -_to_int256(get_amount1_delta(sqrt_a, sqrt_b, -liquidity, False))
    return _to_int256(get_amount1_delta(sqrt_a, sqrt_b, liquidity, True))
