"""Events of the Uniswap V3 pool core, with the contract's field names (spec ``amm.md`` 5).
The plug-in stamps pool id, block and tx index on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Initialize:
    sqrtPriceX96: int
    tick: int


@dataclass(frozen=True, slots=True)
class Mint:
    sender: Any
    owner: Any
    tickLower: int
    tickUpper: int
    amount: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class Burn:
    owner: Any
    tickLower: int
    tickUpper: int
    amount: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class Collect:
    owner: Any
    recipient: Any
    tickLower: int
    tickUpper: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class Swap:
    """``amount0``/``amount1`` from the pool's side: positive = paid into the pool."""

    sender: Any
    recipient: Any
    amount0: int
    amount1: int
    sqrtPriceX96: int
    liquidity: int
    tick: int


@dataclass(frozen=True, slots=True)
class SetFeeProtocol:
    feeProtocol0Old: int
    feeProtocol1Old: int
    feeProtocol0New: int
    feeProtocol1New: int


@dataclass(frozen=True, slots=True)
class CollectProtocol:
    sender: Any
    recipient: Any
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class IncreaseObservationCardinalityNext:
    observationCardinalityNextOld: int
    observationCardinalityNextNew: int


@dataclass(frozen=True, slots=True)
class Flash:
    sender: Any
    recipient: Any
    amount0: int
    amount1: int
    paid0: int
    paid1: int
