"""Where ``UniswapV3Pool`` (``@uniswap/v3-core`` 1.0.1) keeps its state: storage slots and
word packing, for imposing a state no transaction can reach (a replay's observed state,
:meth:`~defisim.evm.EvmBackend.set_storage`).

The layout follows the contract's declaration order (solc packs from the low bits):
slot 0 ``slot0`` (sqrtPriceX96 uint160, tick int24, observationIndex, observationCardinality,
observationCardinalityNext uint16 each, feeProtocol uint8, unlocked bool), 1/2
``feeGrowthGlobal0X128``/``1X128``, 3 ``protocolFees`` (token0 low, token1 high uint128),
4 ``liquidity``, 5 ``ticks`` (int24 -> ``Tick.Info``, four words: gross uint128 | net
int128; feeGrowthOutside0X128; feeGrowthOutside1X128; tickCumulativeOutside int56 |
secondsPerLiquidityOutsideX128 uint160 | secondsOutside uint32 | initialized bool),
6 ``tickBitmap`` (int16 -> uint256), 7 ``positions``, 8.. ``observations``. Immutables
(factory, tokens, fee, spacing) are in the code. ``tests/test_evm_uniswap_v3.py`` writes
each through these functions and reads it back through the pool's getters.
"""

from __future__ import annotations

from functools import lru_cache

from defisim.evm.abi import keccak

__all__ = [
    "LIQUIDITY_SLOT",
    "position_key",
    "SLOT0_SLOT",
    "bitmap_slot",
    "slot0_word",
    "tick_words",
]

SLOT0_SLOT = 0
LIQUIDITY_SLOT = 4
_TICKS_SLOT = 5
_BITMAP_SLOT = 6
_M128 = (1 << 128) - 1
_M24 = (1 << 24) - 1


def _mapping_slot(key: int, slot: int) -> int:
    """``keccak256(abi.encode(key, slot))`` for a signed integer key (sign-extended)."""
    data = (key % (1 << 256)).to_bytes(32, "big") + slot.to_bytes(32, "big")
    return int.from_bytes(keccak(data), "big")


def slot0_word(sqrt_price_x96: int, tick: int, observation_index: int = 0,
               cardinality: int = 1, cardinality_next: int = 1, fee_protocol: int = 0,
               unlocked: bool = True) -> int:
    """The packed ``slot0`` word."""
    return (sqrt_price_x96 | (tick & _M24) << 160 | observation_index << 184
            | cardinality << 200 | cardinality_next << 216 | fee_protocol << 232
            | int(unlocked) << 240)


def tick_words(tick: int, gross: int, net: int, fgo0: int = 0, fgo1: int = 0) -> dict[int, int]:
    """The four words of ``ticks[tick]`` (slot -> value): initialised when ``gross > 0``,
    the oracle "outside" fields zero; all zero when ``gross == 0`` (``Tick.clear``)."""
    base = _mapping_slot(tick, _TICKS_SLOT)
    if gross == 0:
        return {base + i: 0 for i in range(4)}
    return {base: gross | (net & _M128) << 128, base + 1: fgo0, base + 2: fgo1,
            base + 3: 1 << 248}


def bitmap_slot(word: int) -> int:
    """The slot of ``tickBitmap[word]`` (``word`` = compressed tick >> 8, an int16)."""
    return _mapping_slot(word, _BITMAP_SLOT)


@lru_cache(maxsize=65536)
def position_key(owner: str, lower: int, upper: int) -> bytes:
    """``PositionKey.compute``: ``keccak256(abi.encodePacked(owner, int24, int24))``, the
    key of ``positions`` (``owner`` a ``0x`` address)."""
    packed = bytes.fromhex(owner[2:]) + (lower % (1 << 24)).to_bytes(3, "big")
    return keccak(packed + (upper % (1 << 24)).to_bytes(3, "big"))
