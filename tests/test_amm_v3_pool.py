"""Uniswap V3 pool core against the spec's pool vectors (amm.md 2.9-2.13, 4.5)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.v3 import MAX_SQRT_RATIO, MIN_SQRT_RATIO, Swap, V3Pool
from defisim.protocols.amm.v3.liquidity_amounts import get_liquidity_for_amounts
from defisim.protocols.amm.v3.tick_math import get_sqrt_ratio_at_tick

Q96 = 1 << 96
E18 = 10**18


def new_pool(owner: str = "factory") -> V3Pool:
    pool = V3Pool(3000, factory_owner=owner)
    ev = pool.initialize(Q96)
    assert (ev.sqrtPriceX96, ev.tick) == (Q96, 0)
    return pool


def rejects(pool: V3Pool, reason: str, fn, *args, **kwargs) -> None:
    """``fn`` raises ``reason`` and leaves the pool exactly as it was."""
    before = copy.deepcopy(pool.state())
    with pytest.raises(PoolError) as e:
        fn(*args, **kwargs)
    assert e.value.reason == reason
    assert pool.state() == before


# ----------------------------------------------------------------------------------- P1
def test_p1_one_position():
    pool = new_pool()
    m = pool.mint("lp", "A", -600, 600, E18)
    assert (m.amount0, m.amount1) == (29553010879137170, 29553010879137170)
    assert (pool.balance0, pool.balance1) == (29553010879137170, 29553010879137170)
    assert pool.liquidity == E18
    assert pool.invariant_errors() == []

    s1 = pool.swap("t", "t", True, 10**16)
    assert s1 == Swap("t", "t", 10**16, -9871580343970612, 78446055342499616417857907004, E18, -199)
    assert pool.fee_growth_global0_x128 == 10208471007628153903901238222953046
    assert pool.fee_growth_global1_x128 == 0
    assert pool.invariant_errors() == []

    limit = get_sqrt_ratio_at_tick(900)
    assert limit == 82874678823489123616334659238
    s2 = pool.swap("t", "t", False, 10**17, limit)
    assert (s2.amount0, s2.amount1) == (-39523010879137169, 40445906439200976)
    assert (s2.sqrtPriceX96, s2.tick, s2.liquidity) == (limit, 900, 0)
    assert pool.fee_growth_global1_x128 == 41289086326182767359568454658112831
    assert pool.ticks[600].astuple()[2:] == (
        10208471007628153903901238222953046,
        41289086326182767359568454658112831,
    )
    assert pool.ticks[-600].astuple()[2:] == (0, 0)
    assert pool.invariant_errors() == []

    owed = pool.position_tokens_owed("A", -600, 600)
    b = pool.burn("A", -600, 600, E18)
    assert (b.amount0, b.amount1) == (0, 60005999255049926)
    pos = pool.positions[("A", -600, 600)]
    assert (pos.tokens_owed0, pos.tokens_owed1) == (29999999999999, 60127336974367529)
    assert owed == (29999999999999, 60127336974367529 - 60005999255049926)
    assert pool.ticks == {} and pool.bitmap == {}
    c = pool.collect("A", "A", -600, 600, 2**128 - 1, 2**128 - 1)
    assert (c.amount0, c.amount1) == (29999999999999, 60127336974367529)
    assert (pool.balance0, pool.balance1) == (2, 5)
    assert pool.invariant_errors() == []


# ----------------------------------------------------------------------------------- P2
def p2_pool(fee_protocol: bool = False) -> V3Pool:
    pool = new_pool()
    if fee_protocol:
        pool.set_fee_protocol("factory", 4, 4)
    a = pool.mint("lp", "A", -600, 600, E18)
    assert (a.amount0, a.amount1) == (29553010879137170, 29553010879137170)
    b = pool.mint("lp", "B", -120, 1200, 5 * 10**17)
    assert (b.amount0, b.amount1) == (29116320653125970, 2990868880254832)
    assert pool.liquidity == 15 * 10**17
    return pool


def test_p2_ticks_and_bitmap():
    pool = p2_pool()
    assert {t: (i.liquidity_gross, i.liquidity_net) for t, i in pool.ticks.items()} == {
        -600: (E18, E18),
        -120: (5 * 10**17, 5 * 10**17),
        600: (E18, -E18),
        1200: (5 * 10**17, -5 * 10**17),
    }
    assert pool.bitmap == {-1: (1 << 246) | (1 << 254), 0: (1 << 10) | (1 << 20)}
    assert pool.invariant_errors() == []


def test_p2_two_overlapping_positions():
    pool = p2_pool()
    s1 = pool.swap("t", "t", True, 2 * 10**16)
    assert (s1.amount0, s1.amount1) == (2 * 10**16, -19640111211818619)
    assert (s1.sqrtPriceX96, s1.tick, s1.liquidity) == (77909073637079832424657550416, -336, E18)
    assert pool.fee_growth_global0_x128 == 17336106217120144463058986928323411
    assert pool.ticks[-120].fee_growth_outside0_x128 == 6161671596273007254220820912092289
    assert pool.invariant_errors() == []

    s2 = pool.swap("t", "t", False, -3 * 10**16)
    assert (s2.amount0, s2.amount1) == (-3 * 10**16, 29857608652189197)
    assert (s2.sqrtPriceX96, s2.tick, s2.liquidity) == (
        79763107085786344813376208464,
        134,
        15 * 10**17,
    )
    assert pool.fee_growth_global1_x128 == 23960921849201713829861968853529747
    assert pool.ticks[-120].astuple()[2:] == (
        11174434620847137208838166016231122,
        10922659091007994956048041205336729,
    )
    assert pool.fee_growth_inside(-600, 600) == (
        17336106217120144463058986928323411,
        23960921849201713829861968853529747,
    )
    assert pool.fee_growth_inside(-120, 1200) == (
        6161671596273007254220820912092289,
        13038262758193718873813927648193018,
    )
    assert pool.invariant_errors() == []

    ba = pool.burn("A", -600, 600, E18)
    assert (ba.amount0, ba.amount1) == (22846344212470501, 36304960622079840)
    pa = pool.positions[("A", -600, 600)]
    assert (pa.tokens_owed0, pa.tokens_owed1) == (22897290449779200, 36375375442765417)
    bb = pool.burn("B", -120, 1200, 5 * 10**17)
    assert (bb.amount0, bb.amount1) == (25762987319792635, 6366843751726166)
    pb = pool.positions[("B", -120, 1200)]
    assert (pb.tokens_owed0, pb.tokens_owed1) == (25772041082483936, 6386001756997157)
    pool.collect("A", "A", -600, 600, 2**128 - 1, 2**128 - 1)
    pool.collect("B", "B", -120, 1200, 2**128 - 1, 2**128 - 1)
    assert (pool.balance0, pool.balance1) == (4, 6)
    assert pool.liquidity == 0 and pool.ticks == {} and pool.bitmap == {}
    assert pool.invariant_errors() == []


def test_p2_protocol_fee():
    pool = p2_pool(fee_protocol=True)
    assert pool.fee_protocol == 4 + (4 << 4)
    s1 = pool.swap("t", "t", True, 2 * 10**16)
    assert (s1.amount0, s1.amount1) == (2 * 10**16, -19640111211818619)
    assert pool.protocol_fees0 == 15000000000000
    assert pool.fee_growth_global0_x128 == 13002079662840193417885970430858423
    assert pool.invariant_errors() == []
    rejects(pool, "V3_NOT_OWNER", pool.collect_protocol, "x", "x", 10, 10)
    ev = pool.collect_protocol("factory", "treasury", 2**128 - 1, 2**128 - 1)
    assert (ev.amount0, ev.amount1) == (15000000000000 - 1, 0)
    assert pool.protocol_fees0 == 1


def test_quote_changes_nothing_and_matches_swap():
    pool = p2_pool()
    before = copy.deepcopy(pool.state())
    q = pool.quote(True, 2 * 10**16)
    assert pool.state() == before
    s = pool.swap("t", "t", True, 2 * 10**16)
    assert q == (s.amount0, s.amount1, s.sqrtPriceX96, s.tick, s.liquidity)


# ----------------------------------------------------------------------------- rejections
def test_rejections_leave_state_unchanged():
    fresh = V3Pool(3000)
    rejects(fresh, "LOK", fresh.mint, "lp", "A", -600, 600, E18)
    rejects(fresh, "LOK", fresh.swap, "t", "t", True, 10)
    rejects(fresh, "AS", fresh.swap, "t", "t", True, 0)
    rejects(fresh, "R", fresh.initialize, MIN_SQRT_RATIO - 1)
    pool = p2_pool()
    rejects(pool, "AI", pool.initialize, Q96)
    rejects(pool, "AS", pool.swap, "t", "t", True, 0)
    rejects(pool, "SPL", pool.swap, "t", "t", True, 10, Q96)
    rejects(pool, "SPL", pool.swap, "t", "t", True, 10, MIN_SQRT_RATIO)
    rejects(pool, "SPL", pool.swap, "t", "t", False, 10, Q96)
    rejects(pool, "SPL", pool.swap, "t", "t", False, 10, MAX_SQRT_RATIO)
    rejects(pool, "IIA", pool.swap, "t", "t", True, 10**16, None, 10**16 - 1)
    rejects(pool, "V3_MINT_ZERO", pool.mint, "lp", "A", -600, 600, 0)
    rejects(pool, "V3_CAST", pool.mint, "lp", "A", -600, 600, 2**127)
    rejects(pool, "TLU", pool.mint, "lp", "A", 600, 600, E18)
    rejects(pool, "TLU", pool.mint, "lp", "A", 660, 600, E18)
    rejects(pool, "TLM", pool.mint, "lp", "A", -887280, 600, E18)
    rejects(pool, "TUM", pool.mint, "lp", "A", -600, 887280, E18)
    rejects(pool, "V3_TICK_SPACING", pool.mint, "lp", "A", -600, 610, E18)
    rejects(pool, "V3_TICK_SPACING", pool.mint, "lp", "A", -610, 600, E18)
    rejects(pool, "LO", pool.mint, "lp", "C", -60, 60, pool.max_liquidity_per_tick + 1)
    rejects(pool, "M0", pool.mint, "lp", "A", -600, 600, E18, 29553010879137169, None)
    rejects(pool, "M1", pool.mint, "lp", "A", -600, 600, E18, None, 29553010879137169)
    rejects(pool, "LS", pool.burn, "A", -600, 600, E18 + 1)
    rejects(pool, "NP", pool.burn, "nobody", -600, 600, 0)
    rejects(pool, "LS", pool.burn, "nobody", -600, 600, 1)
    rejects(pool, "V3_FEE_PROTOCOL", pool.set_fee_protocol, "factory", 3, 0)
    rejects(pool, "V3_FEE_PROTOCOL", pool.set_fee_protocol, "factory", 4, 11)
    rejects(pool, "V3_NOT_OWNER", pool.set_fee_protocol, "someone", 4, 4)


def test_mint_overpay_and_collect_of_unknown_position():
    pool = new_pool()
    pool.mint("lp", "A", -600, 600, E18, 29553010879137170 + 5, None)
    assert pool.balance0 == 29553010879137170 + 5
    c = pool.collect("x", "x", -60, 60, 10, 10)
    assert (c.amount0, c.amount1) == (0, 0)
    assert ("x", -60, 60) not in pool.positions


def test_out_of_range_mints_pay_one_token():
    pool = new_pool()
    above = pool.mint("lp", "A", 60, 600, E18)  # tick 0 < lower: token0 only
    assert above.amount1 == 0 and above.amount0 > 0
    below = pool.mint("lp", "B", -600, -60, E18)  # tick >= upper: token1 only
    assert below.amount0 == 0 and below.amount1 > 0
    assert pool.liquidity == 0
    assert pool.invariant_errors() == []


def test_poke_books_fees():
    pool = p2_pool()
    pool.swap("t", "t", True, 2 * 10**16)
    owed = pool.position_tokens_owed("A", -600, 600)
    b = pool.burn("A", -600, 600, 0)
    assert (b.amount0, b.amount1) == (0, 0)
    pos = pool.positions[("A", -600, 600)]
    assert (pos.tokens_owed0, pos.tokens_owed1) == owed
    assert owed[0] > 0 and owed[1] == 0


def test_state_deep_copies():
    pool = p2_pool()
    snap = copy.deepcopy(pool)
    pool.swap("t", "t", True, 2 * 10**16)
    assert snap.state() != pool.state()
    snap.swap("t", "t", True, 2 * 10**16)
    assert snap.state() == pool.state()


# ------------------------------------------------------------------------ liquidity helper
def test_liquidity_for_amounts_then_mint_costs_at_most_one_wei_more():
    pool = new_pool()
    a, b = get_sqrt_ratio_at_tick(-600), get_sqrt_ratio_at_tick(600)
    x0 = x1 = 29553010879137170
    liq = get_liquidity_for_amounts(pool.sqrt_price_x96, a, b, x0, x1)
    assert abs(liq - E18) <= 100  # the mint amounts were rounded up
    m = pool.mint("lp", "A", -600, 600, liq)
    assert m.amount0 <= x0 + 1 and m.amount1 <= x1 + 1
    # at the lower bound the price counts as below the range (token0 only)
    assert get_liquidity_for_amounts(a, a, b, x0, 0) == get_liquidity_for_amounts(
        a - 1, a, b, x0, 0
    )
    assert get_liquidity_for_amounts(b, a, b, 0, x1) > 0


# ------------------------------------------------------------------------------ properties
positions_st = st.lists(
    st.tuples(st.integers(-20, 19), st.integers(1, 20), st.integers(1, 10**20), st.booleans()),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(positions_st)
def test_random_mints_and_burns_keep_invariants(ops):
    pool = new_pool()
    held: dict[tuple[int, int], int] = {}
    for lo_c, width, amount, burn in ops:
        lo, up = lo_c * 60, (lo_c + width) * 60
        pool.mint("lp", (lo, up), lo, up, amount)
        held[(lo, up)] = held.get((lo, up), 0) + amount
        if burn:
            pool.burn((lo, up), lo, up, amount // 2)
            held[(lo, up)] -= amount // 2
        assert sum(i.liquidity_net for i in pool.ticks.values()) == 0
        assert pool.invariant_errors() == []
    for (lo, up), liq in held.items():
        pool.burn((lo, up), lo, up, liq)
        pool.collect((lo, up), "x", lo, up, 2**128 - 1, 2**128 - 1)
    assert pool.ticks == {} and pool.bitmap == {} and pool.liquidity == 0
    assert pool.invariant_errors() == []


@settings(max_examples=60, deadline=None)
@given(
    positions_st,
    st.booleans(),
    st.integers(1, 10**19),
)
def test_swap_then_reverse_never_profits(ops, zero_for_one, amount):
    pool = new_pool()
    for lo_c, width, liq, _ in ops:
        pool.mint("lp", "lp", lo_c * 60, (lo_c + width) * 60, liq)
    s1 = pool.swap("t", "t", zero_for_one, amount)
    got = -(s1.amount1 if zero_for_one else s1.amount0)
    assert pool.invariant_errors() == []
    if got == 0:
        return
    s2 = pool.swap("t", "t", not zero_for_one, got)
    back = -(s2.amount0 if zero_for_one else s2.amount1)
    assert back <= amount
    assert pool.invariant_errors() == []


# ----------------------------------------------------------- upstream #mint fixture (4.0)
def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """The upstream tests' ``encodePriceSqrt``: bignumber.js at 40 decimals, ROUND_HALF_UP."""
    from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal

    ctx = Context(prec=120, rounding=ROUND_HALF_UP)
    q = ctx.divide(Decimal(reserve1), Decimal(reserve0)).quantize(
        Decimal(1).scaleb(-40), rounding=ROUND_HALF_UP, context=ctx
    )
    s = ctx.sqrt(q).quantize(Decimal(1).scaleb(-40), rounding=ROUND_HALF_UP, context=ctx)
    return int(ctx.multiply(s, Decimal(1 << 96)).to_integral_value(rounding=ROUND_FLOOR))


MIN_T, MAX_T = -887220, 887220  # getMinTick / getMaxTick for spacing 60


def mint_fixture() -> V3Pool:
    pool = V3Pool(3000)
    pool.initialize(encode_price_sqrt(1, 10))
    pool.mint("w", "w", MIN_T, MAX_T, 3161)
    return pool


@pytest.mark.parametrize(
    "lower,upper,amount,expected",
    [
        (-22980, 0, 10000, (21549, 0)),
        (MAX_T - 60, MAX_T, 2**102, (828011525, 0)),
        (-22980, MAX_T, 10000, (31549, 0)),
        (MIN_T + 60, MAX_T - 60, 100, (317, 32)),
        (-46080, -23040, 10000, (0, 2162)),
        (MIN_T, MIN_T + 60, 2**102, (0, 828011520)),
    ],
)
def test_upstream_mint_fixture(lower, upper, amount, expected):
    pool = mint_fixture()
    assert (pool.balance0, pool.balance1, pool.tick) == (9996, 1000, -23028)
    m = pool.mint("w", "w", lower, upper, amount)
    assert (m.amount0, m.amount1) == expected
    assert pool.invariant_errors() == []


def test_upstream_mint_burn_collect_round_trip():
    pool = mint_fixture()
    pool.mint("w", "w", -240, 0, 10000)
    pool.burn("w", -240, 0, 10000)
    c = pool.collect("w", "w", -240, 0, 2**128 - 1, 2**128 - 1)
    assert (c.amount0, c.amount1) == (120, 0)


def test_flash_fees_and_rejections():
    pool = p2_pool(fee_protocol=True)
    b0, b1 = pool.balance0, pool.balance1
    rejects(pool, "F0", pool.flash, "b", "b", 10**7, 0, 10**7 + 29999, None)
    rejects(pool, "F1", pool.flash, "b", "b", 0, 10**6, None, 10**6 + 2999)
    rejects(pool, "TF", pool.flash, "b", "b", b0 + 1, 0)
    ev = pool.flash("b", "b", 10**7, 10**6, 10**7 + 40000, None)
    assert (ev.paid0, ev.paid1) == (40000, 3000)  # fee = ⌈a·3000/1e6⌉; overpay is fee too
    assert (pool.protocol_fees0, pool.protocol_fees1) == (10000, 750)
    assert pool.fee_growth_global0_x128 == (30000 << 128) // (15 * 10**17)
    assert pool.fee_growth_global1_x128 == (2250 << 128) // (15 * 10**17)
    assert (pool.balance0, pool.balance1) == (b0 + 40000, b1 + 3000)
    assert pool.invariant_errors() == []
    empty = new_pool()
    rejects(empty, "L", empty.flash, "b", "b", 1, 1)
