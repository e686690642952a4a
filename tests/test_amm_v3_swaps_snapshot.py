"""All 240 cases of upstream ``UniswapV3Pool.swaps.spec.ts`` (spec amm.md 4.0): 15 pools × 16
swaps, with the integer fields of its snapshot (``tests/data/amm_v3_swaps_snapshot.json``)."""

from __future__ import annotations

import json
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from pathlib import Path

import pytest

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.v3 import MAX_SQRT_RATIO, MIN_SQRT_RATIO, V3Pool
from defisim.protocols.amm.v3.tick import tick_spacing_to_max_liquidity_per_tick

SNAPSHOT = json.loads((Path(__file__).parent / "data" / "amm_v3_swaps_snapshot.json").read_text())[
    "cases"
]

E18 = 10**18
INT256_MAX = 2**255 - 1
_CTX = Context(prec=120, rounding=ROUND_HALF_UP)
_PLACES = Decimal(1).scaleb(-40)


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """The tests' ``encodePriceSqrt``: bignumber.js at 40 decimals, ROUND_HALF_UP, floor."""
    q = _CTX.divide(Decimal(reserve1), Decimal(reserve0)).quantize(_PLACES, context=_CTX)
    s = _CTX.sqrt(q).quantize(_PLACES, context=_CTX)
    return int(_CTX.multiply(s, Decimal(1 << 96)).to_integral_value(rounding=ROUND_FLOOR))


def min_tick(s: int) -> int:
    return -(887272 // s) * s


def max_tick(s: int) -> int:
    return (887272 // s) * s


SPACING = {500: 10, 3000: 60, 10000: 200}


def full(fee: int, liquidity: int = 2 * E18) -> tuple[int, int, int]:
    s = SPACING[fee]
    return (min_tick(s), max_tick(s), liquidity)


POOLS = {
    "low fee, 1:1 price, 2e18 max range liquidity": (500, (1, 1), [full(500)]),
    "medium fee, 1:1 price, 2e18 max range liquidity": (3000, (1, 1), [full(3000)]),
    "high fee, 1:1 price, 2e18 max range liquidity": (10000, (1, 1), [full(10000)]),
    "medium fee, 10:1 price, 2e18 max range liquidity": (3000, (10, 1), [full(3000)]),
    "medium fee, 1:10 price, 2e18 max range liquidity": (3000, (1, 10), [full(3000)]),
    "medium fee, 1:1 price, 0 liquidity, all liquidity around current price": (
        3000,
        (1, 1),
        [(min_tick(60), -60, 2 * E18), (60, max_tick(60), 2 * E18)],
    ),
    "medium fee, 1:1 price, additional liquidity around current price": (
        3000,
        (1, 1),
        [full(3000), (min_tick(60), -60, 2 * E18), (60, max_tick(60), 2 * E18)],
    ),
    "low fee, large liquidity around current price (stable swap)": (
        500,
        (1, 1),
        [(-10, 10, 2 * E18)],
    ),
    "medium fee, token0 liquidity only": (3000, (1, 1), [(0, 2000 * 60, 2 * E18)]),
    "medium fee, token1 liquidity only": (3000, (1, 1), [(-2000 * 60, 0, 2 * E18)]),
    "close to max price": (3000, (2**127, 1), [full(3000)]),
    "close to min price": (3000, (1, 2**127), [full(3000)]),
    "max full range liquidity at 1:1 price with default fee": (
        3000,
        (1, 1),
        [full(3000, tick_spacing_to_max_liquidity_per_tick(60))],
    ),
    "initialized at the max ratio": (3000, MAX_SQRT_RATIO - 1, [full(3000)]),
    "initialized at the min ratio": (3000, MIN_SQRT_RATIO, [full(3000)]),
}

ONE, SMALL = "1.0000", "0.0000000000000010000"
P05, P2, P25, P04 = (
    encode_price_sqrt(50, 100),
    encode_price_sqrt(200, 100),
    encode_price_sqrt(5, 2),
    encode_price_sqrt(2, 5),
)
# (description, zeroForOne, amountSpecified, sqrtPriceLimitX96)
SWAPS = [
    (f"swap exactly {ONE} token0 for token1", True, E18, None),
    (f"swap exactly {ONE} token1 for token0", False, E18, None),
    (f"swap token0 for exactly {ONE} token1", True, -E18, None),
    (f"swap token1 for exactly {ONE} token0", False, -E18, None),
    (f"swap exactly {ONE} token0 for token1 to price 0.50000", True, E18, P05),
    (f"swap exactly {ONE} token1 for token0 to price 2.0000", False, E18, P2),
    (f"swap token0 for exactly {ONE} token1 to price 0.50000", True, -E18, P05),
    (f"swap token1 for exactly {ONE} token0 to price 2.0000", False, -E18, P2),
    (f"swap exactly {SMALL} token0 for token1", True, 1000, None),
    (f"swap exactly {SMALL} token1 for token0", False, 1000, None),
    (f"swap token0 for exactly {SMALL} token1", True, -1000, None),
    (f"swap token1 for exactly {SMALL} token0", False, -1000, None),
    ("swap token1 for token0 to price 2.5000", False, INT256_MAX, P25),
    ("swap token0 for token1 to price 0.40000", True, INT256_MAX, P04),
    ("swap token0 for token1 to price 2.5000", True, INT256_MAX, P25),
    ("swap token1 for token0 to price 0.40000", False, INT256_MAX, P04),
]

CASES = [(p, s) for p in POOLS for s in SWAPS]


def test_all_snapshot_cases_are_covered():
    assert sorted(f"{p} {s[0]}" for p, s in CASES) == sorted(SNAPSHOT)
    assert len(CASES) == 240


def make_pool(description: str) -> V3Pool:
    fee, price, positions = POOLS[description]
    pool = V3Pool(fee)
    pool.initialize(encode_price_sqrt(*price) if isinstance(price, tuple) else price)
    for lower, upper, liquidity in positions:
        pool.mint("wallet", "wallet", lower, upper, liquidity)
    return pool


@pytest.mark.parametrize("pool_case,swap_case", CASES, ids=[f"{p} {s[0]}" for p, s in CASES])
def test_upstream_swap_snapshot(pool_case, swap_case):
    name, zero_for_one, amount, limit = swap_case
    expected = SNAPSHOT[f"{pool_case} {name}"]
    pool = make_pool(pool_case)
    tick_before = pool.tick
    if "swapError" in expected:
        assert (pool.balance0, pool.balance1, tick_before) == (
            expected["poolBalance0"],
            expected["poolBalance1"],
            expected["tickBefore"],
        )
        before = pool.state()
        with pytest.raises(PoolError) as e:
            pool.swap("callee", "recipient", zero_for_one, amount, limit)
        assert e.value.reason == expected["swapError"]
        assert pool.state() == before
        return
    b0, b1 = pool.balance0, pool.balance1
    ev = pool.swap("callee", "recipient", zero_for_one, amount, limit)
    got = {
        "amount0Before": b0,
        "amount1Before": b1,
        "amount0Delta": pool.balance0 - b0,
        "amount1Delta": pool.balance1 - b1,
        "feeGrowthGlobal0X128Delta": pool.fee_growth_global0_x128,
        "feeGrowthGlobal1X128Delta": pool.fee_growth_global1_x128,
        "tickBefore": tick_before,
        "tickAfter": pool.tick,
    }
    assert got == expected
    assert (ev.amount0, ev.amount1) == (got["amount0Delta"], got["amount1Delta"])
    assert pool.invariant_errors() == []
    # the upstream afterEach: every position can be burnt and collected
    for lower, upper, liquidity in POOLS[pool_case][2]:
        pool.burn("wallet", lower, upper, liquidity)
        pool.collect("wallet", "out", lower, upper, 2**128 - 1, 2**128 - 1)
    assert pool.liquidity == 0 and pool.ticks == {}
    assert pool.invariant_errors() == []
