"""Uniswap V2 pair core: spec ``amm.md`` section 1 and the test vectors 4.0 (V2), 4.1, 4.2."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.v2 import (
    MINIMUM_LIQUIDITY,
    Q112,
    ZERO_ADDRESS,
    Burn,
    Mint,
    Swap,
    Sync,
    Transfer,
    V2Factory,
    V2Pair,
    add_liquidity,
    get_amount_in,
    get_amount_out,
    get_amounts_in,
    get_amounts_out,
    quote,
    remove_liquidity,
    swap_exact_tokens_for_tokens,
    swap_tokens_for_exact_tokens,
)

E18 = 10**18
T0 = 1_700_000_000


def seeded(r0: int, r1: int, fee_to: str | None = None, now: int = T0) -> V2Pair:
    factory = V2Factory("setter", fee_to=fee_to)
    pair = factory.create_pair("T0", "T1")
    pair.mint("lp", r0, r1, now)
    return pair


def rejects(pair_or_factory, reason: str, fn, *args, **kw) -> PoolError:
    """Call ``fn``; it must raise ``reason`` and leave the object's state unchanged."""
    before = copy.deepcopy(pair_or_factory)
    with pytest.raises(PoolError) as info:
        fn(*args, **kw)
    assert info.value.reason == reason, info.value
    if isinstance(pair_or_factory, V2Factory):
        assert sorted(pair_or_factory.pairs) == sorted(before.pairs)
        for key, p in pair_or_factory.pairs.items():
            assert p.state() == before.pairs[key].state()
    else:
        assert pair_or_factory.state() == before.state()
    return info.value


# --------------------------------------------------------------------------- 4.1 library


@pytest.mark.parametrize(
    ("args", "out"),
    [
        ((E18, 5 * E18, 10 * E18), 1662497915624478906),
        ((E18, 100 * E18, 200 * E18), 1974316068794122597),
        ((1, 10**6, 10**6), 0),
        ((5000 * 10**6, 10**13, 5000 * E18), 2491258107833245127),
    ],
)
def test_get_amount_out_vectors(args, out):
    assert get_amount_out(*args) == out


@pytest.mark.parametrize(
    ("args", "res"),
    [
        ((E18, 100 * E18, 200 * E18), 504024636724243082),
        ((1, 10**6, 10**6), 2),
        ((2 * E18, 5 * 10**12, 3000 * E18), 3345593820),
    ],
)
def test_get_amount_in_vectors(args, res):
    assert get_amount_in(*args) == res


def test_library_rejections():
    with pytest.raises(PoolError, match=r"\[V2_DIV_ZERO\]"):
        get_amount_in(10, 100, 10)
    with pytest.raises(PoolError, match="ds-math-sub-underflow"):
        get_amount_in(11, 100, 10)
    for fn, reason in (
        (lambda: get_amount_out(0, 1, 1), "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT"),
        (lambda: get_amount_out(1, 0, 1), "UniswapV2Library: INSUFFICIENT_LIQUIDITY"),
        (lambda: get_amount_in(0, 1, 1), "UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT"),
        (lambda: get_amount_in(1, 1, 0), "UniswapV2Library: INSUFFICIENT_LIQUIDITY"),
        (lambda: quote(0, 1, 1), "UniswapV2Library: INSUFFICIENT_AMOUNT"),
        (lambda: quote(1, 0, 1), "UniswapV2Library: INSUFFICIENT_LIQUIDITY"),
    ):
        with pytest.raises(PoolError) as info:
            fn()
        assert info.value.reason == reason
    assert quote(3, 4, 10) == 7


def test_get_amount_in_always_adds_one():
    # 1000·rIn·out divisible by 997·(rOut − out): rIn = 997, out = 1, rOut = 2 -> 1000 + 1
    assert get_amount_in(1, 997, 2) == 1001


@given(st.integers(1, 10**30), st.integers(1, 10**30), st.integers(1, 10**30))
@settings(max_examples=200, deadline=None)
def test_get_amount_out_is_largest_passing_k(a_in, r_in, r_out):
    """4.1/1.7: getAmountOut passes the pair's K check; one wei more fails it."""
    out = get_amount_out(a_in, r_in, r_out)

    def k_ok(o: int) -> bool:
        b_in, b_out = r_in + a_in, r_out - o
        return (b_in * 1000 - a_in * 3) * (b_out * 1000) >= r_in * r_out * 10**6

    assert k_ok(out)
    if out + 1 < r_out:
        assert not k_ok(out + 1)


# --------------------------------------------------------------------------- 4.0 upstream


@pytest.mark.parametrize(
    ("swap", "t0", "t1", "expected"),
    [
        (1, 5, 10, 1662497915624478906),
        (1, 10, 5, 453305446940074565),
        (2, 5, 10, 2851015155847869602),
        (2, 10, 5, 831248957812239453),
        (1, 10, 10, 906610893880149131),
        (1, 100, 100, 987158034397061298),
        (1, 1000, 1000, 996006981039903216),
    ],
)
def test_upstream_get_input_price(swap, t0, t1, expected):
    pair = seeded(t0 * E18, t1 * E18)
    assert get_amount_out(swap * E18, pair.reserve0, pair.reserve1) == expected
    rejects(pair, "UniswapV2: K", pair.swap, 0, expected + 1, "w", swap * E18, 0, T0)
    in0, in1, events = pair.swap(0, expected, "w", swap * E18, 0, T0 + 1)
    assert (in0, in1) == (swap * E18, 0)
    assert pair.get_reserves()[:2] == ((t0 + swap) * E18, t1 * E18 - expected)
    assert events == (
        Sync((t0 + swap) * E18, t1 * E18 - expected),
        Swap("", swap * E18, 0, 0, expected, "w"),
    )


@pytest.mark.parametrize(
    ("out", "t0", "t1", "amount_in"),
    [
        (997000000000000000, 5 * E18, 10 * E18, E18),
        (997000000000000000, 10 * E18, 5 * E18, E18),
        (997000000000000000, 5 * E18, 5 * E18, E18),
        (E18, 5 * E18, 5 * E18, 1003009027081243732),
    ],
)
def test_upstream_optimistic(out, t0, t1, amount_in):
    """Flash swap of token0 repaid in token0: out + 1 fails K, out passes."""
    pair = seeded(t0, t1)
    rejects(pair, "UniswapV2: K", pair.swap, out + 1, 0, "w", amount_in, 0, T0)
    in0, in1, _ = pair.swap(out, 0, "w", amount_in, 0, T0)
    assert (in0, in1) == (amount_in, 0)
    assert pair.reserve0 == t0 + amount_in - out
    assert pair.invariant_errors() == []


@pytest.mark.parametrize("fee_on", [True, False])
def test_upstream_fee_to(fee_on):
    pair = seeded(1000 * E18, 1000 * E18, fee_to="other" if fee_on else None)
    pair.swap(996006981039903216, 0, "w", 0, E18, T0)
    pair.burn("w", T0, "lp", 1000 * E18 - MINIMUM_LIQUIDITY)
    if fee_on:
        assert pair.lp_balance("other") == 249750499251388
        assert pair.total_supply == MINIMUM_LIQUIDITY + 249750499251388
        assert pair.balance0 == 1000 + 249501683697445
        assert pair.balance1 == 1000 + 250000187312969
    else:
        assert pair.total_supply == MINIMUM_LIQUIDITY
        assert pair.lp_balance("other") == 0
        # upstream feeTo:off checks totalSupply only; the balances are this core's
        assert pair.balance0 == 1000 and pair.balance1 == 1001
    assert pair.invariant_errors() == []


def test_upstream_cumulative_prices():
    """UniswapV2Pair.spec.ts price{0,1}CumulativeLast: 3/3 then a swap."""
    pair = seeded(3 * E18, 3 * E18, now=0)
    pair.sync(1)
    assert (pair.price0_cumulative_last, pair.price1_cumulative_last) == (Q112, Q112)
    pair.swap(0, E18, "w", 3 * E18, 0, 10)
    assert pair.price0_cumulative_last == Q112 * 10
    assert pair.block_timestamp_last == 10
    pair.sync(20)  # reserves now 6/2
    assert pair.price0_cumulative_last == Q112 * 10 + (Q112 // 3) * 10
    assert pair.price1_cumulative_last == Q112 * 10 + 3 * Q112 * 10


# --------------------------------------------------------------------------- 4.2 sequence


def test_sequence_4_2():
    factory = V2Factory("setter", fee_to="feeTo")
    pair = factory.create_pair("B", "A")
    assert (pair.token0, pair.token1) == ("A", "B")
    # step 1
    liq, events = pair.mint("alice", 10 * E18, 40 * E18, T0)
    assert liq == 19999999999999999000
    assert events == (
        Transfer(ZERO_ADDRESS, ZERO_ADDRESS, 1000),
        Transfer(ZERO_ADDRESS, "alice", 19999999999999999000),
        Sync(10 * E18, 40 * E18),
        Mint("", 10 * E18, 40 * E18),
    )
    assert pair.get_reserves() == (10 * E18, 40 * E18, T0 % 2**32)
    assert pair.total_supply == 20 * E18 and pair.lp_balance(ZERO_ADDRESS) == 1000
    assert pair.k_last == 4 * 10**38
    assert pair.price0_cumulative_last == pair.price1_cumulative_last == 0
    # step 2
    out = get_amount_out(E18, pair.reserve0, pair.reserve1)
    assert out == 3626443575520596526
    pair.swap(0, out, "bob", E18, 0, T0 + 12)
    assert pair.get_reserves()[:2] == (11 * E18, 36373556424479403474)
    assert pair.total_supply == 20 * E18 and pair.k_last == 4 * 10**38
    assert pair.price0_cumulative_last == 249230249209671726169463823802564608 == 12 * 4 * Q112
    assert pair.price1_cumulative_last == 15576890575604482885591488987660288 == 12 * Q112 // 4
    # step 3
    liq, events = pair.mint("bob", 2 * E18, 7 * E18, T0 + 24)
    assert liq == 3636446288505950939
    assert events[0] == Transfer(ZERO_ADDRESS, "feeTo", 454586782730165)
    assert pair.lp_balance("feeTo") == 454586782730165
    assert pair.get_reserves()[:2] == (13 * E18, 43373556424479403474)
    assert pair.total_supply == 23636900875288681104
    assert pair.k_last == 563856233518232245162000000000000000000
    assert pair.price0_cumulative_last == 455261852216832130388542736548805412
    assert pair.price1_cumulative_last == 34419787798195957697636395755707220
    # step 4
    a_in = get_amount_in(5 * 10**17, pair.reserve1, pair.reserve0)
    assert a_in == 1740162745214820601
    pair.swap(5 * 10**17, 0, "bob", 0, a_in, T0 + 36)
    assert pair.get_reserves()[:2] == (12500000000000000000, 45113719169694224075)
    assert pair.total_supply == 23636900875288681104
    assert pair.k_last == 563856233518232245162000000000000000000
    assert pair.price0_cumulative_last == 663146511385731358635191177461354404
    assert pair.price1_cumulative_last == 53094721944806122738783617151791816
    # step 5
    a0, a1, events = pair.burn("alice", T0 + 48, "alice", 9999999999999999500)
    assert (a0, a1) == (5288290339941053352, 19085955622712598673)
    assert events[-1] == Burn("alice", a0, a1, "alice")
    assert pair.lp_balance("feeTo") == 682530974358316
    assert pair.get_reserves()[:2] == (7211709660058946648, 26027763546981625402)
    assert pair.total_supply == 13637128819480309755
    assert pair.k_last == 187704673801497501170135940655039552496
    assert pair.price0_cumulative_last == 888020580814492080481356435171103332
    assert pair.price1_cumulative_last == 70358750340483682402315321961818308
    assert pair.invariant_errors() == []
    # the as-if-updated view does not write
    snap = pair.state()
    p0, p1, ts = pair.current_cumulative_prices(T0 + 60)
    assert pair.state() == snap
    assert p0 == 888020580814492080481356435171103332 + 12 * (
        26027763546981625402 * Q112 // 7211709660058946648
    )
    assert p1 == 70358750340483682402315321961818308 + 12 * (
        7211709660058946648 * Q112 // 26027763546981625402
    )
    assert pair.current_cumulative_prices(T0 + 48)[:2] == (
        pair.price0_cumulative_last,
        pair.price1_cumulative_last,
    )


# --------------------------------------------------------------------------- rejections


def test_mint_rejections():
    pair = V2Factory().create_pair("T0", "T1")
    rejects(pair, "ds-math-sub-underflow", pair.mint, "a", 999, 1000, T0)
    rejects(pair, "UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED", pair.mint, "a", 1000, 1000, T0)
    rejects(pair, "UniswapV2: OVERFLOW", pair.mint, "a", 2**112, 2**100, T0)
    pair.mint("a", 1001, 1001, T0)
    assert pair.lp_balance("a") == 1 and pair.total_supply == 1001
    rejects(pair, "UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED", pair.mint, "a", 0, 5, T0)


def test_swap_rejections():
    pair = seeded(10 * E18, 10 * E18)
    rejects(pair, "UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT", pair.swap, 0, 0, "w", E18, 0, T0)
    rejects(pair, "UniswapV2: INSUFFICIENT_LIQUIDITY", pair.swap, 10 * E18, 0, "w", 0, E18, T0)
    rejects(pair, "UniswapV2: INVALID_TO", pair.swap, 0, 1, "T0", 10, 0, T0)
    rejects(pair, "UniswapV2: INSUFFICIENT_INPUT_AMOUNT", pair.swap, 0, 1, "w", 0, 0, T0)
    # 1 in and 1 out of the same token: the input is counted, and the 0.3 % fee fails K
    rejects(pair, "UniswapV2: K", pair.swap, 0, 1, "w", 0, 1, T0)
    rejects(pair, "UniswapV2: K", pair.swap, 0, E18, "w", E18, 0, T0)
    rejects(pair, "UniswapV2: OVERFLOW", pair.swap, 0, 1, "w", 2**112, 0, T0)


def test_burn_rejections():
    pair = V2Factory().create_pair("T0", "T1")
    rejects(pair, "[V2_DIV_ZERO]", pair.burn, "a", T0)
    pair.mint("a", 10**6, 10**6, T0)
    rejects(pair, "ds-math-sub-underflow", pair.burn, "a", T0, "a", 10**6)
    rejects(pair, "UniswapV2: INSUFFICIENT_LIQUIDITY_BURNED", pair.burn, "a", T0)
    a0, a1, _ = pair.burn("a", T0, "a", 10**6 - 1000)
    assert (a0, a1) == (10**6 - 1000, 10**6 - 1000)
    assert pair.total_supply == 1000 and pair.get_reserves()[:2] == (1000, 1000)


def test_factory():
    f = V2Factory("setter")
    f.create_pair("A", "B")
    rejects(f, "UniswapV2: PAIR_EXISTS", f.create_pair, "B", "A")
    rejects(f, "UniswapV2: IDENTICAL_ADDRESSES", f.create_pair, "A", "A")
    rejects(f, "UniswapV2: ZERO_ADDRESS", f.create_pair, ZERO_ADDRESS, "A")
    with pytest.raises(PoolError, match="UniswapV2: FORBIDDEN"):
        f.set_fee_to("eve", "eve")
    assert f.fee_to is None
    f.set_fee_to("setter", "fees")
    assert f.get_pair("B", "A").fee_on()


def test_fee_switched_off_clears_k_last():
    pair = seeded(10 * E18, 10 * E18, fee_to="f")
    assert pair.k_last == 100 * E18 * E18
    pair.factory.set_fee_to("setter", None)
    pair.mint("lp", E18, E18, T0 + 1)
    assert pair.k_last == 0


# --------------------------------------------------------------------------- skim / sync / donations


def test_skim_sync_and_donations():
    pair = seeded(10 * E18, 10 * E18)
    pair.donate(5, 7)
    assert pair.invariant_errors() == []
    snap = copy.deepcopy(pair)
    assert pair.skim("x") == (5, 7)
    assert (pair.balance0, pair.balance1) == (pair.reserve0, pair.reserve1)
    pair = snap
    assert pair.sync(T0 + 5) == Sync(10 * E18 + 5, 10 * E18 + 7)
    assert pair.price0_cumulative_last == 5 * Q112
    # a donation counts as input in a swap (amountIn from balances)
    pair.donate(E18, 0)
    out = get_amount_out(E18, pair.reserve0, pair.reserve1)
    in0, in1, _ = pair.swap(0, out, "w", 0, 0, T0 + 5)
    assert (in0, in1) == (E18, 0)
    # burn shares donated tokens out
    pair.donate(1000, 0)
    b0 = pair.balance0
    lp = pair.lp_balance("lp")
    a0, _, _ = pair.burn("lp", T0 + 6, "lp", lp)
    assert a0 == lp * b0 // (lp + 1000)


def test_only_first_update_in_block_accumulates():
    pair = seeded(10 * E18, 20 * E18)
    pair.swap(0, E18, "w", E18, 0, T0 + 3)
    p0 = pair.price0_cumulative_last
    assert p0 == 3 * 2 * Q112
    pair.swap(0, E18, "w", E18, 0, T0 + 3)
    assert pair.price0_cumulative_last == p0


def test_timestamp_wraps_uint32():
    pair = seeded(E18, E18, now=2**32 - 2)
    pair.sync(2**32 + 3)
    assert pair.block_timestamp_last == 3
    assert pair.price0_cumulative_last == 5 * Q112


def test_cumulative_wraps_uint256():
    pair = seeded(E18, E18)
    pair.price0_cumulative_last = 2**256 - Q112
    pair.sync(T0 + 2)
    assert pair.price0_cumulative_last == Q112


# --------------------------------------------------------------------------- router


def test_router_add_remove_liquidity():
    f = V2Factory()
    rejects(f, "UniswapV2Router: EXPIRED", add_liquidity, f, "A", "B", 1, 1, 0, 0, "a", T0 - 1, T0)
    rejects(f, "ds-math-sub-underflow", add_liquidity, f, "A", "B", 10, 10, 0, 0, "a", T0, T0)
    assert f.get_pair("A", "B") is None  # failed first mint: the pair is not created
    a, b, liq, pair, _ = add_liquidity(f, "B", "A", 4 * E18, E18, 0, 0, "a", T0, T0)
    assert (a, b, liq) == (4 * E18, E18, 2 * E18 - 1000)
    assert pair.get_reserves()[:2] == (E18, 4 * E18)  # A is token0
    # desired B fits: (2e18 B -> 0.5e18 A)
    a, b, liq, _, events = add_liquidity(f, "B", "A", 2 * E18, E18, 0, 0, "c", T0, T0)
    assert (a, b, liq) == (2 * E18, E18 // 2, E18)
    assert events[-1] == Mint("UniswapV2Router02", E18 // 2, 2 * E18)
    # optimal B too large: the A side is quoted from desired B
    a, b, _, _, _ = add_liquidity(f, "B", "A", 2 * E18, E18 // 4, 0, 0, "c", T0, T0)
    assert (a, b) == (E18, E18 // 4)
    rejects(
        f,
        "UniswapV2Router: INSUFFICIENT_B_AMOUNT",
        add_liquidity,
        f,
        "B",
        "A",
        4 * E18,
        2 * E18,
        0,
        E18 + 1,
        "c",
        T0,
        T0,
    )
    rejects(
        f,
        "UniswapV2Router: INSUFFICIENT_A_AMOUNT",
        add_liquidity,
        f,
        "B",
        "A",
        4 * E18,
        E18 // 2,
        2 * E18 + 1,
        0,
        "c",
        T0,
        T0,
    )
    lp = pair.lp_balance("c")
    rejects(
        f,
        "UniswapV2Router: INSUFFICIENT_A_AMOUNT",
        remove_liquidity,
        f,
        "B",
        "A",
        lp,
        10**30,
        0,
        "c",
        "c",
        T0,
        T0,
    )
    rejects(
        f,
        "UniswapV2Router: INSUFFICIENT_B_AMOUNT",
        remove_liquidity,
        f,
        "B",
        "A",
        lp,
        0,
        10**30,
        "c",
        "c",
        T0,
        T0,
    )
    rejects(
        f, "ds-math-sub-underflow", remove_liquidity, f, "B", "A", lp + 1, 0, 0, "c", "c", T0, T0
    )
    rejects(f, "UniswapV2Router: EXPIRED", remove_liquidity, f, "B", "A", lp, 0, 0, "c", "c", 0, T0)
    amount_b, amount_a, events = remove_liquidity(f, "B", "A", lp, 0, 0, "c", "c", T0, T0)
    assert (amount_b, amount_a) == (3 * E18, 3 * E18 // 4)
    assert events[0] == Transfer("c", pair.address, lp)
    assert pair.lp_balance("c") == 0 and pair.invariant_errors() == []


def _three_pairs() -> V2Factory:
    f = V2Factory()
    for a, b, ra, rb in (("A", "B", 100, 200), ("B", "C", 300, 100), ("C", "D", 50, 500)):
        add_liquidity(f, a, b, ra * E18, rb * E18, 0, 0, "lp", T0, T0)
    return f


def test_router_multi_hop_exact_in():
    f = _three_pairs()
    path = ["A", "B", "C", "D"]
    amounts = get_amounts_out(f, E18, path)
    x = get_amount_out(E18, 100 * E18, 200 * E18)
    y = get_amount_out(x, 300 * E18, 100 * E18)
    assert amounts == [E18, x, y, get_amount_out(y, 50 * E18, 500 * E18)]
    rejects(
        f,
        "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT",
        swap_exact_tokens_for_tokens,
        f,
        E18,
        amounts[-1] + 1,
        path,
        "u",
        T0,
        T0,
    )
    rejects(
        f,
        "UniswapV2Library: INVALID_PATH",
        swap_exact_tokens_for_tokens,
        f,
        1,
        0,
        ["A"],
        "u",
        T0,
        T0,
    )
    rejects(f, "[V2_NO_PAIR]", swap_exact_tokens_for_tokens, f, 1, 0, ["A", "D"], "u", T0, T0)
    rejects(f, "UniswapV2Router: EXPIRED", swap_exact_tokens_for_tokens, f, 1, 0, path, "u", 1, T0)
    got, events = swap_exact_tokens_for_tokens(f, E18, amounts[-1], path, "u", T0 + 1, T0 + 1)
    assert got == amounts
    swaps = [e for e in events if isinstance(e, Swap)]
    assert [s.to for s in swaps] == [
        f.get_pair("B", "C").address,
        f.get_pair("C", "D").address,
        "u",
    ]
    ab, bc, cd = f.get_pair("A", "B"), f.get_pair("B", "C"), f.get_pair("C", "D")
    assert ab.get_reserves()[:2] == (101 * E18, 200 * E18 - x)
    assert bc.get_reserves()[:2] == (300 * E18 + x, 100 * E18 - y)
    assert cd.reserve0 == 50 * E18 + y
    for p in (ab, bc, cd):
        assert p.invariant_errors() == []


def test_router_multi_hop_exact_out():
    f = _three_pairs()
    path = ["D", "C", "B"]
    amounts = get_amounts_in(f, E18, path)
    c_in = get_amount_in(E18, 100 * E18, 300 * E18)
    assert amounts == [get_amount_in(c_in, 500 * E18, 50 * E18), c_in, E18]
    rejects(
        f,
        "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT",
        swap_tokens_for_exact_tokens,
        f,
        E18,
        amounts[0] - 1,
        path,
        "u",
        T0,
        T0,
    )
    got, _ = swap_tokens_for_exact_tokens(f, E18, amounts[0], path, "u", T0, T0)
    assert got == amounts
    assert f.get_pair("B", "C").reserve0 == 299 * E18


def test_router_all_or_nothing_when_a_later_hop_fails():
    """A -> B -> A through the same pair: hop 1 sends its B output to the pair itself (so it
    counts as input and stays), hop 2 then has no new input: INSUFFICIENT_INPUT_AMOUNT, and
    hop 1 is undone."""
    f = V2Factory()
    add_liquidity(f, "A", "B", 100 * E18, 100 * E18, 0, 0, "lp", T0, T0)
    before = f.get_pair("A", "B").state()
    with pytest.raises(PoolError) as info:
        swap_exact_tokens_for_tokens(f, 10 * E18, 0, ["A", "B", "A"], "u", T0 + 1, T0 + 1)
    assert info.value.reason == "UniswapV2: INSUFFICIENT_INPUT_AMOUNT"
    assert f.get_pair("A", "B").state() == before


def test_deepcopy_snapshot_is_independent():
    pair = seeded(10 * E18, 10 * E18, fee_to="f")
    snap = copy.deepcopy(pair)
    pair.swap(0, E18, "w", 2 * E18, 0, T0 + 1)
    assert snap.state() != pair.state()
    assert snap.factory is not pair.factory and snap.fee_on()


# --------------------------------------------------------------------------- properties


amounts = st.integers(10**3, 10**27)


@given(
    r0=amounts,
    r1=amounts,
    trades=st.lists(
        st.tuples(st.booleans(), st.integers(1, 10**27), st.integers(0, 3)), max_size=12
    ),
    fee=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_swaps_k_non_decreasing_and_tokens_conserved(r0, r1, trades, fee):
    pair = V2Factory("s", fee_to="f" if fee else None).create_pair("T0", "T1")
    try:
        pair.mint("lp", r0, r1, T0)
    except PoolError:
        return
    now = T0
    for zero_for_one, a_in, skew in trades:
        now += 7
        r_in, r_out = (
            (pair.reserve0, pair.reserve1) if zero_for_one else (pair.reserve1, pair.reserve0)
        )
        try:
            out = get_amount_out(a_in, r_in, r_out) + (1 if skew == 3 else 0)
        except PoolError:
            continue
        k = pair.reserve0 * pair.reserve1
        b0, b1 = pair.balance0, pair.balance1
        before = pair.state()
        args = (0, out, "w", a_in, 0) if zero_for_one else (out, 0, "w", 0, a_in)
        try:
            pair.swap(*args, now)
        except PoolError as e:
            assert pair.state() == before
            assert e.reason in {
                "UniswapV2: K",
                "UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT",
                "UniswapV2: INSUFFICIENT_LIQUIDITY",
                "UniswapV2: OVERFLOW",
            }
            assert skew == 3 or e.reason != "UniswapV2: K"
            continue
        assert skew != 3, "one wei more than getAmountOut passed the K check"
        assert pair.reserve0 * pair.reserve1 >= k
        d0, d1 = (a_in, -out) if zero_for_one else (-out, a_in)
        assert (pair.balance0 - b0, pair.balance1 - b1) == (d0, d1)
        assert pair.invariant_errors() == []


@given(
    r0=amounts,
    r1=amounts,
    a0=amounts,
    a1=amounts,
    fee=st.booleans(),
    swap_in=st.integers(0, 10**26),
)
@settings(max_examples=150, deadline=None)
def test_mint_then_burn_never_returns_more(r0, r1, a0, a1, fee, swap_in):
    pair = V2Factory("s", fee_to="f" if fee else None).create_pair("T0", "T1")
    try:
        pair.mint("lp", r0, r1, T0)
    except PoolError:
        return
    if swap_in:
        try:
            out = get_amount_out(swap_in, pair.reserve0, pair.reserve1)
            pair.swap(0, out, "w", swap_in, 0, T0 + 1)
        except PoolError:
            pass
    try:
        liq, _ = pair.mint("bob", a0, a1, T0 + 2)
    except PoolError as e:
        assert e.reason in {"UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED", "UniswapV2: OVERFLOW"}
        return
    try:
        b0, b1, _ = pair.burn("bob", T0 + 3, "bob", liq)
    except PoolError as e:
        assert e.reason == "UniswapV2: INSUFFICIENT_LIQUIDITY_BURNED"
        return
    assert b0 <= a0 and b1 <= a1
    assert pair.invariant_errors() == []


def test_invariant_errors_detects_breakage():
    pair = seeded(10 * E18, 10 * E18)
    assert pair.invariant_errors() == []
    pair.balance0 -= 1
    pair.balance_of["lp"] += 1
    errs = pair.invariant_errors()
    assert len(errs) == 2 and "balance0" in errs[0] and "totalSupply" in errs[1]
