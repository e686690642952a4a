"""Balancer V1 ``BMath``: the seven ``calc*`` formulas (spec 3.3).

Each is the contract's fixed sequence of ``BNum`` operations, in the contract's order,
so that the rounding is the same to the wei. Arguments are raw uint256 integers:
balances and amounts in token base units, weights denormalised (1e18 = weight 1),
``swapFee``/prices BONE-scaled. Errors: the ``BNum`` reverts (``ERR_SUB_UNDERFLOW``,
``ERR_DIV_ZERO``, ``ERR_BPOW_BASE_TOO_HIGH`` ...) as ``PoolError``.
"""

from __future__ import annotations

from .bnum import BONE, EXIT_FEE, badd, bdiv, bmul, bpow, bsub

# The contract's camelCase names are kept (the spec and the tests quote them).
# ruff: noqa: N802, N803, N806


def calcSpotPrice(
    tokenBalanceIn: int, tokenWeightIn: int, tokenBalanceOut: int, tokenWeightOut: int,
    swapFee: int,
) -> int:
    """tokenIn per tokenOut, fee included, BONE-scaled (spec 3.3)."""
    numer = bdiv(tokenBalanceIn, tokenWeightIn)
    denom = bdiv(tokenBalanceOut, tokenWeightOut)
    ratio = bdiv(numer, denom)
    scale = bdiv(BONE, bsub(BONE, swapFee))
    return bmul(ratio, scale)


def calcOutGivenIn(
    tokenBalanceIn: int, tokenWeightIn: int, tokenBalanceOut: int, tokenWeightOut: int,
    tokenAmountIn: int, swapFee: int,
) -> int:
    """``bO·(1 − (bI/(bI + aI(1−sF)))^(wI/wO))`` (spec 3.3)."""
    weightRatio = bdiv(tokenWeightIn, tokenWeightOut)
    adjustedIn = bsub(BONE, swapFee)
    adjustedIn = bmul(tokenAmountIn, adjustedIn)
    y = bdiv(tokenBalanceIn, badd(tokenBalanceIn, adjustedIn))
    foo = bpow(y, weightRatio)
    bar = bsub(BONE, foo)
    return bmul(tokenBalanceOut, bar)


def calcInGivenOut(
    tokenBalanceIn: int, tokenWeightIn: int, tokenBalanceOut: int, tokenWeightOut: int,
    tokenAmountOut: int, swapFee: int,
) -> int:
    """``bI·((bO/(bO − aO))^(wO/wI) − 1)/(1 − sF)`` (spec 3.3)."""
    weightRatio = bdiv(tokenWeightOut, tokenWeightIn)
    diff = bsub(tokenBalanceOut, tokenAmountOut)
    y = bdiv(tokenBalanceOut, diff)
    foo = bpow(y, weightRatio)
    foo = bsub(foo, BONE)
    tokenAmountIn = bsub(BONE, swapFee)
    return bdiv(bmul(tokenBalanceIn, foo), tokenAmountIn)


def calcPoolOutGivenSingleIn(
    tokenBalanceIn: int, tokenWeightIn: int, poolSupply: int, totalWeight: int,
    tokenAmountIn: int, swapFee: int,
) -> int:
    """Pool shares minted for a single-asset deposit; only ``(1 − nW)`` of the input pays
    the fee (spec 3.3)."""
    normalizedWeight = bdiv(tokenWeightIn, totalWeight)
    zaz = bmul(bsub(BONE, normalizedWeight), swapFee)
    tokenAmountInAfterFee = bmul(tokenAmountIn, bsub(BONE, zaz))
    newTokenBalanceIn = badd(tokenBalanceIn, tokenAmountInAfterFee)
    tokenInRatio = bdiv(newTokenBalanceIn, tokenBalanceIn)
    poolRatio = bpow(tokenInRatio, normalizedWeight)
    newPoolSupply = bmul(poolRatio, poolSupply)
    return bsub(newPoolSupply, poolSupply)


def calcSingleInGivenPoolOut(
    tokenBalanceIn: int, tokenWeightIn: int, poolSupply: int, totalWeight: int,
    poolAmountOut: int, swapFee: int,
) -> int:
    """Token amount to deposit for ``poolAmountOut`` shares (spec 3.3)."""
    normalizedWeight = bdiv(tokenWeightIn, totalWeight)
    newPoolSupply = badd(poolSupply, poolAmountOut)
    poolRatio = bdiv(newPoolSupply, poolSupply)
    boo = bdiv(BONE, normalizedWeight)
    tokenInRatio = bpow(poolRatio, boo)
    newTokenBalanceIn = bmul(tokenInRatio, tokenBalanceIn)
    tokenAmountInAfterFee = bsub(newTokenBalanceIn, tokenBalanceIn)
    zar = bmul(bsub(BONE, normalizedWeight), swapFee)
    return bdiv(tokenAmountInAfterFee, bsub(BONE, zar))


def calcSingleOutGivenPoolIn(
    tokenBalanceOut: int, tokenWeightOut: int, poolSupply: int, totalWeight: int,
    poolAmountIn: int, swapFee: int,
) -> int:
    """Token amount paid out for redeeming ``poolAmountIn`` shares (spec 3.3)."""
    normalizedWeight = bdiv(tokenWeightOut, totalWeight)
    poolAmountInAfterExitFee = bmul(poolAmountIn, bsub(BONE, EXIT_FEE))
    newPoolSupply = bsub(poolSupply, poolAmountInAfterExitFee)
    poolRatio = bdiv(newPoolSupply, poolSupply)
    tokenOutRatio = bpow(poolRatio, bdiv(BONE, normalizedWeight))
    newTokenBalanceOut = bmul(tokenOutRatio, tokenBalanceOut)
    tokenAmountOutBeforeSwapFee = bsub(tokenBalanceOut, newTokenBalanceOut)
    zaz = bmul(bsub(BONE, normalizedWeight), swapFee)
    return bmul(tokenAmountOutBeforeSwapFee, bsub(BONE, zaz))


def calcPoolInGivenSingleOut(
    tokenBalanceOut: int, tokenWeightOut: int, poolSupply: int, totalWeight: int,
    tokenAmountOut: int, swapFee: int,
) -> int:
    """Pool shares to redeem for ``tokenAmountOut`` of one token (spec 3.3)."""
    normalizedWeight = bdiv(tokenWeightOut, totalWeight)
    zoo = bsub(BONE, normalizedWeight)
    zar = bmul(zoo, swapFee)
    tokenAmountOutBeforeSwapFee = bdiv(tokenAmountOut, bsub(BONE, zar))
    newTokenBalanceOut = bsub(tokenBalanceOut, tokenAmountOutBeforeSwapFee)
    tokenOutRatio = bdiv(newTokenBalanceOut, tokenBalanceOut)
    poolRatio = bpow(tokenOutRatio, normalizedWeight)
    newPoolSupply = bmul(poolRatio, poolSupply)
    poolAmountInAfterExitFee = bsub(poolSupply, newPoolSupply)
    return bdiv(poolAmountInAfterExitFee, bsub(BONE, EXIT_FEE))
