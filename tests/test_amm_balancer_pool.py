"""Balancer V1 BPool (spec 3.4, 3.5, 5): the Ocean V3 pool vectors of 4.6 through the
pool, the balancer-core pool.js scenario of 4.0, every revert with the contract's string
and the state unchanged, the Ocean ``setup``, events, invariants and properties."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.balancer import (
    LOG_EXIT,
    LOG_JOIN,
    LOG_SWAP,
    ZERO_ADDRESS,
    Approval,
    BPool,
    Transfer,
    ocean_v3_pool,
)
from defisim.protocols.amm.balancer.bnum import (
    EXIT_FEE,
    INIT_POOL_SUPPLY,
    MAX_FEE,
    MAX_IN_RATIO,
    MAX_OUT_RATIO,
    MIN_FEE,
    UINT256_MAX,
    bmul,
)

E = 10**18
FEE = 10**15
INF = UINT256_MAX
CTRL = "publisher"


def state(p: BPool) -> dict:
    return {name: copy.deepcopy(getattr(p, name)) for name in BPool.__slots__}


def rejects(p: BPool, reason: str, fn, *args) -> None:
    """``fn(*args)`` raises ``reason`` and changes nothing."""
    before = state(p)
    with pytest.raises(PoolError) as info:
        fn(*args)
    assert info.value.reason == reason, info.value
    assert state(p) == before


def ocean_pool(variant: str = "balancer", factory: str = "factory") -> BPool:
    """Spec 4.6: DT 100e18 weight 3e18, OCEAN 1000e18 weight 7e18, fee 1e15, finalised."""
    p = BPool(CTRL, factory=factory, variant=variant)
    p.bind(CTRL, "DT", 100 * E, 3 * E)
    p.bind(CTRL, "OCEAN", 1000 * E, 7 * E)
    p.set_swap_fee(CTRL, FEE)
    p.finalize(CTRL)
    return p


# --- spec 4.6 through the pool ------------------------------------------------------------
def test_ocean_pool_views():
    p = ocean_pool()
    assert p.total_supply == INIT_POOL_SUPPLY == p.balance_of(CTRL)
    assert p.get_normalized_weight("DT") == 300000000000000000
    assert p.get_normalized_weight("OCEAN") == 700000000000000000
    assert p.get_spot_price("OCEAN", "DT") == 4290004290004290004
    assert p.get_spot_price_sans_fee("OCEAN", "DT") == 4285714285714285714
    assert p.get_spot_price("DT", "OCEAN") == 233566900233566900
    assert p.balances() == {"DT": 100 * E, "OCEAN": 1000 * E}
    assert p.weights() == {"DT": 3 * E, "OCEAN": 7 * E}
    assert p.invariant_errors() == []


def test_ocean_swap_exact_in():
    p = ocean_pool()
    r = p.swap_exact_amount_in("bob", "OCEAN", 10 * E, "DT", 0, INF)
    assert r.amount_out == 2292741528351587900
    assert r.spot_price_after == 4434577738317779236
    assert r.events == (LOG_SWAP("bob", "OCEAN", "DT", 10 * E, 2292741528351587900),)
    assert r.tokens_in == (("OCEAN", 10 * E),)
    assert r.tokens_out == (("DT", "bob", 2292741528351587900),)
    assert p.balances() == {"DT": 100 * E - 2292741528351587900, "OCEAN": 1010 * E}
    assert p.token_balances == {"DT": 100 * E - 2292741528351587900, "OCEAN": 1010 * E}
    assert p.invariant_errors() == []


def test_ocean_swap_exact_in_other_direction():
    p = ocean_pool()
    assert p.swap_exact_amount_in("bob", "DT", E, "OCEAN", 0, INF).amount_out == (
        4251122494021841000
    )


def test_ocean_swap_exact_out():
    p = ocean_pool()
    r = p.swap_exact_amount_out("bob", "OCEAN", INF, "DT", E, INF)
    assert r.amount_in == 4320897384531836837
    assert r.spot_price_after == 4352061574061212021
    q = ocean_pool()
    assert q.swap_exact_amount_out("bob", "DT", INF, "OCEAN", 10 * E, INF).amount_in == (
        2375166703077988689
    )


def test_ocean_limit_prices_exact():
    # maxPrice equal to the spot price after passes; one wei less fails ERR_LIMIT_PRICE
    p = ocean_pool()
    rejects(p, "ERR_LIMIT_PRICE", p.swap_exact_amount_in, "b", "OCEAN", 10 * E, "DT", 0,
            4434577738317779235)
    rejects(p, "ERR_BAD_LIMIT_PRICE", p.swap_exact_amount_in, "b", "OCEAN", 10 * E, "DT", 0,
            4290004290004290003)
    rejects(p, "ERR_LIMIT_OUT", p.swap_exact_amount_in, "b", "OCEAN", 10 * E, "DT",
            2292741528351587901, INF)
    rejects(p, "ERR_LIMIT_IN", p.swap_exact_amount_out, "b", "OCEAN", 4320897384531836836,
            "DT", E, INF)
    rejects(p, "ERR_LIMIT_PRICE", p.swap_exact_amount_out, "b", "OCEAN", INF, "DT", E,
            4352061574061212020)
    rejects(p, "ERR_BAD_LIMIT_PRICE", p.swap_exact_amount_out, "b", "OCEAN", INF, "DT", E,
            4290004290004290003)
    r = p.swap_exact_amount_in("b", "OCEAN", 10 * E, "DT", 2292741528351587900,
                               4434577738317779236)
    assert r.amount_out == 2292741528351587900


def test_ocean_ratio_caps():
    p = ocean_pool()
    rejects(p, "ERR_MAX_IN_RATIO", p.swap_exact_amount_in, "b", "OCEAN", 500 * E + 1, "DT",
            0, INF)
    # 500e18 in: the cap itself is allowed (the bpow base is 1000/1499.5 >= 1)
    p.swap_exact_amount_in("b", "OCEAN", 500 * E, "DT", 0, INF)
    q = ocean_pool()
    rejects(q, "ERR_MAX_OUT_RATIO", q.swap_exact_amount_out, "b", "OCEAN", INF, "DT",
            33333333333333333401, INF)
    q.swap_exact_amount_out("b", "OCEAN", INF, "DT", 33333333333333333400, INF)
    cap_in = bmul(q.get_balance("DT"), MAX_IN_RATIO)
    cap_out = bmul(q.get_balance("DT"), MAX_OUT_RATIO)
    assert cap_out == 22222222222222222244  # BONE/3 + 1: the cap is a little above 1/3
    rejects(q, "ERR_MAX_IN_RATIO", q.joinswap_extern_amount_in, "b", "DT", cap_in + 1, 0)
    rejects(q, "ERR_MAX_OUT_RATIO", q.exitswap_extern_amount_out, CTRL, "DT", cap_out + 1,
            INF)


def test_ocean_join_exit_pool():
    p = ocean_pool()
    r = p.join_pool("lp", 10 * E, [INF, INF])
    assert r.tokens_in == (("DT", 10 * E), ("OCEAN", 100 * E))
    assert r.events == (
        LOG_JOIN("lp", "DT", 10 * E),
        LOG_JOIN("lp", "OCEAN", 100 * E),
        Transfer(ZERO_ADDRESS, "bpool", 10 * E),
        Transfer("bpool", "lp", 10 * E),
    )
    assert p.total_supply == 110 * E and p.balance_of("lp") == 10 * E
    r = p.exit_pool("lp", 10 * E, [0, 0])
    # ratio bdiv(10e18, 110e18) = 90909090909090909: not back to the wei
    assert [a for _, _, a in r.tokens_out] == [9999999999999999990, 99999999999999999900]
    q = ocean_pool()
    r = q.exit_pool(CTRL, 10 * E, [10 * E, 100 * E])
    assert r.tokens_out == (("DT", CTRL, 10 * E), ("OCEAN", CTRL, 100 * E))
    assert r.events == (
        Transfer(CTRL, "bpool", 10 * E),
        Transfer("bpool", "factory", 0),
        Transfer("bpool", ZERO_ADDRESS, 10 * E),
        LOG_EXIT(CTRL, "DT", 10 * E),
        LOG_EXIT(CTRL, "OCEAN", 100 * E),
    )
    assert q.total_supply == 90 * E and q.balances() == {"DT": 90 * E, "OCEAN": 900 * E}
    assert q.invariant_errors() == []


def test_join_exit_rejections():
    p = ocean_pool()
    rejects(p, "ERR_LIMIT_IN", p.join_pool, "lp", 10 * E, [INF, 100 * E - 1])
    rejects(p, "ERR_MATH_APPROX", p.join_pool, "lp", 49, [INF, INF])  # bdiv(49, 100e18) = 0
    rejects(p, "ERR_LIMIT_OUT", p.exit_pool, CTRL, 10 * E, [10 * E, 100 * E + 1])
    rejects(p, "ERR_INSUFFICIENT_BAL", p.exit_pool, "nobody", 10 * E, [0, 0])
    rejects(p, "ERR_MATH_APPROX", p.exit_pool, CTRL, 0, [0, 0])
    # ratio 1 (1e-18) but bmul(1, 100e18) = 100 > 0: passes; amounts of 0 need tiny balances
    np = BPool(CTRL)
    rejects(np, "ERR_NOT_FINALIZED", np.join_pool, "lp", E, [INF, INF])
    rejects(np, "ERR_NOT_FINALIZED", np.exit_pool, "lp", E, [0, 0])


def test_single_asset_vectors():
    p = ocean_pool()
    r = p.joinswap_extern_amount_in("lp", "OCEAN", 100 * E, 0)
    assert r.pool_amount == 6897263677829326400
    assert r.events == (
        LOG_JOIN("lp", "OCEAN", 100 * E),
        Transfer(ZERO_ADDRESS, "bpool", 6897263677829326400),
        Transfer("bpool", "lp", 6897263677829326400),
    )
    assert p.total_supply == 100 * E + 6897263677829326400
    assert p.get_balance("OCEAN") == 1100 * E
    q = ocean_pool()
    r = q.joinswap_pool_amount_out("lp", "OCEAN", 6897263677829326400, INF)
    assert r.amount_in == 99999999991454809443
    q = ocean_pool()
    assert q.joinswap_extern_amount_in("lp", "DT", 10 * E, 0).pool_amount == (
        2898611432921064200
    )
    q = ocean_pool()
    r = q.exitswap_pool_amount_in(CTRL, "OCEAN", 10 * E, 0)
    assert r.amount_out == 139693272745403737573
    assert r.events == (
        LOG_EXIT(CTRL, "OCEAN", 139693272745403737573),
        Transfer(CTRL, "bpool", 10 * E),
        Transfer("bpool", ZERO_ADDRESS, 10 * E),
        Transfer("bpool", "factory", 0),
    )
    assert q.total_supply == 90 * E
    q = ocean_pool()
    r = q.exitswap_extern_amount_out(CTRL, "OCEAN", 100 * E, INF)
    assert r.pool_amount == 7111998329373130300
    assert q.balance_of(CTRL) == 100 * E - 7111998329373130300
    assert q.invariant_errors() == []


def test_single_asset_rejections():
    p = ocean_pool()
    rejects(p, "ERR_LIMIT_OUT", p.joinswap_extern_amount_in, "lp", "OCEAN", 100 * E,
            6897263677829326401)
    rejects(p, "ERR_LIMIT_IN", p.joinswap_pool_amount_out, "lp", "OCEAN",
            6897263677829326400, 99999999991454809442)
    rejects(p, "ERR_LIMIT_OUT", p.exitswap_pool_amount_in, CTRL, "OCEAN", 10 * E,
            139693272745403737574)
    rejects(p, "ERR_LIMIT_IN", p.exitswap_extern_amount_out, CTRL, "OCEAN", 100 * E,
            7111998329373130299)
    rejects(p, "ERR_INSUFFICIENT_BAL", p.exitswap_pool_amount_in, "nobody", "OCEAN", E, 0)
    rejects(p, "ERR_INSUFFICIENT_BAL", p.exitswap_extern_amount_out, "nobody", "OCEAN", E,
            INF)
    rejects(p, "ERR_NOT_BOUND", p.joinswap_extern_amount_in, "lp", "XYZ", E, 0)
    rejects(p, "ERR_MATH_APPROX", p.joinswap_pool_amount_out, "lp", "OCEAN", 0, INF)
    rejects(p, "ERR_MATH_APPROX", p.exitswap_extern_amount_out, CTRL, "OCEAN", 0, INF)
    # 30 % of the supply out in DT alone needs a bpow base of 0.7^(1/0.3) (fine), but the
    # result exceeds a third of the balance: ERR_MAX_OUT_RATIO after ERR_LIMIT_OUT passes
    rejects(p, "ERR_MAX_OUT_RATIO", p.exitswap_pool_amount_in, CTRL, "DT", 30 * E, 0)
    # doubling the supply in OCEAN: ERR_MAX_IN_RATIO comes after ERR_LIMIT_IN
    rejects(p, "ERR_LIMIT_IN", p.joinswap_pool_amount_out, "lp", "OCEAN", 50 * E, E)
    rejects(p, "ERR_MAX_IN_RATIO", p.joinswap_pool_amount_out, "lp", "OCEAN", 50 * E, INF)
    np = BPool(CTRL)
    np.bind(CTRL, "A", E, E)
    rejects(np, "ERR_NOT_FINALIZED", np.joinswap_extern_amount_in, "lp", "A", 1, 0)
    rejects(np, "ERR_NOT_FINALIZED", np.exitswap_pool_amount_in, "lp", "A", 1, 0)


def test_single_asset_ignores_public_swap():
    # a finalised pool is always public, so build it via the Ocean initialize flags
    p = BPool(None, variant="ocean_v3")
    p.initialize(CTRL, "factory", FEE, False, False)
    p.bind(CTRL, "DT", 100 * E, 3 * E)
    p.bind(CTRL, "OCEAN", 1000 * E, 7 * E)
    p.finalize(CTRL)
    p.public_swap = False  # state a clone could be initialised into (finalized, not public)
    rejects(p, "ERR_SWAP_NOT_PUBLIC", p.swap_exact_amount_in, "b", "OCEAN", E, "DT", 0, INF)
    assert p.joinswap_extern_amount_in("lp", "OCEAN", 100 * E, 0).pool_amount == (
        6897263677829326400
    )


def test_public_not_finalized_pool_swaps_but_no_single_asset_join():
    p = BPool(CTRL)
    p.bind(CTRL, "DT", 100 * E, 3 * E)
    p.bind(CTRL, "OCEAN", 1000 * E, 7 * E)
    p.set_swap_fee(CTRL, FEE)
    rejects(p, "ERR_SWAP_NOT_PUBLIC", p.swap_exact_amount_in, "b", "OCEAN", 10 * E, "DT", 0,
            INF)
    p.set_public_swap(CTRL, True)
    rejects(p, "ERR_NOT_FINALIZED", p.joinswap_extern_amount_in, "lp", "OCEAN", E, 0)
    rejects(p, "ERR_NOT_FINALIZED", p.exitswap_extern_amount_out, "lp", "OCEAN", E, INF)
    assert p.swap_exact_amount_in("b", "OCEAN", 10 * E, "DT", 0, INF).amount_out == (
        2292741528351587900
    )
    # the controller can still rebind after swaps (not finalised): pushes back the decrease
    r = p.rebind(CTRL, "DT", 50 * E, 3 * E)
    assert r.tokens_out[0] == ("DT", CTRL, 50 * E - 2292741528351587900)
    assert p.invariant_errors() == []


# --- spec 4.0: balancer-core pool.js ------------------------------------------------------
def test_upstream_pool_scenario():
    p = BPool("admin")
    p.bind("admin", "WETH", 525 * E // 10, 5 * E)
    p.bind("admin", "MKR", 21 * E, 5 * E)
    p.bind("admin", "DAI", 10500 * E, 5 * E)
    p.set_swap_fee("admin", 3 * E // 1000)
    p.finalize("admin")
    r = p.swap_exact_amount_in("user", "WETH", 25 * E // 10, "DAI", 475 * E, 200 * E)
    assert r.amount_out == 475905805337091423000
    assert p.get_spot_price("DAI", "WETH") == 182804672101083406128
    r = p.swap_exact_amount_out("user", "WETH", 3 * E, "MKR", E, 5 * E)
    assert r.amount_in == 2758274824473420261


# --- admin operations ---------------------------------------------------------------------
def test_admin_rejections():
    p = BPool(CTRL)
    rejects(p, "ERR_NOT_CONTROLLER", p.set_swap_fee, "x", FEE)
    rejects(p, "ERR_MIN_FEE", p.set_swap_fee, CTRL, MIN_FEE - 1)
    rejects(p, "ERR_MAX_FEE", p.set_swap_fee, CTRL, MAX_FEE + 1)
    rejects(p, "ERR_NOT_CONTROLLER", p.set_public_swap, "x", True)
    rejects(p, "ERR_NOT_CONTROLLER", p.set_controller, "x", "y")
    rejects(p, "ERR_NOT_CONTROLLER", p.bind, "x", "A", E, E)
    rejects(p, "ERR_MIN_WEIGHT", p.bind, CTRL, "A", E, E - 1)
    rejects(p, "ERR_MAX_WEIGHT", p.bind, CTRL, "A", E, 50 * E + 1)
    rejects(p, "ERR_MIN_BALANCE", p.bind, CTRL, "A", 10**6 - 1, E)
    rejects(p, "ERR_NOT_BOUND", p.rebind, CTRL, "A", E, E)
    rejects(p, "ERR_NOT_BOUND", p.unbind, CTRL, "A")
    rejects(p, "ERR_NOT_BOUND", p.gulp, CTRL, "A")
    rejects(p, "ERR_MIN_TOKENS", p.finalize, CTRL)
    p.bind(CTRL, "A", E, 30 * E)
    rejects(p, "ERR_MIN_TOKENS", p.finalize, CTRL)
    rejects(p, "ERR_IS_BOUND", p.bind, CTRL, "A", E, E)
    rejects(p, "ERR_MAX_TOTAL_WEIGHT", p.bind, CTRL, "B", E, 20 * E + 1)
    p.bind(CTRL, "B", E, 20 * E)
    rejects(p, "ERR_MAX_TOTAL_WEIGHT", p.rebind, CTRL, "B", E, 20 * E + 1)
    rejects(p, "ERR_SWAP_NOT_PUBLIC", p.swap_exact_amount_in, "b", "A", 1, "B", 0, INF)
    rejects(p, "ERR_NOT_BOUND", p.swap_exact_amount_in, "b", "A", 1, "C", 0, INF)
    rejects(p, "ERR_NOT_BOUND", p.get_spot_price, "C", "A")
    p.finalize(CTRL)
    rejects(p, "ERR_IS_FINALIZED", p.set_swap_fee, CTRL, FEE)
    rejects(p, "ERR_IS_FINALIZED", p.set_public_swap, CTRL, False)
    rejects(p, "ERR_IS_FINALIZED", p.bind, CTRL, "C", E, E)
    rejects(p, "ERR_IS_FINALIZED", p.rebind, CTRL, "A", E, E)
    rejects(p, "ERR_IS_FINALIZED", p.unbind, CTRL, "A")
    rejects(p, "ERR_NOT_CONTROLLER", p.finalize, "x")
    rejects(p, "ERR_IS_FINALIZED", p.finalize, CTRL)
    rejects(p, "[BAD_UINT256]", p.swap_exact_amount_in, "b", "A", -1, "B", 0, INF)
    # order: the controller check comes first in bind, the finalised check first in setSwapFee
    rejects(p, "ERR_NOT_CONTROLLER", p.bind, "x", "A", E, E)
    rejects(p, "ERR_IS_FINALIZED", p.set_swap_fee, "x", 0)


def test_max_tokens():
    p = BPool(CTRL)
    for i in range(8):
        p.bind(CTRL, f"T{i}", E, E)
    rejects(p, "ERR_MAX_TOKENS", p.bind, CTRL, "T8", E, E)
    p.finalize(CTRL)
    assert p.invariant_errors() == []


def test_rebind_unbind_gulp():
    p = BPool(CTRL)
    assert p.factory == CTRL  # the constructor sets both to msg.sender
    p.factory = "factory"
    assert p.bind(CTRL, "A", 10 * E, 2 * E).tokens_in == (("A", 10 * E),)
    p.bind(CTRL, "B", 5 * E, 3 * E)
    p.bind(CTRL, "C", 7 * E, 4 * E)
    assert p.total_weight == 9 * E
    r = p.rebind(CTRL, "A", 4 * E, 1 * E)
    assert r.tokens_out == (("A", CTRL, 6 * E), ("A", "factory", 0))
    assert p.total_weight == 8 * E and p.token_balances["A"] == 4 * E
    r = p.rebind(CTRL, "A", 6 * E, 5 * E)
    assert r.tokens_in == (("A", 2 * E),) and p.total_weight == 12 * E
    r = p.unbind(CTRL, "A")
    assert r.tokens_out == (("A", CTRL, 6 * E), ("A", "factory", 0))
    assert p.tokens == ["C", "B"]  # the last token moved into the freed slot
    assert p.total_weight == 7 * E and p.token_balances["A"] == 0
    p.receive_token("B", 123)
    assert p.get_balance("B") == 5 * E
    assert p.invariant_errors() == []
    p.gulp("anyone", "B")
    assert p.get_balance("B") == 5 * E + 123
    p.set_controller(CTRL, "new")
    rejects(p, "ERR_NOT_CONTROLLER", p.set_public_swap, CTRL, True)
    p.set_public_swap("new", True)
    assert p.public_swap


def test_share_token():
    p = ocean_pool()
    assert p.transfer(CTRL, "bob", 10 * E).events == (Transfer(CTRL, "bob", 10 * E),)
    rejects(p, "ERR_INSUFFICIENT_BAL", p.transfer, "bob", "c", 10 * E + 1)
    rejects(p, "ERR_BTOKEN_BAD_CALLER", p.transfer_from, "c", "bob", "c", 1)
    p.approve("bob", "c", 4 * E)
    r = p.transfer_from("c", "bob", "d", 3 * E)
    assert r.events == (Transfer("bob", "d", 3 * E), Approval("c", "d", E))
    assert p.allowance("bob", "c") == E
    rejects(p, "ERR_BTOKEN_BAD_CALLER", p.transfer_from, "c", "bob", "d", E + 1)
    p.approve("bob", "c", INF)
    p.transfer_from("c", "bob", "d", E)
    assert p.allowance("bob", "c") == INF
    rejects(p, "ERR_INSUFFICIENT_BAL", p.transfer_from, "c", "bob", "d", 7 * E)
    assert p.invariant_errors() == []


def test_same_token_swap_follows_one_record():
    p = ocean_pool()
    r = p.swap_exact_amount_in("b", "OCEAN", 10 * E, "OCEAN", 0, INF)
    assert 0 < r.amount_out < 10 * E
    assert p.get_balance("OCEAN") == 1010 * E - r.amount_out
    assert p.token_balances["OCEAN"] == p.get_balance("OCEAN")


# --- Ocean V3 (spec 3.5) ------------------------------------------------------------------
def test_ocean_setup_vectors():
    p = ocean_v3_pool(CTRL)
    r = p.setup(CTRL, "DT", 100 * E, 3 * E, "OCEAN", 1000 * E, 7 * E, FEE)
    assert r.tokens_in == (("DT", 100 * E), ("OCEAN", 1000 * E))
    assert r.events == (
        LOG_JOIN(CTRL, "DT", 100 * E),
        LOG_JOIN(CTRL, "OCEAN", 1000 * E),
        Transfer(ZERO_ADDRESS, "bpool", INIT_POOL_SUPPLY),
        Transfer("bpool", CTRL, INIT_POOL_SUPPLY),
    )
    assert p.finalized and p.public_swap and p.swap_fee == FEE
    assert state(p) == state(ocean_pool("ocean_v3", factory=CTRL))
    assert p.swap_exact_amount_in("b", "OCEAN", 10 * E, "DT", 0, INF).amount_out == (
        2292741528351587900
    )


def test_ocean_setup_rejections():
    p = ocean_v3_pool(CTRL)
    rejects(p, "ERR_INVALID_DATATOKEN_ADDRESS", p.setup, CTRL, ZERO_ADDRESS, E, E, "O", E, E,
            FEE)
    rejects(p, "ERR_INVALID_BASETOKEN_ADDRESS", p.setup, CTRL, "DT", E, E, ZERO_ADDRESS, E, E,
            FEE)
    rejects(p, "ERR_NOT_CONTROLLER", p.setup, "x", "DT", E, E, "O", E, E, FEE)
    # the datatoken is bound before the base token fails: nothing stays bound
    rejects(p, "ERR_MIN_BALANCE", p.setup, CTRL, "DT", E, 3 * E, "O", 1, 7 * E, FEE)
    rejects(p, "ERR_IS_BOUND", p.setup, CTRL, "DT", E, 3 * E, "DT", E, 7 * E, FEE)
    rejects(p, "ERR_MAX_FEE", p.setup, CTRL, "DT", E, 3 * E, "O", E, 7 * E, MAX_FEE + 1)
    rejects(p, "[NO_SUCH_FUNCTION]", BPool(CTRL).setup, CTRL, "DT", E, E, "O", E, E, FEE)


def test_ocean_initialize_and_set_controller():
    clone = BPool(None, variant="ocean_v3")
    rejects(clone, "ERR_NOT_CONTROLLER", clone.bind, CTRL, "A", E, E)
    rejects(clone, "ERR_INVALID_CONTROLLER_ADDRESS", clone.initialize, ZERO_ADDRESS, "f",
            FEE, False, False)
    rejects(clone, "ERR_INVALID_FACTORY_ADDRESS", clone.initialize, CTRL, ZERO_ADDRESS, FEE,
            False, False)
    rejects(clone, "ERR_MIN_FEE", clone.initialize, CTRL, "f", MIN_FEE - 1, False, False)
    rejects(clone, "ERR_MAX_FEE", clone.initialize, CTRL, "f", MAX_FEE + 1, False, False)
    clone.initialize(CTRL, "f", FEE, False, False)
    assert clone.controller == CTRL and clone.factory == "f" and clone.swap_fee == FEE
    rejects(clone, "ERR_ALREADY_INITIALIZED", clone.initialize, CTRL, "f", FEE, False, False)
    # Ocean checks the zero manager before the caller
    rejects(clone, "ERR_INVALID_MANAGER_ADDRESS", clone.set_controller, "x", ZERO_ADDRESS)
    rejects(clone, "ERR_NOT_CONTROLLER", clone.set_controller, "x", "y")
    b = BPool(CTRL)
    b.set_controller(CTRL, ZERO_ADDRESS)  # balancer-core allows it
    assert b.controller == ZERO_ADDRESS
    rejects(b, "[NO_SUCH_FUNCTION]", b.initialize, CTRL, "f", FEE, False, False)


def test_deepcopy_snapshot():
    p = ocean_pool()
    snap = copy.deepcopy(p)
    p.swap_exact_amount_in("b", "OCEAN", 10 * E, "DT", 0, INF)
    assert state(snap) != state(p)
    assert snap.swap_exact_amount_in("b", "OCEAN", 10 * E, "DT", 0, INF).amount_out == (
        2292741528351587900
    )
    assert state(snap) == state(p)


def test_invariant_errors_detects():
    p = ocean_pool()
    p.records["DT"].balance += 1
    p.total_weight += 1
    p.share_balances["x"] = 1
    errors = p.invariant_errors()
    assert len(errors) == 3 and any("recorded balance" in e for e in errors)
    assert EXIT_FEE == 0


# --- properties ---------------------------------------------------------------------------
amounts = st.integers(min_value=10**6, max_value=10**30)
weights = st.integers(min_value=E, max_value=25 * E)
fees = st.integers(min_value=MIN_FEE, max_value=MAX_FEE)


def make_pool(b0, b1, w0, w1, fee) -> BPool:
    p = BPool(CTRL)
    p.bind(CTRL, "X", b0, w0)
    p.bind(CTRL, "Y", b1, w1)
    p.set_swap_fee(CTRL, fee)
    p.finalize(CTRL)
    return p


@settings(max_examples=150, deadline=None)
@given(amounts, amounts, weights, weights, fees, st.integers(1, 10**6), st.booleans(),
       st.booleans())
def test_swap_never_lowers_spot_price(b0, b1, w0, w1, fee, frac, exact_in, flip):
    p = make_pool(b0, b1, w0, w1, fee)
    ti, to = ("Y", "X") if flip else ("X", "Y")
    before = p.get_spot_price(ti, to)
    try:
        if exact_in:
            r = p.swap_exact_amount_in("s", ti, p.get_balance(ti) * frac // 2_000_000, to, 0, INF)
        else:
            r = p.swap_exact_amount_out("s", ti, INF, to, p.get_balance(to) * frac // 3_000_000,
                                        INF)
    except PoolError:
        assert state(p) == state(make_pool(b0, b1, w0, w1, fee))
        return
    assert r.spot_price_after == p.get_spot_price(ti, to) >= before
    assert p.invariant_errors() == []


@settings(max_examples=150, deadline=None)
@given(amounts, amounts, weights, weights, fees, st.integers(1, 10**24))
def test_join_then_exit_never_returns_more(b0, b1, w0, w1, fee, shares):
    """In real numbers a proportional join then exit returns exactly what was paid
    (``pAo/S·b`` both ways), so the contract's round-half-up ``bdiv``/``bmul`` decide: a
    token can come back a few wei above what was paid (see the next test). The ratios
    are off by at most 1/2 in 1e-18 and the amounts by 1/2 wei, so the excess is at most
    ``1 + (2·b + paid)/(2·1e18)``: 1 wei for balances below 1e18."""
    p = make_pool(b0, b1, w0, w1, fee)
    balances = p.balances()
    try:
        joined = p.join_pool("lp", shares, [INF, INF])
        exited = p.exit_pool("lp", shares, [0, 0])
    except PoolError:
        return
    paid = dict(joined.tokens_in)
    got = {t: a for t, _, a in exited.tokens_out}
    for t in paid:
        assert got[t] <= paid[t] + 1 + (2 * balances[t] + paid[t]) // (2 * E) + 1
    assert p.balance_of("lp") == 0 and p.total_supply == INIT_POOL_SUPPLY
    assert p.invariant_errors() == []


def test_join_then_exit_can_return_one_wei_more():
    """Found by hypothesis: the half-up rounding of ``joinPool``/``exitPool`` gives the LP
    1 wei of Y more than it paid (the contract does the same)."""
    p = make_pool(3484663, 1208009648016929710, E, E, MIN_FEE)
    joined = p.join_pool("lp", 14348591214271, [INF, INF])
    assert joined.tokens_in == (("X", 1), ("Y", 173332366223))
    exited = p.exit_pool("lp", 14348591214271, [0, 0])
    assert exited.tokens_out == (("X", "lp", 1), ("Y", "lp", 173332366224))
    # a join of 5,000 times the supply: Y comes back 2 wei above
    p = make_pool(10**6, 599889322331875, E, E, MIN_FEE)
    shares = 499999000976562428127288
    assert p.join_pool("lp", shares, [INF, INF]).tokens_in[1][1] == 2999440618624445413
    assert p.exit_pool("lp", shares, [0, 0]).tokens_out[1][2] == 2999440618624445415


@settings(max_examples=100, deadline=None)
@given(amounts, amounts, weights, weights, fees, st.integers(1, 10**6))
def test_single_join_then_exit_never_returns_more(b0, b1, w0, w1, fee, frac):
    p = make_pool(b0, b1, w0, w1, fee)
    try:
        a_in = p.get_balance("X") * frac // 2_000_000
        minted = p.joinswap_extern_amount_in("lp", "X", a_in, 0).pool_amount
        out = p.exitswap_pool_amount_in("lp", "X", minted, 0).amount_out
    except PoolError:
        return
    assert out <= a_in


def test_dust_swap_reverts_div_zero():
    """1 wei in rounds y to exactly BONE, so 0 out: the last check ``bdiv(aI, aO)``
    reverts ``ERR_DIV_ZERO`` (spec 3.4) and nothing changes."""
    p = ocean_pool()
    rejects(p, "ERR_DIV_ZERO", p.swap_exact_amount_in, "b", "OCEAN", 1, "DT", 0, INF)
    rejects(p, "ERR_MATH_APPROX", p.join_pool, "lp", 1, [INF, INF])
