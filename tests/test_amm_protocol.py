"""The AMM plug-in (``defisim.protocols.amm.protocol``) and ``sim.amm``: the V2 core's
numbers through the chain (spec amm.md 4.2), conservation and invariants at every
block, rejections with the contract's reasons, mempool ordering, forks, human units."""

from __future__ import annotations

import pytest

from defisim import Simulation
from defisim.chain import Transaction, TransactionRejected
from defisim.chain.ledger import general
from defisim.protocols.amm.protocol import (
    V2Burn,
    V2Mint,
    V2Swap,
    V2Sync,
    locked,
    reserve,
)
from defisim.protocols.amm.v2_router import get_amount_out

E18 = 10**18
PROTOCOLS = ["governance", "futures", "amm"]


def make(**kw) -> Simulation:
    sim = Simulation(protocols=PROTOCOLS, **kw)
    for a in ("A", "B", "C"):
        sim.create_asset(a, 18)
    for p in ("alice", "bob", "carol"):
        sim.create_party(p)
        for a in ("A", "B", "C"):
            sim.mint_raw(p, a, 1000 * E18)
    return sim


def raw(sim, call, party, *args):
    return sim.send(Transaction(party, "amm", call, args))


def holdings(sim) -> dict:
    return dict(sim.chain.ledger.balances), dict(sim.chain.ledger.supply)


def test_sequence_4_2_through_the_chain():
    """Spec 4.2 (fee on, feeTo = carol): the same integers as the core test."""
    sim = make()
    amm = sim.chain.protocol("amm")
    pid = amm.create_pair("B", "A")
    assert pid == "V2:A/B"
    amm.set_fee_to("carol")
    r = raw(sim, "add_liquidity", "alice", "A", "B", 10 * E18, 40 * E18, 0, 0, 10**9)
    assert r.value == (10 * E18, 40 * E18, 19999999999999999000)
    led = sim.chain.ledger
    assert led.balance(locked(pid, "V2:A/B-LP")) == 1000
    assert led.supply["V2:A/B-LP"] == 20 * E18
    sim.forward_time(12)
    r = raw(sim, "swap_exact_in", "bob", ("A", "B"), E18, 0, 10**9)
    assert r.value == (E18, 3626443575520596526)
    pair = amm.pools[pid].core
    assert pair.get_reserves()[:2] == (11 * E18, 36373556424479403474)
    sim.forward_time(12)
    r = raw(sim, "add_liquidity", "bob", "A", "B", 2 * E18, 7 * E18, 0, 0, 10**9)
    # the router deposits the optimal amounts: 2e18 A needs fewer than 7e18 B
    assert r.value[:2] == (2 * E18, 2 * E18 * 36373556424479403474 // (11 * E18))
    assert led.balance(general("carol", "V2:A/B-LP")) > 0  # the protocol fee in LP
    sim.forward_time(12)
    r = raw(sim, "swap_exact_out", "bob", ("B", "A"), 5 * 10**17, 10 * E18, 10**9)
    assert r.value[1] == 5 * 10**17
    sim.forward_time(12)
    r = raw(sim, "remove_liquidity", "alice", "A", "B", 9999999999999999500, 0, 0, 10**9)
    assert r.accepted
    assert led.balance(reserve(pid, "A")) == pair.balance0 == pair.reserve0
    assert led.balance(reserve(pid, "B")) == pair.balance1 == pair.reserve1
    assert led.supply["V2:A/B-LP"] == pair.total_supply
    assert amm.invariant_errors() == []
    sim.forward_time(1)  # block-end checks: conservation and the pool's invariants


def test_sequence_4_2_exact_amounts_with_core_deposits():
    """4.2 step 3 deposits exactly (2e18, 7e18) in the core; through the router with
    an exact-ratio deposit the first steps give the spec's integers."""
    sim = make()
    amm = sim.chain.protocol("amm")
    pid = amm.create_pair("A", "B")
    amm.set_fee_to("carol")
    raw(sim, "add_liquidity", "alice", "A", "B", 10 * E18, 40 * E18, 0, 0, 10**9)
    sim.forward_time(12)
    raw(sim, "swap_exact_in", "bob", ("A", "B"), E18, 0, 10**9)
    pair = amm.pools[pid].core
    assert pair.price0_cumulative_last == 249230249209671726169463823802564608
    assert pair.price1_cumulative_last == 15576890575604482885591488987660288
    assert pair.k_last == 4 * 10**38


def test_events_mirror_the_core():
    sim = make()
    amm = sim.amm
    pid = amm.create_pair("A", "B")
    cur = sim.event_cursor()
    raw(sim, "add_liquidity", "alice", "A", "B", 10 * E18, 40 * E18, 0, 0, 10**9)
    raw(sim, "swap_exact_in", "bob", ("B", "A"), 4 * E18, 0, 10**9)
    evs = [e for e in cur.read() if type(e) in (V2Mint, V2Sync, V2Swap, V2Burn)]
    out = get_amount_out(4 * E18, 40 * E18, 10 * E18)
    assert [type(e) for e in evs] == [V2Sync, V2Mint, V2Sync, V2Swap]
    assert evs[1].market == pid and evs[1].party == "alice"
    assert (evs[1].amount0, evs[1].amount1, evs[1].liquidity) == (10 * E18, 40 * E18, 20 * E18 - 1000)
    assert (evs[3].amount0_in, evs[3].amount1_in, evs[3].amount0_out, evs[3].amount1_out) == (0, 4 * E18, out, 0)
    assert (evs[2].reserve0, evs[2].reserve1) == (10 * E18 - out, 44 * E18)


def test_conservation_with_invariants_every_block():
    sim = make(check_invariants=True)
    sim.amm.create_pair("A", "B")
    sim.amm.create_pair("B", "C")
    totals = {a: sim.chain.ledger.supply[a] for a in "ABC"}
    sim.amm.add_liquidity("alice", "A", "B", 100, 200)
    sim.amm.add_liquidity("alice", "B", "C", 300, 100)
    rng = sim.rng("t")
    for i in range(40):
        sim.forward_time(1)
        a, b = ("A", "B") if i % 2 else ("B", "A")
        r = sim.amm.swap_exact_in(["bob", "carol"][i % 3 % 2], (a, b), float(rng.uniform(0.1, 5)))
        assert r.accepted, r
        if i % 7 == 0:
            r = sim.amm.add_liquidity("carol", "B", "C", 3, 1)
            assert r.accepted
    lp = sim.chain.ledger.balance(general("carol", "V2:B/C-LP"))
    assert raw(sim, "remove_liquidity", "carol", "B", "C", lp, 0, 0, 10**9).accepted
    sim.forward_time(1)
    assert {a: sim.chain.ledger.supply[a] for a in "ABC"} == totals
    for a in "ABC":
        assert sum(v for k, v in sim.chain.ledger.balances.items() if k[2] == a) == totals[a]


@pytest.mark.parametrize("call,args,reason", [
    ("swap_exact_in", ("bob", ("A", "B"), E18, 4 * E18, 10**9), "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"),
    ("swap_exact_in", ("bob", ("A", "B"), E18, 0, 0), "UniswapV2Router: EXPIRED"),
    ("swap_exact_out", ("bob", ("A", "B"), E18, 10**17, 10**9), "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT"),
    ("swap_exact_in", ("bob", ("A", "B"), 2000 * E18, 0, 10**9), "TransferHelper: TRANSFER_FROM_FAILED"),
    ("swap_exact_in", ("bob", ("A", "C"), E18, 0, 10**9), "[V2_NO_PAIR]"),
    ("swap_exact_in", ("bob", ("A", "Z"), E18, 0, 10**9), "UNKNOWN_ASSET"),
    ("swap_exact_in", ("bob", ("A",), E18, 0, 10**9), "UniswapV2Library: INVALID_PATH"),
    ("swap_exact_in", ("bob", "AB", E18, 0, 10**9), "INVALID_ARGUMENT"),
    ("swap_exact_in", ("bob", ("A", "B"), 1.5, 0, 10**9), "INVALID_ARGUMENT"),
    ("swap_exact_in", ("bob", ("A", "B"), True, 0, 10**9), "INVALID_ARGUMENT"),
    ("swap_exact_in", ("bob", ("A", "B"), -1, 0, 10**9), "INVALID_ARGUMENT"),
    ("swap_exact_in", ("mallory", ("A", "B"), E18, 0, 10**9), "PARTY_NOT_FOUND"),
    ("add_liquidity", ("bob", "A", "B", 2000 * E18, 8000 * E18, 0, 0, 10**9), "TransferHelper: TRANSFER_FROM_FAILED"),
    ("add_liquidity", ("bob", "A", "B", E18, 4 * E18, 0, 5 * E18, 10**9), "UniswapV2Router: INSUFFICIENT_B_AMOUNT"),
    ("add_liquidity", ("bob", "A", "C", E18, E18, 0, 0, 10**9), "[V2_NO_PAIR]"),
    ("remove_liquidity", ("bob", "A", "B", 1, 0, 0, 10**9), "ds-math-sub-underflow"),
    ("remove_liquidity", ("alice", "A", "B", E18, E18, 0, 10**9), "UniswapV2Router: INSUFFICIENT_A_AMOUNT"),
])
def test_rejections_change_nothing(call, args, reason):
    sim = make()
    sim.amm.create_pair("A", "B")
    raw(sim, "add_liquidity", "alice", "A", "B", 10 * E18, 40 * E18, 0, 0, 10**9)
    sim.forward_time(1)
    pair = sim.chain.protocol("amm").pools["V2:A/B"].core
    before, core_before = holdings(sim), pair.state()
    cur = sim.event_cursor()
    r = raw(sim, call, *args)
    assert not r.accepted and r.reason == reason, r
    evs = cur.read()
    assert len(evs) == 1 and type(evs[0]) is TransactionRejected and evs[0].reason == reason
    assert holdings(sim) == before and pair.state() == core_before
    sim.forward_time(1)


def test_mempool_priority_sandwich():
    """Two swaps in one block execute in tip order; the second gets the worse price."""
    sim = make(execution="mempool", ordering="priority")
    sim.amm.create_pair("A", "B")
    sim.amm.add_liquidity("alice", "A", "B", 100, 100)
    sim.forward_time(1)
    victim = sim.send(Transaction("bob", "amm", "swap_exact_in", (("A", "B"), 10 * E18, 0, 10**9),
                                  max_priority_fee_per_gas=1))
    front = sim.send(Transaction("carol", "amm", "swap_exact_in", (("A", "B"), 10 * E18, 0, 10**9),
                                 max_priority_fee_per_gas=50))
    sim.forward_time(1)
    rv, rf = sim.receipt(victim.tx_id), sim.receipt(front.tx_id)
    assert rv.accepted and rf.accepted
    first = get_amount_out(10 * E18, 100 * E18, 100 * E18)
    second = get_amount_out(10 * E18, 110 * E18, 100 * E18 - first)
    assert rf.value == (10 * E18, first)
    assert rv.value == (10 * E18, second) and second < first


def test_snapshot_fork_restores_state():
    sim = make()
    pid = sim.amm.create_pair("A", "B")
    sim.amm.add_liquidity("alice", "A", "B", 10, 40)
    fork = sim.snapshot()
    state = sim.chain.state_snapshot()
    view = sim.amm.pool_view(pid)
    sim.amm.swap_exact_in("bob", ("A", "B"), 1)
    assert sim.amm.pool_view(pid) != view
    assert fork.amm.pool_view(pid) == view
    sim.chain.restore_state(state)
    assert sim.amm.pool_view(pid) == view
    assert sim.amm.swap_exact_in("bob", ("A", "B"), 1).accepted
    assert fork.amm.swap_exact_in("bob", ("A", "B"), 1).accepted
    fork.forward_time(1)
    sim.forward_time(1)
    assert fork.amm.pool_view(pid) == sim.amm.pool_view(pid)


def test_facade_human_units_round_trip():
    sim = Simulation(protocols=PROTOCOLS)
    sim.create_asset("USDC", 6)
    sim.create_asset("WETH", 18)
    sim.create_party("lp")
    sim.mint("lp", "USDC", 300_000)
    sim.mint("lp", "WETH", 100)
    pid = sim.amm.create_pair("WETH", "USDC")
    assert pid == "V2:USDC/WETH" and sim.amm.pools() == [pid]
    r = sim.amm.add_liquidity("lp", "WETH", "USDC", 100, 200_000)
    assert r.value[:2] == (100.0, 200_000.0)
    v = sim.amm.pool_view(pid)
    assert v.reserves_raw == (200_000 * 10**6, 100 * E18) and v.reserves == (200_000.0, 100.0)
    assert v.price == pytest.approx(1 / 2000)
    q = sim.amm.quote_exact_in(("USDC", "WETH"), 2000)
    assert q == get_amount_out(2000 * 10**6, 200_000 * 10**6, 100 * E18) / E18
    assert sim.amm.pool_view(pid) == v  # the quote changed nothing
    r = sim.amm.swap_exact_in("lp", ("USDC", "WETH"), 2000, min_out=q * 0.999999)
    assert r.value == (2000.0, q)
    r = sim.amm.swap_exact_out("lp", ("WETH", "USDC"), 1000, max_in=1)
    assert r.accepted and r.value[1] == 1000.0
    lp = sim.balance("lp", pid + "-LP")
    r = sim.amm.remove_liquidity("lp", "WETH", "USDC", lp)
    assert r.accepted
    bad = sim.amm.swap_exact_in("lp", ("USDC", "WETH"), float("nan"))
    assert bad.reason == "INVALID_ARGUMENT"
    assert sim.amm.swap_exact_in("lp", ("USDC", "XYZ"), 1).reason == "UNKNOWN_ASSET"
    with pytest.raises(ValueError, match="unknown asset"):
        sim.amm.create_pair("USDC", "XYZ")
    with pytest.raises(ValueError, match="PAIR_EXISTS"):
        sim.amm.create_pair("USDC", "WETH")
    with pytest.raises(KeyError, match="unknown pool"):
        sim.amm.pool_view("nope")
    sim.forward_time(1)


def test_multi_hop_a_b_c():
    sim = make()
    sim.amm.create_pair("A", "B")
    sim.amm.create_pair("B", "C")
    raw(sim, "add_liquidity", "alice", "A", "B", 100 * E18, 200 * E18, 0, 0, 10**9)
    raw(sim, "add_liquidity", "alice", "B", "C", 300 * E18, 100 * E18, 0, 0, 10**9)
    c0 = sim.chain.ledger.balance(general("bob", "C"))
    x = get_amount_out(E18, 100 * E18, 200 * E18)
    y = get_amount_out(x, 300 * E18, 100 * E18)
    r = raw(sim, "swap_exact_in", "bob", ("A", "B", "C"), E18, y, 10**9)
    assert r.value == (E18, x, y)
    assert sim.chain.ledger.balance(general("bob", "C")) - c0 == y
    assert sim.chain.ledger.balance(reserve("V2:B/C", "B")) == 300 * E18 + x
    # exact out back C -> B -> A
    r = raw(sim, "swap_exact_out", "bob", ("C", "B", "A"), E18 // 2, 10 * E18, 10**9)
    assert r.accepted and r.value[-1] == E18 // 2
    assert sim.chain.protocol("amm").invariant_errors() == []
    sim.forward_time(1)


def test_invariants_catch_a_faucet_lp():
    sim = make()
    pid = sim.amm.create_pair("A", "B")
    raw(sim, "add_liquidity", "alice", "A", "B", 10 * E18, 40 * E18, 0, 0, 10**9)
    sim.mint_raw("bob", pid + "-LP", 1)
    errs = sim.chain.protocol("amm").invariant_errors()
    assert any("ledger supply" in e for e in errs)


def test_default_protocols_unchanged():
    from defisim.service import DEFAULT_PROTOCOLS
    assert "amm" not in DEFAULT_PROTOCOLS
