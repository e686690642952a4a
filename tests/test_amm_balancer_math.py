"""Balancer V1 BNum / BMath: the upstream values (spec 4.0), the Ocean V3 vectors
(spec 4.6) and hand-computed rounding cases (spec 3.2)."""

import pytest

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.balancer import bnum
from defisim.protocols.amm.balancer.bmath import (
    calcInGivenOut,
    calcOutGivenIn,
    calcPoolInGivenSingleOut,
    calcPoolOutGivenSingleIn,
    calcSingleInGivenPoolOut,
    calcSingleOutGivenPoolIn,
    calcSpotPrice,
)
from defisim.protocols.amm.balancer.bnum import (
    BONE,
    UINT256_MAX,
    badd,
    bdiv,
    bfloor,
    bmul,
    bpow,
    bpowApprox,
    bpowi,
    bsub,
    bsubSign,
    btoi,
)

E = BONE
FEE = 10**15  # 0.1 %
DT_W, OC_W, TW = 3 * E, 7 * E, 10 * E
DT_B, OC_B, PS = 100 * E, 1000 * E, 100 * E


def test_constants():
    assert bnum.MAX_OUT_RATIO == 333333333333333334
    assert bnum.MIN_FEE == 10**12 and bnum.MAX_FEE == 10**17
    assert bnum.MIN_BALANCE == 10**6 and bnum.BPOW_PRECISION == 10**8
    assert bnum.INIT_POOL_SUPPLY == 100 * E and bnum.MAX_BPOW_BASE == 2 * E - 1
    assert bnum.MAX_TOTAL_WEIGHT == bnum.MAX_WEIGHT == 50 * E and bnum.EXIT_FEE == 0


# --- spec 4.0: balancer-core test/pool.js -------------------------------------------------
def test_upstream_out_given_in():
    assert calcOutGivenIn(525 * E // 10, 5 * E, 10500 * E, 5 * E, 25 * E // 10, 3 * E // 1000) == (
        475905805337091423000
    )


def test_upstream_spot_price_after():
    # DAI per WETH after the 2.5 WETH -> 475.9... DAI swap
    dai_after = 10500 * E - 475905805337091423000
    assert calcSpotPrice(dai_after, 5 * E, 55 * E, 5 * E, 3 * E // 1000) == 182804672101083406128


def test_upstream_in_given_out():
    assert calcInGivenOut(55 * E, 5 * E, 21 * E, 5 * E, E, 3 * E // 1000) == 2758274824473420261


# --- spec 4.6: Ocean V3 weights -----------------------------------------------------------
def test_ocean_weights_and_bpow():
    assert bdiv(3 * E, 7 * E) == 428571428571428571
    assert bdiv(7 * E, 3 * E) == 2333333333333333333
    assert bdiv(DT_W, TW) == 300000000000000000
    assert bdiv(OC_W, TW) == 700000000000000000
    assert bpow(5 * E // 10, 428571428571428571) == 742997144643567744


def test_ocean_spot_prices():
    assert calcSpotPrice(OC_B, OC_W, DT_B, DT_W, FEE) == 4290004290004290004
    assert calcSpotPrice(OC_B, OC_W, DT_B, DT_W, 0) == 4285714285714285714
    assert calcSpotPrice(DT_B, DT_W, OC_B, OC_W, FEE) == 233566900233566900


def test_ocean_out_given_in_and_intermediates():
    assert calcOutGivenIn(OC_B, OC_W, DT_B, DT_W, 10 * E, FEE) == 2292741528351587900
    weight_ratio = bdiv(OC_W, DT_W)
    assert weight_ratio == 2333333333333333333
    adjusted = bmul(10 * E, bsub(BONE, FEE))
    assert adjusted == 9990000000000000000
    y = bdiv(OC_B, badd(OC_B, adjusted))
    assert y == 990108812958544144
    whole = bpowi(y, btoi(bfloor(weight_ratio)))
    assert whole == 980315461498177352
    approx = bpowApprox(y, weight_ratio - bfloor(weight_ratio), bnum.BPOW_PRECISION)
    assert approx == 996692006900781438
    foo = bpow(y, weight_ratio)
    assert foo == bmul(whole, approx) == 977072584716484121
    assert bmul(DT_B, BONE - foo) == 2292741528351587900


def test_ocean_other_swaps():
    assert calcOutGivenIn(DT_B, DT_W, OC_B, OC_W, E, FEE) == 4251122494021841000
    assert calcInGivenOut(OC_B, OC_W, DT_B, DT_W, E, FEE) == 4320897384531836837
    assert calcInGivenOut(DT_B, DT_W, OC_B, OC_W, 10 * E, FEE) == 2375166703077988689


def test_ocean_single_asset_joins_exits():
    assert calcPoolOutGivenSingleIn(OC_B, OC_W, PS, TW, 100 * E, FEE) == 6897263677829326400
    # does not round-trip to the wei
    assert calcSingleInGivenPoolOut(OC_B, OC_W, PS, TW, 6897263677829326400, FEE) == (
        99999999991454809443
    )
    assert calcPoolOutGivenSingleIn(DT_B, DT_W, PS, TW, 10 * E, FEE) == 2898611432921064200
    assert calcSingleOutGivenPoolIn(OC_B, OC_W, PS, TW, 10 * E, FEE) == 139693272745403737573
    assert calcPoolInGivenSingleOut(OC_B, OC_W, PS, TW, 100 * E, FEE) == 7111998329373130300


def test_ocean_swap_checks_and_caps():
    out = calcOutGivenIn(OC_B, OC_W, DT_B, DT_W, 10 * E, FEE)
    before = calcSpotPrice(OC_B, OC_W, DT_B, DT_W, FEE)
    after = calcSpotPrice(OC_B + 10 * E, OC_W, DT_B - out, DT_W, FEE)
    assert (before, after, bdiv(10 * E, out)) == (
        4290004290004290004, 4434577738317779236, 4361590644362645969,
    )
    assert before <= after and before <= bdiv(10 * E, out)
    ain = calcInGivenOut(OC_B, OC_W, DT_B, DT_W, E, FEE)
    assert calcSpotPrice(OC_B + ain, OC_W, DT_B - E, DT_W, FEE) == 4352061574061212021
    assert bmul(OC_B, bnum.MAX_IN_RATIO) == 500 * E
    assert bmul(DT_B, bnum.MAX_OUT_RATIO) == 33333333333333333400


def test_ocean_bnum_rounding():
    assert bmul(1, 5 * 10**17) == 1
    assert bmul(1, 5 * 10**17 - 1) == 0
    assert bdiv(1, 3) == 333333333333333333
    assert bdiv(2, 3) == 666666666666666667


# --- hand-computed rounding (spec 3.2) ----------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0, 123, 0),
        (E, E, E),
        (3, 5 * 10**17, 2),  # 1.5e18 + 0.5e18 = 2e18 -> 2 (half rounds up)
        (1, 1, 0),  # 1 + 5e17 < 1e18
        (2 * E + 1, 5 * 10**17, E + 1),  # 1e36 + 5e17 + 5e17 -> 1e18 + 1
        (7, 10**17 * 3, 2),  # 2.1e18 + 0.5e18 -> 2
        (7, 10**17 * 5, 4),  # 3.5e18 + 0.5e18 -> 4 (exactly half: up)
        (5, 10**17 * 3, 2),  # 1.5e18 + 0.5e18 -> 2
    ],
)
def test_bmul_round_half_up(a, b, expected):
    assert bmul(a, b) == expected
    assert bmul(b, a) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0, 7, 0),
        (E, E, E),
        (1, 2, 5 * 10**17),
        (1, 2 * E, 1),  # (1e18 + 1e18) / 2e18 = 1: half rounds up
        (1, 2 * E + 2, 0),  # (1e18 + 1e18 + 1) / (2e18 + 2) < 1
        (1, 3 * E, 0),  # (1e18 + 1.5e18) / 3e18 = 0.83
        (2, 3 * E, 1),  # (2e18 + 1.5e18) / 3e18 = 1.16
        (1, 7, 142857142857142857),  # 1e18/7 = 142857142857142857.14
        (4, 7, 571428571428571429),  # 4e18/7 = ...571.43 + 0.5 -> up
    ],
)
def test_bdiv_round_half_up(a, b, expected):
    assert bdiv(a, b) == expected


def test_bsub_sign_btoi_bfloor():
    assert bsubSign(5, 3) == (2, False)
    assert bsubSign(3, 5) == (2, True)
    assert bsubSign(4, 4) == (0, False)
    assert btoi(3 * E - 1) == 2 and bfloor(3 * E - 1) == 2 * E and bfloor(3 * E) == 3 * E


def test_bpowi_and_whole_bpow():
    assert bpowi(2 * E, 0) == E
    assert bpowi(2 * E, 5) == 32 * E
    assert bpowi(15 * E // 10, 3) == 3375 * E // 1000
    # whole exponent: no series
    assert bpow(15 * E // 10, 2 * E) == 225 * E // 100
    assert bpow(E, 123 * E // 7) == E  # 1^x = 1 exactly (x = 0 so every term is 0)
    # square root of 1.44 within the series' precision
    r = bpow(144 * E // 100, E // 2)
    assert abs(r - 12 * E // 10) < 10**9


@pytest.mark.parametrize(
    ("fn", "args", "reason"),
    [
        (badd, (UINT256_MAX, 1), "ERR_ADD_OVERFLOW"),
        (bsub, (1, 2), "ERR_SUB_UNDERFLOW"),
        (bmul, (2**200, 2**60), "ERR_MUL_OVERFLOW"),
        (bmul, (UINT256_MAX, 1), "ERR_MUL_OVERFLOW"),  # the +BONE/2 overflows
        (bdiv, (1, 0), "ERR_DIV_ZERO"),
        (bdiv, (2**200, 1), "ERR_DIV_INTERNAL"),  # a*BONE overflows
        (bdiv, (UINT256_MAX // E, UINT256_MAX), "ERR_DIV_INTERNAL"),  # the +b/2 overflows
        (bpow, (0, E // 2), "ERR_BPOW_BASE_TOO_LOW"),
        (bpow, (2 * E, E // 2), "ERR_BPOW_BASE_TOO_HIGH"),
    ],
)
def test_bnum_reverts(fn, args, reason):
    with pytest.raises(PoolError) as info:
        fn(*args)
    assert info.value.reason == reason


def test_bmul_overflow_edge():
    # the largest product that still fits with the half added
    a = (UINT256_MAX - 5 * 10**17) // 3
    assert bmul(a, 3) == (3 * a + 5 * 10**17) // E
    with pytest.raises(PoolError, match="ERR_MUL_OVERFLOW"):
        bmul(a + 1, 3)


def test_bpow_max_base_and_ratio_two_reverts():
    assert bpow(2 * E - 1, E) == 2 * E - 1
    # a join doubling the balance has ratio 2: ERR_BPOW_BASE_TOO_HIGH
    with pytest.raises(PoolError, match="ERR_BPOW_BASE_TOO_HIGH"):
        calcPoolOutGivenSingleIn(E, E, E, 2 * E, E, 0)
