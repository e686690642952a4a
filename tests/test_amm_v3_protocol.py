"""Uniswap V3 pools through the chain plug-in and ``sim.amm`` (spec amm.md 2.9-2.12, 5):
the same integers as the core, conservation, active liquidity, rejections."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.chain.transactions import Transaction
from defisim.protocols.amm.v3 import V3Pool
from defisim.protocols.amm.v3.liquidity_amounts import get_liquidity_for_amounts
from defisim.protocols.amm.v3.tick_math import get_sqrt_ratio_at_tick
from defisim.service import Simulation

E18 = 10**18
Q96 = 1 << 96
NEVER = 10**12
PARTIES = ("alice", "bob", "carol")


def make(**kw) -> tuple[Simulation, str]:
    """A 0.3 % A/B pool at price 1 (tick 0, spacing 60), three funded parties."""
    sim = Simulation(protocols=["amm"], **kw)
    for a in ("A", "B"):
        sim.create_asset(a, 18)
    for p in PARTIES:
        sim.create_party(p)
        for a in ("A", "B"):
            sim.mint_raw(p, a, 10**6 * E18)
    pid = sim.amm.create_v3_pool("A", "B", 3000, price=1.0)
    return sim, pid


def raw(sim, call, party, *args):
    return sim.send(Transaction(party, "amm", call, args))


def ledger_and_core(sim, pid):
    led = sim.chain.ledger
    core = sim.amm.protocol.pools[pid].core
    return ({k: v for k, v in led.balances.items() if v}, core.state())


def test_pool_id_price_and_view():
    sim, pid = make()
    assert pid == "V3:A/B/3000"
    v = sim.amm.pool_view(pid)
    assert (v.kind, v.sqrt_price_x96, v.tick, v.liquidity, v.tick_spacing, v.fee) == (
        "V3", Q96, 0, 0, 60, 0.003)
    assert v.price == 1.0
    # USDC (6) / WETH (18) at 2,000 USDC per WETH: token0 = USDC, price of USDC in WETH
    sim.create_asset("USDC", 6)
    sim.create_asset("WETH", 18)
    p2 = sim.amm.create_v3_pool("WETH", "USDC", 500, price=2000)
    v2 = sim.amm.pool_view(p2)
    assert v2.assets == ("USDC", "WETH")
    assert abs(v2.price_of("WETH") - 2000) < 1e-9
    assert sim.amm.price_to_tick(p2, v2.price) % 10 == 0
    assert abs(sim.amm.tick_to_price(p2, v2.tick) / v2.price - 1) < 1e-4


def test_same_integers_as_the_core():
    """Mint, swaps both ways, exact out, burn and collect via ``sim`` equal a core pool
    driven with the same calls (spec 4.5's pool: fee 3000, spacing 60, price 1)."""
    sim, pid = make()
    core = V3Pool(3000)
    core.initialize(Q96)
    L = get_liquidity_for_amounts(Q96, get_sqrt_ratio_at_tick(-600), get_sqrt_ratio_at_tick(600),
                                  10 * E18, 10 * E18)
    r = raw(sim, "v3_mint", "alice", pid, -600, 600, 10 * E18, 10 * E18, 0, 0, NEVER)
    ev = core.mint("alice", "alice", -600, 600, L)
    assert r.value == (L, ev.amount0, ev.amount1)
    r = raw(sim, "swap", "bob", pid, "A", "B", E18 // 3, 0, True, NEVER)
    ev = core.swap("bob", "bob", True, E18 // 3)
    assert r.value == (ev.amount0, -ev.amount1)
    r = raw(sim, "swap", "carol", pid, "B", "A", E18 // 7, 2 * E18, False, NEVER)  # exact out
    ev = core.swap("carol", "carol", False, -(E18 // 7))
    assert r.value == (ev.amount1, -ev.amount0) and -ev.amount0 == E18 // 7
    r = raw(sim, "v3_burn", "alice", pid, -600, 600, L // 2, 0, 0, NEVER, True)
    b = core.burn("alice", -600, 600, L // 2)
    c = core.collect("alice", "alice", -600, 600, 2**128 - 1, 2**128 - 1)
    assert r.value == (b.amount0, b.amount1, c.amount0, c.amount1)
    mine = sim.amm.protocol.pools[pid].core
    assert mine.state()[:9] == core.state()[:9]  # slot0 .. positions (owners are party names)
    assert (mine.balance0, mine.balance1) == (core.balance0, core.balance1)
    assert sim.chain.ledger.balance(("amm_reserve", "", "A", pid)) == core.balance0
    assert sim.chain.invariant_errors() == []


def test_fees_go_to_in_range_positions_by_liquidity():
    """A 1e18 exact-in swap pays 0.3 % = 3e15 fee; two in-range positions with liquidity
    1:3 are owed 1/4 and 3/4 of it (floor, Q128 fee growth), the out-of-range one 0."""
    sim, pid = make()
    for party, lo, up, liq in (("alice", -600, 600, 10**20), ("bob", -600, 600, 3 * 10**20),
                               ("carol", 600, 1200, 10**20)):
        r = raw(sim, "v3_mint", party, pid, lo, up, 100 * E18, 100 * E18, 0, 0, NEVER, liq)
        assert r.status == "EXECUTED" and r.value[0] == liq
    raw(sim, "swap", "carol", pid, "A", "B", E18, 0, True, NEVER)
    fees = {p.party: p.fees0 for p in sim.amm.positions(pool_id=pid)}
    fee = 3 * 10**15 / E18
    assert abs(fees["alice"] - fee / 4) < 1e-17 and abs(fees["bob"] - 3 * fee / 4) < 1e-17
    assert fees["carol"] == 0
    r = sim.amm.collect("alice", pid, -600, 600)  # not poked yet: nothing owed on the books
    assert r.value == (0.0, 0.0)
    r = sim.amm.burn_position("alice", pid, -600, 600, 0)  # poke, then collect all
    assert abs(r.value[2] - fee / 4) < 1e-17


REJECTIONS = [
    ("swap", ("bob", "V3:A/B/3000", "A", "B", 0, 0, True, NEVER), "AS"),
    ("swap", ("bob", "V3:A/B/3000", "A", "B", -5, 0, True, NEVER), "INVALID_ARGUMENT"),
    ("swap", ("bob", "V3:A/B/3000", "A", "B", E18, 0, True, NEVER, 2 * Q96), "SPL"),  # wrong side
    ("swap", ("bob", "V3:A/B/3000", "B", "A", E18, 0, True, NEVER, Q96 // 2), "SPL"),
    ("swap", ("bob", "V3:A/B/9999", "A", "B", E18, 0, True, NEVER), "UNKNOWN_POOL"),
    ("swap", ("bob", "V3:A/B/3000", "A", "B", E18, 10 * E18, True, NEVER), "Too little received"),
    ("swap", ("bob", "V3:A/B/3000", "A", "B", E18, 1, False, NEVER), "Too much requested"),
    ("swap", ("bob", "V3:A/B/3000", "A", "B", E18, 0, True, 0), "Transaction too old"),
    ("swap", ("nobody", "V3:A/B/3000", "A", "B", E18, 0, True, NEVER), "PARTY_NOT_FOUND"),
    ("swap", ("bob", "V3:A/B/3000", "A", "A", E18, 0, True, NEVER), "INVALID_ARGUMENT"),
    ("swap", ("dave", "V3:A/B/3000", "A", "B", E18, 0, True, NEVER),
     "TransferHelper: TRANSFER_FROM_FAILED"),
    ("v3_mint", ("bob", "V3:A/B/3000", 600, -600, E18, E18, 0, 0, NEVER), "TLU"),
    ("v3_mint", ("bob", "V3:A/B/3000", 600, 600, E18, E18, 0, 0, NEVER, 10**18), "TLU"),
    ("v3_mint", ("bob", "V3:A/B/3000", -600, 610, E18, E18, 0, 0, NEVER, 10**18), "V3_TICK_SPACING"),
    ("v3_mint", ("bob", "V3:A/B/3000", -887280, 887280, E18, E18, 0, 0, NEVER, 10**18), "TLM"),
    ("v3_mint", ("bob", "V3:A/B/3000", -600, 600, E18, E18, 2 * E18, 0, NEVER), "Price slippage check"),
    ("v3_mint", ("dave", "V3:A/B/3000", -600, 600, E18, E18, 0, 0, NEVER),
     "TransferHelper: TRANSFER_FROM_FAILED"),
    ("v3_mint", ("bob", "V3:A/B/3000", -600, 600, 0, 0, 0, 0, NEVER), "V3_MINT_ZERO"),
    ("v3_mint", ("bob", "V2:A/B", -600, 600, E18, E18, 0, 0, NEVER), "UNKNOWN_POOL"),
    ("v3_burn", ("bob", "V3:A/B/3000", -600, 600, 1, 0, 0, NEVER), "LS"),  # no position
    ("v3_burn", ("alice", "V3:A/B/3000", -600, 600, 10**30, 0, 0, NEVER), "LS"),
    ("v3_burn", ("alice", "V3:A/B/3000", -600, 600, 10**18, 10**30, 0, NEVER), "Price slippage check"),
    ("v3_burn", ("alice", "V3:A/B/3000", -600, 600, 10**18, 0, 0, 0), "Transaction too old"),
    ("v3_collect", ("alice", "V3:A/B/3000", 1.5, 600, 1, 1), "INVALID_ARGUMENT"),
]


def test_rejections_change_nothing():
    sim, pid = make()
    raw(sim, "v3_mint", "alice", pid, -600, 600, 10 * E18, 10 * E18, 0, 0, NEVER)
    sim.create_party("dave")  # holds nothing
    sim.forward_time(10)
    for call, args, reason in REJECTIONS:
        before = ledger_and_core(sim, pid)
        r = raw(sim, call, *args)
        assert (r.status, r.reason) == ("REJECTED", reason), (call, args, r)
        assert ledger_and_core(sim, pid) == before, (call, args)
        ev = sim.recent_events(1)[0]
        assert type(ev).__name__ == "TransactionRejected" and ev.reason == reason


def test_facade_bad_input_is_a_rejection_event():
    sim, pid = make()
    before = ledger_and_core(sim, pid)
    assert sim.amm.swap("bob", pid, "A", 0).reason == "INVALID_ARGUMENT"
    assert sim.amm.swap("bob", pid, "A", -1).reason == "INVALID_ARGUMENT"
    assert sim.amm.swap("bob", pid, "A", float("nan")).reason == "INVALID_ARGUMENT"
    assert sim.amm.swap("bob", "V3:nope", "A", 1).reason == "UNKNOWN_POOL"
    assert sim.amm.swap("bob", pid, "Z", 1).reason == "INVALID_ARGUMENT"
    assert sim.amm.swap("bob", pid, "A", 1, exact="sideways").reason == "INVALID_ARGUMENT"
    assert sim.amm.swap("bob", pid, "A", 1, price_limit=1.5).reason == "SPL"
    assert sim.amm.mint_position("bob", pid, 60, -60, 1, 1).reason == "TLU"
    assert sim.amm.mint_position("bob", pid, -60, 61, 1, 1).reason == "V3_TICK_SPACING"
    assert sim.amm.mint_position("bob", pid, -60, 60, 1, 1, liquidity=-3).reason == "INVALID_ARGUMENT"
    assert sim.amm.mint_position("bob", "V3:x", -60, 60, 1, 1).reason == "UNKNOWN_POOL"
    assert ledger_and_core(sim, pid) == before


def test_price_limit_stops_the_swap_there():
    sim, pid = make()
    sim.amm.mint_position("alice", pid, -6000, 6000, 1000, 1000)
    r = sim.amm.swap("bob", pid, "A", 500, price_limit=0.95)
    v = sim.amm.pool_view(pid)
    assert abs(v.price - 0.95) < 1e-12 and r.value[0] < 500


def test_mempool_priority_orders_v3_swaps():
    """Two equal V3 swaps in one block execute in tip order: the later, higher tip gets
    the better price, exactly what the core gives for that order."""
    sim, pid = make(execution="mempool", ordering="priority")
    raw(sim, "v3_mint", "alice", pid, -6000, 6000, 1000 * E18, 1000 * E18, 0, 0, NEVER)
    sim.forward_time(1)
    core = sim.amm.protocol.pools[pid].core.state()
    args = (pid, "A", "B", 10 * E18, 0, True, NEVER)
    victim = sim.send(Transaction("bob", "amm", "swap", args, max_priority_fee_per_gas=1))
    front = sim.send(Transaction("carol", "amm", "swap", args, max_priority_fee_per_gas=50))
    sim.forward_time(1)
    rv, rf = sim.receipt(victim.tx_id), sim.receipt(front.tx_id)
    assert rv.status == rf.status == "EXECUTED"
    assert rf.value[1] > rv.value[1]
    replica = V3Pool(3000)
    replica.initialize(Q96)
    replica.mint("alice", "alice", -6000, 6000, core[1])
    assert -replica.swap("carol", "carol", True, 10 * E18).amount1 == rf.value[1]
    assert -replica.swap("bob", "bob", True, 10 * E18).amount1 == rv.value[1]


def test_snapshot_restores_positions_and_balances():
    sim, pid = make()
    sim.amm.mint_position("alice", pid, -600, 600, 10, 10)
    fork = sim.snapshot()
    sim.amm.swap("bob", pid, "A", 1)
    fork.amm.swap("bob", pid, "B", 1)
    assert sim.amm.pool_view(pid).tick < 0 < fork.amm.pool_view(pid).tick
    assert sim.chain.invariant_errors() == fork.chain.invariant_errors() == []


ops_st = st.lists(
    st.tuples(
        st.sampled_from(["mint", "burn", "swap", "collect"]),
        st.sampled_from(PARTIES),
        st.sampled_from([(-600, 600), (-120, 60), (0, 1200), (-887220, 887220), (-1800, -600)]),
        st.integers(1, 10**21),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops_st)
def test_random_operations_conserve_tokens_and_active_liquidity(ops):
    """Random mints, burns, swaps (exact in/out) and collects with invariants checked at
    every block: every token is conserved on the ledger, and the pool's active liquidity
    equals the sum of the positions whose range holds the current tick."""
    sim, pid = make()
    supply = {a: sim.chain.ledger.supply[a] for a in ("A", "B")}
    for kind, party, (lo, up), amount, flag in ops:
        if kind == "mint":
            raw(sim, "v3_mint", party, pid, lo, up, amount, amount, 0, 0, NEVER)
        elif kind == "burn":
            raw(sim, "v3_burn", party, pid, lo, up, amount // 7, 0, 0, NEVER, flag)
        elif kind == "swap":
            a_in, a_out = ("A", "B") if flag else ("B", "A")
            raw(sim, "swap", party, pid, a_in, a_out, amount // 3 + 1, 2**200, amount % 2 == 0, NEVER)
        else:
            raw(sim, "v3_collect", party, pid, lo, up, amount, amount)
        sim.forward_time(1)  # closes the block: invariants checked (check_invariants=True)
        assert sim.chain.invariant_errors() == []
        v = sim.amm.pool_view(pid)
        active = sum(p.liquidity for p in sim.amm.positions(pool_id=pid)
                     if p.tick_lower <= v.tick < p.tick_upper)
        assert active == v.liquidity
    led = sim.chain.ledger
    for a in ("A", "B"):
        assert led.supply[a] == supply[a]
        held = sum(led.balance(("general", p, a, "")) for p in PARTIES)
        assert held + led.balance(("amm_reserve", "", a, pid)) == supply[a]
