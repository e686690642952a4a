"""Uniswap V3 math libraries against the spec's vectors (amm.md 2.1-2.6, 4.0, 4.3, 4.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.v3.full_math import (
    MAX_UINT256,
    div_rounding_up,
    mul_div,
    mul_div_rounding_up,
)
from defisim.protocols.amm.v3.liquidity_math import add_delta
from defisim.protocols.amm.v3.sqrt_price_math import (
    get_amount0_delta,
    get_amount0_delta_signed,
    get_amount1_delta,
    get_amount1_delta_signed,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from defisim.protocols.amm.v3.swap_math import compute_swap_step
from defisim.protocols.amm.v3.tick import tick_spacing_to_max_liquidity_per_tick
from defisim.protocols.amm.v3.tick_bitmap import flip_tick, next_initialized_tick_within_one_word
from defisim.protocols.amm.v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

Q96 = 1 << 96
Q128 = 1 << 128


# ------------------------------------------------------------------ FullMath / LiquidityMath
def test_mul_div_floor_ceil_and_reverts():
    assert mul_div(Q128, 5, 2) == 5 * Q128 // 2
    assert mul_div(7, 3, 2) == 10
    assert mul_div_rounding_up(7, 3, 2) == 11
    assert mul_div_rounding_up(6, 3, 2) == 9
    # 512-bit intermediate: (2^256-1)^2 / (2^256-1) is exact
    assert mul_div(MAX_UINT256, MAX_UINT256, MAX_UINT256) == MAX_UINT256
    with pytest.raises(PoolError) as e:
        mul_div(1, 1, 0)
    assert e.value.reason == "V3_MULDIV"
    with pytest.raises(PoolError) as e:
        mul_div(MAX_UINT256, 2, 1)
    assert e.value.reason == "V3_MULDIV"
    # floor is 2^256-1 and must round up (FullMath.spec.ts)
    with pytest.raises(PoolError) as e:
        mul_div_rounding_up(
            535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2
        )
    assert e.value.reason == "V3_MULDIV"
    assert div_rounding_up(7, 2) == 4 and div_rounding_up(8, 2) == 4 and div_rounding_up(0, 3) == 0


def test_add_delta():
    assert add_delta(1, 0) == 1
    assert add_delta(1, -1) == 0
    assert add_delta(1, 1) == 2
    with pytest.raises(PoolError) as e:
        add_delta(0, -1)
    assert e.value.reason == "LS"
    with pytest.raises(PoolError) as e:
        add_delta(2**128 - 15, 15)
    assert e.value.reason == "LA"
    assert add_delta(2**128 - 15, 14) == 2**128 - 1


# ----------------------------------------------------------------------------- constants
def test_max_liquidity_per_tick():
    assert tick_spacing_to_max_liquidity_per_tick(10) == 1917569901783203986719870431555990
    assert tick_spacing_to_max_liquidity_per_tick(60) == 11505743598341114571880798222544994
    assert tick_spacing_to_max_liquidity_per_tick(200) == 38350317471085141830651933667504588


# ------------------------------------------------------------------------------ TickMath
SQRT_AT_TICK = {
    0: 79228162514264337593543950336,
    1: 79232123823359799118286999568,
    -1: 79224201403219477170569942574,
    10: 79267784519130042428790663799,
    -10: 79188560314459151373725315960,
    60: 79466191966197645195421774833,
    -60: 78990846045029531151608375686,
    50: 79426470787362580746886972461,
    -50: 79030349367926598376800521322,
    199045: 1662917659278922964527796818602526,
    276324: 79228057781537899283318961129827820,
    -600: 76886731765546235930195592750,
    600: 81640896826356156310682304526,
    900: 82874678823489123616334659238,
    MIN_TICK: 4295128739,
    MAX_TICK: 1461446703485210103287273052203988822378723970342,
}


@pytest.mark.parametrize("tick,expected", sorted(SQRT_AT_TICK.items()))
def test_get_sqrt_ratio_at_tick(tick, expected):
    assert get_sqrt_ratio_at_tick(tick) == expected


def test_min_max_constants():
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    # upstream: MIN+1 and MAX-1
    assert get_sqrt_ratio_at_tick(MIN_TICK + 1) == 4295343490
    assert get_sqrt_ratio_at_tick(MAX_TICK - 1) == 1461373636630004318706518188784493106690254656249


@pytest.mark.parametrize("tick", [MIN_TICK - 1, MAX_TICK + 1, 10**7])
def test_get_sqrt_ratio_at_tick_reverts_T(tick):
    with pytest.raises(PoolError) as e:
        get_sqrt_ratio_at_tick(tick)
    assert e.value.reason == "T"


@pytest.mark.parametrize(
    "price,tick",
    [
        (1662995104975155420368771254341874, 199045),
        (1662917659278922964527796818602526, 199045),
        (1662917659278922964527796818602525, 199044),
        (Q96 - 1, -1),
        (Q96 + 1, 0),
        (Q96, 0),
        (MAX_SQRT_RATIO - 1, 887271),
        (MIN_SQRT_RATIO, -887272),
    ],
)
def test_get_tick_at_sqrt_ratio(price, tick):
    assert get_tick_at_sqrt_ratio(price) == tick


@pytest.mark.parametrize("price", [MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 0])
def test_get_tick_at_sqrt_ratio_reverts_R(price):
    with pytest.raises(PoolError) as e:
        get_tick_at_sqrt_ratio(price)
    assert e.value.reason == "R"


@settings(max_examples=300, deadline=None)
@given(st.integers(MIN_TICK, MAX_TICK - 1))
def test_tick_round_trip(tick):
    p = get_sqrt_ratio_at_tick(tick)
    assert get_tick_at_sqrt_ratio(p) == tick
    if p > MIN_SQRT_RATIO:
        assert get_tick_at_sqrt_ratio(p - 1) == tick - 1


@settings(max_examples=300, deadline=None)
@given(st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1))
def test_tick_at_sqrt_ratio_is_greatest_tick_below(price):
    t = get_tick_at_sqrt_ratio(price)
    assert get_sqrt_ratio_at_tick(t) <= price
    if t < MAX_TICK:
        assert get_sqrt_ratio_at_tick(t + 1) > price


def test_sqrt_ratio_strictly_increasing_sample():
    prev = 0
    for t in range(-3000, 3000, 7):
        p = get_sqrt_ratio_at_tick(t)
        assert p > prev
        prev = p


# ------------------------------------------------------------------------- SqrtPriceMath
def test_sqrt_price_math_upstream_values():
    # SqrtPriceMath.spec.ts
    e18 = 10**18
    price1 = Q96  # encodePriceSqrt(1, 1)
    assert get_next_sqrt_price_from_input(price1, e18 // 10, 0, True) == price1
    assert get_next_sqrt_price_from_input(price1, e18, e18 // 10, False) == (
        87150978765690771352898345369
    )
    assert get_next_sqrt_price_from_input(price1, e18, e18 // 10, True) == (
        72025602285694852357767227579
    )
    assert get_next_sqrt_price_from_output(price1, e18, e18 // 10, False) == (
        88031291682515930659493278152
    )
    assert get_next_sqrt_price_from_output(price1, e18, e18 // 10, True) == (
        71305346262837903834189555302
    )
    price121_100 = 87150978765690771352898345369  # encodePriceSqrt(121, 100)
    assert get_amount0_delta(price1, price121_100, e18, True) == 90909090909090910
    assert get_amount0_delta(price1, price121_100, e18, False) == 90909090909090909
    assert get_amount1_delta(price1, price121_100, e18, True) == 100000000000000000
    assert get_amount1_delta(price1, price121_100, e18, False) == 99999999999999999
    # a huge token0 input at tiny liquidity: the fallback branch ⌈N/(⌊N/√P⌋ + x)⌉ gives 1
    assert get_next_sqrt_price_from_input(price1, 1, 2**255, True) == 1
    assert get_amount0_delta(price1, price1, 0, True) == 0


def test_sqrt_price_math_reverts():
    with pytest.raises(PoolError) as e:
        get_next_sqrt_price_from_input(0, 1, 10**17, False)
    assert e.value.reason == "V3_MATH"
    with pytest.raises(PoolError) as e:
        get_next_sqrt_price_from_input(1, 0, 10**17, True)
    assert e.value.reason == "V3_MATH"
    # output amount is exactly the virtual reserves of token0 / token1
    with pytest.raises(PoolError) as e:
        get_next_sqrt_price_from_output(20282409603651670423947251286016, 1024, 4, False)
    assert e.value.reason == "V3_MATH"
    with pytest.raises(PoolError) as e:
        get_next_sqrt_price_from_output(20282409603651670423947251286016, 1024, 262144, True)
    assert e.value.reason == "V3_MATH"
    assert get_next_sqrt_price_from_output(
        20282409603651670423947251286016, 1024, 262143, True
    ) == (77371252455336267181195264)
    with pytest.raises(PoolError) as e:
        get_amount0_delta(0, Q96, 1, True)
    assert e.value.reason == "V3_MATH"


def test_signed_deltas_round_in_pools_favour():
    a, b = get_sqrt_ratio_at_tick(-600), get_sqrt_ratio_at_tick(600)
    up0 = get_amount0_delta_signed(a, b, 10**18 + 1)
    down0 = get_amount0_delta_signed(a, b, -(10**18 + 1))
    assert up0 > 0 and down0 < 0 and up0 + down0 in (0, 1)
    assert get_amount1_delta_signed(a, b, 7) == get_amount1_delta(a, b, 7, True)
    assert get_amount1_delta_signed(a, b, -7) == -get_amount1_delta(a, b, 7, False)


# ---------------------------------------------------------------------------- SwapMath
P600, P60 = SQRT_AT_TICK[600], SQRT_AT_TICK[60]
M600, M60 = SQRT_AT_TICK[-600], SQRT_AT_TICK[-60]


@pytest.mark.parametrize(
    "target,remaining,expected",
    [
        (
            M600,
            10**16,
            (78446055342499616417857907004, 9970000000000000, 9871580343970612, 30000000000000),
        ),
        (M60, 10**16, (M60, 3004354062741926, 2995354955910780, 9040182736436)),
        (
            P600,
            10**16,
            (80018067294531553039351583520, 9970000000000000, 9871580343970612, 30000000000000),
        ),
        (
            M600,
            -(10**16),
            (78435880889121694217608510832, 10101010101010102, 10**16, 30394212941856),
        ),
        (
            P600,
            -(10**16),
            (80028446984105391508630252865, 10101010101010102, 10**16, 30394212941856),
        ),
        (P60, -(10**16), (P60, 3004354062741926, 2995354955910780, 9040182736436)),
    ],
)
def test_compute_swap_step_spec_vectors(target, remaining, expected):
    assert compute_swap_step(Q96, target, 10**18, remaining, 3000) == expected


def test_compute_swap_step_upstream_edge_cases():
    assert compute_swap_step(2, 1, 1, 3915081100057732413702495386755767, 1) == (
        1,
        39614081257132168796771975168,
        0,
        39614120871253040049813,
    )
    assert compute_swap_step(
        2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872
    ) == (2413, 0, 0, 10)
    assert compute_swap_step(
        417332158212080721273783715441582,
        1452870262520218020823638996,
        159344665391607089467575320103,
        -1,
        1,
    ) == (417332158212080721273783715441581, 1, 1, 1)


def test_compute_swap_step_zero_liquidity_moves_to_target_for_free():
    assert compute_swap_step(Q96, M600, 0, 10**18, 3000) == (M600, 0, 0, 0)
    assert compute_swap_step(Q96, P600, 0, -(10**18), 3000) == (P600, 0, 0, 0)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1),
    st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1),
    st.integers(1, 2**128 - 1),
    st.integers(-(2**200), 2**200).filter(lambda x: x != 0),
    st.integers(1, 999_999),
)
def test_compute_swap_step_properties(cur, target, liquidity, remaining, fee):
    try:
        nxt, amount_in, amount_out, fee_amount = compute_swap_step(
            cur, target, liquidity, remaining, fee
        )
    except PoolError:
        return
    if remaining > 0:
        assert amount_in + fee_amount <= remaining
    else:
        assert amount_out <= -remaining
    # never past the target
    if cur >= target:
        assert target <= nxt <= cur
    else:
        assert cur <= nxt <= target


# ----------------------------------------------------------------------------- TickBitmap
def test_tick_bitmap_flip_and_search():
    bm: dict[int, int] = {}
    for t in (-200, -55, -4, 70, 78, 84, 139, 240, 535):
        flip_tick(bm, t, 1)
    # upstream TickBitmap.spec.ts (lte = false)
    assert next_initialized_tick_within_one_word(bm, 78, 1, False) == (84, True)
    assert next_initialized_tick_within_one_word(bm, -55, 1, False) == (-4, True)
    assert next_initialized_tick_within_one_word(bm, 77, 1, False) == (78, True)
    assert next_initialized_tick_within_one_word(bm, -56, 1, False) == (-55, True)
    assert next_initialized_tick_within_one_word(bm, 255, 1, False) == (511, False)
    assert next_initialized_tick_within_one_word(bm, -257, 1, False) == (-200, True)
    assert next_initialized_tick_within_one_word(bm, 340, 1, False) == (511, False)
    assert next_initialized_tick_within_one_word(bm, 328, 1, False) == (511, False)
    # lte = true
    assert next_initialized_tick_within_one_word(bm, 78, 1, True) == (78, True)
    assert next_initialized_tick_within_one_word(bm, 79, 1, True) == (78, True)
    assert next_initialized_tick_within_one_word(bm, 258, 1, True) == (256, False)
    assert next_initialized_tick_within_one_word(bm, 256, 1, True) == (256, False)
    assert next_initialized_tick_within_one_word(bm, 72, 1, True) == (70, True)
    assert next_initialized_tick_within_one_word(bm, -257, 1, True) == (-512, False)
    assert next_initialized_tick_within_one_word(bm, 1023, 1, True) == (768, False)
    assert next_initialized_tick_within_one_word(bm, 900, 1, True) == (768, False)
    flip_tick(bm, 329, 1)
    assert next_initialized_tick_within_one_word(bm, 456, 1, True) == (329, True)
    flip_tick(bm, 329, 1)
    flip_tick(bm, 329, 1)
    flip_tick(bm, 329, 1)
    assert next_initialized_tick_within_one_word(bm, 456, 1, True) == (256, False)


def test_tick_bitmap_spacing_and_negative_ticks():
    bm: dict[int, int] = {}
    flip_tick(bm, -600, 60)
    flip_tick(bm, -120, 60)
    flip_tick(bm, 600, 60)
    flip_tick(bm, 1200, 60)
    assert bm == {-1: (1 << 246) | (1 << 254), 0: (1 << 10) | (1 << 20)}
    assert next_initialized_tick_within_one_word(bm, -1, 60, True) == (-120, True)
    assert next_initialized_tick_within_one_word(bm, 0, 60, True) == (0, False)
    assert next_initialized_tick_within_one_word(bm, -121, 60, True) == (-600, True)
    assert next_initialized_tick_within_one_word(bm, -199, 60, False) == (-120, True)
    assert next_initialized_tick_within_one_word(bm, -120, 60, False) == (-60, False)
    with pytest.raises(PoolError) as e:
        flip_tick(bm, 61, 60)
    assert e.value.reason == "V3_TICK_SPACING"
    flip_tick(bm, -600, 60)
    flip_tick(bm, -120, 60)
    assert bm == {0: (1 << 10) | (1 << 20)}
